"""Kong's own upstream failures (no answer from the model service): the client gets a clean
502/504 JSON answer with nothing of the upstream in it.

Whether Kong 3.9.3 runs `response` handlers after a failed buffered subrequest is not settled
(the harness answers with Kong's error handler, as a truncated subrequest does); when it does,
bedrock-proxy renders the same statuses in the client's format (tests/bedrock_proxy/
test_bedrock_errors.py::test_kong_own_upstream_errors). See docs/decisions/0043.
"""

import socket
from pathlib import Path

import requests

from kong_plugins.testing.kong.fixtures import offline_env

CONFIGS = Path(__file__).parent / "configs"
HELLO = {"messages": [{"role": "user", "content": "hi"}]}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(gw):
    return requests.post(gw.url + "/v1/chat/completions", json=HELLO, headers={"X-API-Key": "guest-key"}, timeout=30)


def test_unreachable_upstream_is_a_clean_502(gateway_factory, emulator):
    port = closed_port()
    env = offline_env(emulator.url) | {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": f"http://127.0.0.1:{port}"}
    r = ask(gateway_factory(CONFIGS / "gateway.yaml", env=env))
    assert r.status_code == 502
    assert r.headers["Content-Type"].startswith("application/json")
    assert str(port) not in r.text and "127.0.0.1" not in r.text


def test_upstream_timeout_is_a_clean_504(gateway_factory, emulator):
    gw = gateway_factory(CONFIGS / "short-timeout.yaml", env=offline_env(emulator.url))
    emulator.set_latency(latency_ms=2500)
    r = ask(gw)
    assert r.status_code == 504
    assert r.headers["Content-Type"].startswith("application/json") and "amazonaws" not in r.text
