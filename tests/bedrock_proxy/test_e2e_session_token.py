"""Secrets the gateway sets upstream (the AWS session token with IRSA/STS credentials, the Gemini
key) reach AWS/Google but never Kong's log serializer (file-log, http-log)."""

import json
import time
from pathlib import Path

import requests
import yaml

from kong_plugins.testing.kong.fixtures import offline_env

CONFIG = Path(__file__).parent / "configs" / "gateway.yaml"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKENvalue0123456789"


def with_file_log(tmp_path):
    config = yaml.safe_load(CONFIG.read_text())
    config["plugins"] = [{"name": "file-log", "config": {"path": str(tmp_path / "file.log")}}]
    path = tmp_path / "kong.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def read_log(gw, tmp_path):
    log = tmp_path / "file.log"
    for _ in range(100):  # the log phase runs after the response, in the background
        gw.wait_idle()
        if log.exists() and log.read_text().strip():
            break
        time.sleep(0.05)
    return log.read_text()


def test_session_token_is_sent_but_never_logged(gateway_factory, emulator, tmp_path):
    gw = gateway_factory(with_file_log(tmp_path), env=offline_env(emulator.url) | {"AWS_SESSION_TOKEN": TOKEN})

    r = requests.post(
        gw.url + "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "hi"}]},
        headers={"X-API-Key": "guest-key"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert "x-amz-security-token" in {h.lower() for h in emulator.calls()[0]["headers"]}
    text = read_log(gw, tmp_path)
    line = json.loads(text.splitlines()[-1])
    assert TOKEN not in text
    assert line["request"]["headers"]["x-amz-security-token"] == "REDACTED"


def test_gemini_key_is_sent_but_never_logged(gateway_factory, emulator, tmp_path):
    from kong_plugins.testing.bedrock_emulator import TEST_GEMINI_API_KEY

    gw = gateway_factory(with_file_log(tmp_path), env=offline_env(emulator.url))
    r = requests.post(
        gw.url + "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "hi"}]},
        headers={"X-API-Key": "partner-key"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    text = read_log(gw, tmp_path)
    assert TEST_GEMINI_API_KEY not in text
    assert json.loads(text.splitlines()[-1])["request"]["headers"]["x-goog-api-key"] == "REDACTED"
