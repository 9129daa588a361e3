"""The HTTP shell: keep-alive, pipelining, chunked request bodies, control surface, the command form."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request

from kong_plugins.testing.bedrock_emulator import BedrockEmulator

from .helpers import SONNET, user


def _http(url: str, path: str, body: dict | None = None, method: str = "POST"):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def _responses(sock: socket.socket, count: int) -> list[bytes]:
    data = b""
    heads = []
    while len(heads) < count:
        chunk = sock.recv(65536)
        assert chunk
        data += chunk
        while b"\r\n\r\n" in data:
            head, _, rest = data.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            if len(rest) < length:
                break
            heads.append(head)
            data = rest[length:]
    return heads


def test_keep_alive_and_pipelining(emulator):
    host, port = emulator.url.removeprefix("http://").split(":")
    request = f"POST /_emulator/calls HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request * 3)  # three requests in one write
        heads = _responses(sock, 3)
        sock.sendall(request)  # the connection stays open
        heads += _responses(sock, 1)
    assert all(h.startswith(b"HTTP/1.1 200") for h in heads) and len(heads) == 4


def test_chunked_request_body_is_accepted(emulator):
    host, port = emulator.url.removeprefix("http://").split(":")
    body = json.dumps({"error": "Throttling", "count": 1}).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    head = f"POST /_emulator/inject HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + chunked)
        assert _responses(sock, 1)[0].startswith(b"HTTP/1.1 200")
    assert emulator.app.injector.rules()[0]["error"] == "ThrottlingException"


def test_unknown_route_is_recorded_404(emulator):
    host, port = emulator.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET /nothing HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        head = _responses(sock, 1)[0]
    assert head.startswith(b"HTTP/1.1 404") and b"UnknownOperationException" in head
    assert emulator.calls()[0]["operation"] == "Unknown"


def test_http_control_surface(emulator):
    client = emulator.client(max_attempts=1)
    rules = _http(
        emulator.url, "/_emulator/inject", {"error": "ThrottlingException", "count": 1, "operation": "Converse"}
    )
    assert rules["rules"][0]["remaining"] == 1
    try:
        client.converse(modelId=SONNET, messages=user("x"))
    except client.exceptions.ThrottlingException:
        pass
    client.converse(modelId=SONNET, messages=user("x"))
    calls = _http(emulator.url, "/_emulator/calls", method="GET")
    assert [c["status"] for c in calls] == [429, 200]
    assert calls[1]["body"] == {"messages": user("x")}
    assert calls[1]["headers"]["authorization"] == "REDACTED"
    _http(emulator.url, "/_emulator/latency", {"latency_ms": 5, "per_token_ms": 0})
    assert emulator.app.timing.latency_ms == 5
    _http(emulator.url, "/_emulator/reset", {})
    assert emulator.calls() == [] and emulator.app.timing.latency_ms == 0


def test_calls_filter_and_reset_isolation(emulator):
    client = emulator.client()
    client.converse(modelId=SONNET, messages=user("x"))
    client.count_tokens(modelId=SONNET, input={"converse": {"messages": user("x")}})
    assert [c["operation"] for c in emulator.calls("CountTokens")] == ["CountTokens"]
    assert emulator.calls()[0]["model_id"] == SONNET
    emulator.reset()
    assert emulator.calls() == []


def test_library_form_context_manager_and_stop():
    with BedrockEmulator(latency_ms=1) as emu:
        resp = emu.client().converse(modelId=SONNET, messages=user("x"))
        assert resp["metrics"]["latencyMs"] >= 1
        url = emu.url
    host, port = url.removeprefix("http://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        raise AssertionError("still listening after stop()")
    except OSError:
        pass


def test_command_form_serves_and_prints_its_port():
    proc = subprocess.Popen(
        [sys.executable, "-m", "kong_plugins.testing.bedrock_emulator", "--port", "0", "--latency-ms", "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        url = line.strip().rsplit(" ", 1)[1]
        assert _http(url, "/_emulator/latency", {})["latency_ms"] == 2
        stats = _http(url, "/_emulator/stats", method="GET")
        assert stats["requests"] >= 1
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_client_disconnect_mid_stream_leaves_the_server_healthy(emulator):
    from .helpers import model_path

    emulator.set_latency(latency_ms=0, per_token_ms=20)  # a slow stream
    host, port = emulator.url.removeprefix("http://").split(":")
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from kong_plugins.testing.bedrock_emulator import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY

    path = model_path(SONNET, "converse-stream")
    raw = json.dumps({"messages": user("hello EMU-WORDS-50")}).encode()
    req = AWSRequest(method="POST", url=emulator.url + path, data=raw, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY), "bedrock", "us-east-1").add_auth(req)
    head = "".join(f"{k}: {v}\r\n" for k, v in req.headers.items())
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {len(raw)}\r\n{head}\r\n".encode() + raw
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 200")
    emulator.set_latency(0, 0)
    assert emulator.client().converse(modelId=SONNET, messages=user("x"))["stopReason"] == "end_turn"


def test_garbage_request_line_gets_400_and_close(emulator):
    host, port = emulator.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        data = sock.recv(1000)
        assert data.startswith(b"HTTP/1.1 400") and sock.recv(1000) == b""


def test_streams_work_with_per_token_latency(emulator):
    emulator.set_latency(latency_ms=5, per_token_ms=1)
    resp = emulator.client().converse_stream(modelId=SONNET, messages=user("hi"))
    events = list(resp["stream"])
    metadata = events[-1]["metadata"]
    assert metadata["metrics"]["latencyMs"] == 5 + metadata["usage"]["outputTokens"]


def test_expect_100_continue(emulator):
    host, port = emulator.url.removeprefix("http://").split(":")
    body = b'{"error": "Throttling"}'
    head = f"POST /_emulator/inject HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
    head += "Expect: 100-continue\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode())
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        assert _responses(sock, 1)[0].startswith(b"HTTP/1.1 200")


def test_command_form_stops_when_its_parent_dies(tmp_path):
    """A parent killed with SIGKILL (e.g. a test timeout) must not leave an orphan emulator."""
    import os
    import signal
    import time

    pid_file = tmp_path / "pid"
    launcher = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-m', 'kong_plugins.testing.bedrock_emulator', '--port', '0'],"
        " stdout=subprocess.PIPE, text=True)\n"
        "p.stdout.readline()\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", launcher])
    try:
        deadline = time.monotonic() + 20
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        child = int(pid_file.read_text())
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(child, signal.SIGTERM)
    raise AssertionError("the emulator outlived its parent")
