"""The HTTP front: Kong's answers to bad input, routing, streaming vs buffered proxying,
upstream failures and the access log."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from kong_plugins.testing.kong.fixtures import offline_env
from kong_plugins.testing.kong.gateway import Gateway
from tests.testing.upstreams import EchoUpstream

CONFIGS = Path(__file__).parent / "configs"
ROOT = Path(__file__).resolve().parents[2]
PROBE = str(Path(__file__).parent / "plugins" / "probe.py")


@pytest.fixture(scope="module")
def upstream() -> Iterator[EchoUpstream]:
    up = EchoUpstream()
    yield up
    up.stop()


@pytest.fixture(scope="module")
def gw(upstream: EchoUpstream) -> Iterator[Gateway]:
    hosts = {"echo.internal": upstream.url, "slow.internal": upstream.url}
    g = Gateway(CONFIGS / "harness-basic.yaml", upstream_hosts=hosts, plugin_scripts=(), max_body_size=1024)
    g.start()
    yield g
    g.stop()
    assert g.violations() == []


def raw(gw: Gateway, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and b'"request_id"' in b"".join(chunks):
                break
        return b"".join(chunks)


def kong_error(resp: requests.Response, status: int, message: str) -> None:
    assert resp.status_code == status
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert resp.json() == {"message": message, "request_id": resp.headers["X-Kong-Request-Id"]}


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /open HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST /open HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
        b"POST /open HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    ],
)
def test_malformed_http_gets_kongs_400(gw: Gateway, request_bytes: bytes) -> None:
    answer = raw(gw, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and b" 400 " in head.split(b"\r\n")[0]
    assert json.loads(body)["message"] == "Bad request"
    assert b"Traceback" not in answer


def test_unsupported_http_version_is_505(gw: Gateway) -> None:
    head, _, body = raw(gw, b"GET / HTTP/9.9\r\nHost: x\r\n\r\n").partition(b"\r\n\r\n")
    assert b" 505 " in head.split(b"\r\n")[0] and json.loads(body)["message"] == "HTTP version not supported"


def test_unknown_route_is_404(gw: Gateway) -> None:
    kong_error(requests.get(gw.url + "/nowhere"), 404, "no Route matched with those values")


def test_wrong_method_is_kongs_404_not_405(gw: Gateway) -> None:
    kong_error(requests.delete(gw.url + "/keyed/x"), 404, "no Route matched with those values")


def test_body_over_the_limit_is_413(gw: Gateway) -> None:
    kong_error(requests.post(gw.url + "/open", data=b"x" * 2048), 413, "Payload too large")


def test_chunked_body_over_the_limit_is_413(gw: Gateway) -> None:
    kong_error(requests.post(gw.url + "/open", data=iter([b"x" * 1000, b"y" * 1000])), 413, "Payload too large")


def test_chunked_body_is_read_whole_and_proxied(gw: Gateway, upstream: EchoUpstream) -> None:
    r = requests.post(gw.url + "/open", data=iter([b"hello ", b"world"]))
    assert r.status_code == 200 and r.json()["body"] == "hello world"


# -- routing and proxying ------------------------------------------------------------------


def test_strip_path_and_service_path(gw: Gateway) -> None:
    assert requests.get(gw.url + "/keyed/a/b?q=1", headers={"apikey": "bob-key"}).json()["path"] == "/a/b?q=1"
    assert requests.get(gw.url + "/open/x").json()["path"] == "/open/x"


def test_regex_route(gw: Gateway) -> None:
    assert requests.get(gw.url + "/items/42").status_code == 200
    assert requests.get(gw.url + "/items/abc").status_code == 404


def test_kong_headers_upstream_and_downstream(gw: Gateway) -> None:
    r = requests.get(gw.url + "/open", headers={"X-Forwarded-For": "10.0.0.1"})
    seen = r.json()["headers"]
    assert seen["host"] == "echo.internal"
    assert seen["x-forwarded-for"] == "10.0.0.1, 127.0.0.1" and seen["x-real-ip"] == "127.0.0.1"
    assert seen["x-kong-request-id"] == r.headers["X-Kong-Request-Id"]
    assert r.headers["Via"] == "1.1 kong/3.9.3" and "X-Kong-Upstream-Latency" in r.headers
    assert r.headers["X-Upstream"] == "echo"


def test_keep_alive_serves_several_requests_on_one_connection(gw: Gateway) -> None:
    with requests.Session() as s:
        assert [s.get(gw.url + "/open").status_code for _ in range(3)] == [200, 200, 200]


def test_streaming_pass_through_forwards_chunks_as_they_arrive(gw: Gateway, upstream: EchoUpstream) -> None:
    upstream.gate.clear()
    with requests.get(gw.url + "/open/stream", stream=True, timeout=10) as r:
        assert r.headers["Transfer-Encoding"] == "chunked"
        lines = r.iter_lines()
        assert next(lines) == b"data: first"  # arrived while the upstream still holds the second
        upstream.gate.set()
        assert [line for line in lines if line] == [b"data: second"]


def test_upstream_refused_is_502(gw: Gateway, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    g = Gateway(
        CONFIGS / "harness-basic.yaml", upstream_hosts={"echo.internal": f"127.0.0.1:{port}"}, plugin_scripts=()
    )
    with g:
        kong_error(requests.get(g.url + "/open"), 502, "An invalid response was received from the upstream server")


def test_upstream_read_timeout_is_504(gw: Gateway) -> None:
    kong_error(requests.get(gw.url + "/slow/sleep/1"), 504, "The upstream server is timing out")


# -- access log -----------------------------------------------------------------------------


def test_one_access_log_line_per_request_without_secrets(gw: Gateway) -> None:
    before = len(gw.access_log())
    requests.post(gw.url + "/keyed/x?apikey=alice-key", data=b'{"secret prompt": 1}')
    requests.get(gw.url + "/nowhere")
    entries = gw.access_log()[before:]
    assert [(e["route"], e["status"], e["consumer"]) for e in entries] == [("keyed", 200, "alice"), (None, 404, None)]
    first = entries[0]
    assert set(first) >= {"ts", "request_id", "route", "service", "consumer", "role", "model", "status", "latencies"}
    assert set(first["latencies"]) == {"kong", "upstream", "total"}
    assert first["path"] == "/keyed/x"
    text = json.dumps(entries)
    assert "alice-key" not in text and "secret prompt" not in text


# -- with the real plugin servers ------------------------------------------------------------


def test_a_response_handler_buffers_the_answer(gateway_factory: Any, upstream: EchoUpstream, tmp_path: Path) -> None:
    doc = yaml.safe_load((CONFIGS / "harness-basic.yaml").read_text())
    doc["services"][0]["routes"][1]["plugins"] = [{"name": "probe", "config": {"mode": "noop"}}]  # route `open`
    path = tmp_path / "probe.yaml"
    path.write_text(yaml.safe_dump(doc))
    g = gateway_factory(path, upstream_hosts={"echo.internal": upstream.url}, plugin_scripts=[PROBE])
    upstream.gate.set()
    r = requests.get(g.url + "/open/stream", timeout=10)
    assert r.status_code == 200 and "Transfer-Encoding" not in r.headers
    assert r.headers["Content-Length"] == str(len(r.content)) and r.text == "data: first\n\ndata: second\n\n"
    streamed = requests.get(g.url + "/keyed/stream", headers={"apikey": "bob-key"}, timeout=10)
    assert streamed.headers["Transfer-Encoding"] == "chunked"  # the probe does not apply there


def test_reload_restarts_plugin_instances_with_the_new_config(
    gateway_factory: Any, upstream: EchoUpstream, tmp_path: Path
) -> None:
    doc = yaml.safe_load((CONFIGS / "harness-basic.yaml").read_text())
    route = doc["services"][0]["routes"][1]  # `open`
    route["plugins"] = [{"name": "probe", "config": {"mode": "mark", "tag": "one"}}]
    path = tmp_path / "probe.yaml"
    path.write_text(yaml.safe_dump(doc))
    g = gateway_factory(path, upstream_hosts={"echo.internal": upstream.url}, plugin_scripts=[PROBE])
    upstream.gate.set()
    assert requests.get(g.url + "/open").headers.get("x-probe-one") == "ran"
    route["plugins"][0]["config"]["tag"] = "two"
    path.write_text(yaml.safe_dump(doc))
    g.load(path)
    r = requests.get(g.url + "/open")
    assert r.headers.get("x-probe-two") == "ran" and "x-probe-one" not in r.headers


BAD_BODIES = [
    (b"", {}),
    (b"{not json", {"Content-Type": "application/json"}),
    (b"<xml/>", {"Content-Type": "application/xml"}),
    (b'{"messages": "nope"}', {"Content-Type": "application/json"}),
]


def test_bad_bodies_get_a_clear_json_error(gateway_factory: Any, emulator: Any) -> None:
    g = gateway_factory(ROOT / "kong-local.yaml", env=offline_env(emulator.url))
    for body, headers in BAD_BODIES:
        r = requests.post(g.url + "/v1/chat", data=body, headers={"X-API-Key": "dev-key-123", **headers}, timeout=20)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["message"]
        assert "Traceback" not in r.text


def test_a_stalled_client_does_not_block_others(gw: Gateway) -> None:
    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as stalled:
        stalled.sendall(b"POST /open HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
        assert requests.get(gw.url + "/open", timeout=5).status_code == 200


def test_client_going_away_mid_stream_leaves_the_gateway_serving(gw: Gateway, upstream: EchoUpstream) -> None:
    upstream.gate.clear()
    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as s:
        s.sendall(b"GET /open/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"data: first" in s.recv(65536) or b"data: first" in s.recv(65536)
    upstream.gate.set()
    assert requests.get(gw.url + "/open", timeout=5).status_code == 200
    assert any(e.get("path") == "/open/stream" for e in gw.access_log())  # still logged


def test_consumer_scoped_config_applies_after_key_auth_identified_the_consumer(
    gateway_factory: Any, upstream: EchoUpstream, tmp_path: Path
) -> None:
    doc = yaml.safe_load((CONFIGS / "harness-basic.yaml").read_text())
    doc["plugins"] = [
        {"name": "probe", "route": "keyed", "config": {"mode": "mark", "tag": "route"}},
        {"name": "probe", "route": "keyed", "consumer": "alice", "config": {"mode": "mark", "tag": "alice"}},
    ]
    path = tmp_path / "scoped.yaml"
    path.write_text(yaml.safe_dump(doc))
    g = gateway_factory(path, upstream_hosts={"echo.internal": upstream.url}, plugin_scripts=[PROBE])
    alice = requests.get(g.url + "/keyed/x", headers={"apikey": "alice-key"})
    bob = requests.get(g.url + "/keyed/x", headers={"apikey": "bob-key"})
    assert alice.headers.get("x-probe-alice") == "ran" and "x-probe-route" not in alice.headers
    assert bob.headers.get("x-probe-route") == "ran" and "x-probe-alice" not in bob.headers


REWRITER = str(Path(__file__).parent / "plugins" / "rewriter.py")


def test_rewrite_runs_before_routing_for_global_configs_only(
    gateway_factory: Any, upstream: EchoUpstream, tmp_path: Path
) -> None:
    doc = yaml.safe_load((CONFIGS / "harness-basic.yaml").read_text())
    doc["plugins"] = [
        {"name": "rewriter", "config": {"tag": "global"}},
        {"name": "rewriter", "route": "open", "config": {"tag": "route"}},
    ]
    path = tmp_path / "rewrite.yaml"
    path.write_text(yaml.safe_dump(doc))
    g = gateway_factory(path, upstream_hosts={"echo.internal": upstream.url}, plugin_scripts=[REWRITER])
    seen = requests.get(g.url + "/open").json()["headers"]
    assert seen["x-rewritten"] == "global"  # the route-scoped config never runs rewrite


def test_kong_error_bodies_follow_the_accept_header(gw: Gateway) -> None:
    r = requests.get(gw.url + "/nowhere", headers={"Accept": "text/plain"})
    assert r.status_code == 404 and r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert r.text.startswith("no Route matched with those values")
