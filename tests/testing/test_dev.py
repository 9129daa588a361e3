"""`make dev` (python -m kong_plugins.testing.dev) as a user runs it: start, curl, 401 with a
wrong key, SIGTERM leaves no process and no socket behind."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from kong_plugins.testing.dev import READY_LINE, is_offline, local_keys

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("env", "aws_dir", "offline"),
    [
        ({}, False, True),
        ({"GATEWAY_OFFLINE": "1", "AWS_ACCESS_KEY_ID": "AKIA..."}, True, True),
        ({"AWS_ACCESS_KEY_ID": "AKIA..."}, False, False),
        ({"AWS_PROFILE": "dev"}, False, False),
        ({}, True, False),
        ({"GATEWAY_OFFLINE": "0"}, False, False),
    ],
)
def test_offline_switch(tmp_path: Path, env: dict[str, str], aws_dir: bool, offline: bool) -> None:
    if aws_dir:
        (tmp_path / ".aws").mkdir()
    assert is_offline(env, tmp_path) is offline


def test_local_keys_are_documented_in_kong_local_yaml() -> None:
    keys = {user: (role, key) for user, role, key in local_keys(ROOT / "kong-local.yaml")}
    assert keys["dev-user-1"] == ("developer", "dev-key-123")
    assert set(keys) == {
        "admin-user",
        "dev-user-1",
        "dev-user-2",
        "analyst-user",
        "ops-user",
        "guest-user",
        "partner-user",
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie not yet reaped by its (exited) parent counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_make_dev_serves_the_seed_curl_and_stops_cleanly() -> None:
    env = {**os.environ, "GATEWAY_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kong_plugins.testing.dev", "--port", "0", "--emulator-port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or []], daemon=True).start()
    out: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not any(READY_LINE in line for line in out):
            assert time.monotonic() < deadline, "".join(out)
            assert proc.poll() is None, "".join(out)
            try:
                out.append(lines.get(timeout=1))
            except queue.Empty:
                pass
        time.sleep(0.5)  # the rest of the banner
        while not lines.empty():
            out.append(lines.get())
        text = "".join(out)
        url = re.search(r"gateway ready in [0-9.]+s: (http://127\.0\.0\.1:\d+)", text)
        assert url, text
        base = url.group(1)
        assert "curl -X POST" in text and "dev-key-123" in text and "OFFLINE" in text
        pids = sorted({int(p) for p in re.findall(r"pid (\d+)", text)})
        sockets = re.findall(r"socket (\S+\.sock)", text)
        assert len(pids) == 4 and len(sockets) == 3  # three plugin servers and the emulator

        r = requests.post(
            base + "/v1/chat",
            headers={"Content-Type": "application/json", "X-API-Key": "dev-key-123"},
            data='{"messages":[{"role":"user","content":"Hello"}]}',
            timeout=30,
        )
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["message"]["content"]
        wrong = requests.post(base + "/v1/chat", headers={"X-API-Key": "nope"}, json={"messages": []}, timeout=10)
        assert wrong.status_code == 401 and wrong.json()["message"] == "Unauthorized"

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [p for p in pids if _alive(p)] == []
        assert [s for s in sockets if Path(s).exists()] == []
        time.sleep(0.3)
        while not lines.empty():
            out.append(lines.get())
        access = [line for line in out if line.startswith("{") and '"route"' in line]
        assert any('"consumer":"dev-user-1"' in line and '"status":200' in line for line in access)
        assert not any("dev-key-123" in line for line in access)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
