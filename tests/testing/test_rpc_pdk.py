"""Kong's PDK responder and RPC client, unit level: what a plugin sees for each call."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest

from kong_plugins.testing.kong.node import KongNode
from kong_plugins.testing.kong.pdk import (
    PdkContext,
    PdkResponder,
    PdkThrow,
    cjson_encode,
    fix_multi_map,
    lua_args,
    lua_value,
)
from kong_plugins.testing.kong.pdk_methods import PDK_PHASES, STEP_METHOD, step_method
from kong_plugins.testing.kong.request import KongRequest
from kong_plugins.testing.kong.rpc import RpcClient, RpcServerError, RpcTransportError
from kong_plugins.testing.kong.runner import PluginConfig, take_log_snapshot
from tests.testing.plugins.support import make_request

PDK = PdkResponder()


def ctx(phase: str = "access", req: KongRequest | None = None, node: KongNode | None = None) -> PdkContext:
    r = req or make_request()
    c = PdkContext(phase, r, node or KongNode(vault_env={"OPENAI_KEY": "sk-1"}), "plugin-id-1", "probe")
    if phase == "log":
        c.snapshot = take_log_snapshot(r)
        c.ngx_ctx = dict(c.snapshot.ngx_ctx)
    return c


def call(c: PdkContext, name: str, *args: Any) -> Any:
    return PDK.call(name, list(args), c)


# ------------------------------------------------------------------ the list as data


def test_pdk_list_holds_oss_names_only() -> None:
    for name in ("kong.client.get_consumer_groups", "kong.nginx.shared.get", "kong.enterprise_edition.jwe.encrypt"):
        assert name not in PDK_PHASES
    assert PDK_PHASES["kong.log.serialize"] == frozenset({"log"})
    assert "log" not in PDK_PHASES["kong.request.get_path"]
    assert "log" in PDK_PHASES["kong.request.get_headers"]
    assert PDK_PHASES["kong.response.get_raw_body"] == frozenset()


def test_typed_step_variants() -> None:
    assert step_method("kong.client.get_credential") == "plugin.StepCredential"
    assert step_method("kong.client.authenticate") == "plugin.StepCredential"
    assert step_method("kong.client.get_consumer") == "plugin.StepConsumer"
    assert step_method("kong.request.get_headers") == "plugin.StepMultiMap"
    assert step_method("kong.router.get_service") == "plugin.StepService"
    assert step_method("kong.node.get_memory_stats") == "plugin.StepMemoryStats"
    assert step_method("kong.request.get_header") == "plugin.Step"
    assert "plugin.StepError" not in STEP_METHOD.values()


# ------------------------------------------------------------------ Kong's responder rules


@pytest.mark.parametrize(
    "name", ["kong.client.get_consumer_groups", "kong.nginx.shared.get", "kong.response.get_raw_body_x"]
)
def test_unknown_name_answers_none_logs_and_records_a_violation(name: str) -> None:
    c = ctx()
    assert call(c, name) is None
    assert c.node.error_log.find(f"could not find pdk method: {name}", "error")
    assert len(c.node.violations) == 1 and name in c.node.violations[0]


@pytest.mark.parametrize(
    ("phase", "name"),
    [
        ("access", "kong.log.serialize"),
        ("response", "kong.service.request.set_header"),
        ("log", "kong.request.get_path"),
        ("log", "kong.request.get_method"),
        ("log", "kong.request.get_query"),
        ("log", "kong.client.get_ip"),
        ("log", "kong.nginx.get_var"),
        ("access", "kong.response.get_raw_body"),
        ("log", "kong.response.exit"),
    ],
)
def test_wrong_phase_throws(phase: str, name: str) -> None:
    with pytest.raises(PdkThrow, match="function cannot be called in"):
        call(ctx(phase), name, "x")


def test_bad_arguments_throw_like_lua() -> None:
    c = ctx()
    with pytest.raises(PdkThrow, match="code must be a number"):
        call(c, "kong.response.exit", "403")
    with pytest.raises(PdkThrow, match="between 100 and 599"):
        call(c, "kong.response.exit", 700)
    with pytest.raises(PdkThrow, match="between 400 and 599"):
        call(c, "kong.response.error", 200)
    with pytest.raises(PdkThrow, match="not a uuid"):
        call(c, "kong.client.load_consumer", "dev-user-1")
    with pytest.raises(PdkThrow, match="key must be a string"):
        call(c, "kong.log.set_serialize_value", 3, 1)
    with pytest.raises(PdkThrow):
        call(c, "kong.request.get_header")  # missing argument


def test_lua_value_shapes() -> None:
    assert lua_value({}) == [] and lua_value([]) == []
    assert lua_value({"a": {}, "b": None, "c": 2.0}) == {"a": [], "c": 2}
    assert lua_value([1, None, 3]) == {1: 1, 3: 3}
    assert lua_value({1: "a", 2: "b"}) == ["a", "b"]
    assert lua_value(b"raw") == "raw"
    assert lua_args([403, None, {"h": "v"}]) == [403]
    assert lua_args(None) == []


def test_multi_map_fix() -> None:
    assert fix_multi_map({"a": "1", "b": ["1", "2"], "flag": True}) == {"a": ["1"], "b": ["1", "2"], "flag": []}
    assert fix_multi_map({}) == {}
    assert fix_multi_map([]) == {}


def test_cjson_encoding() -> None:
    assert cjson_encode({"url": "a/b", "e": [], "n": 1}) == '{"url":"a\\/b","e":{},"n":1}'


# ------------------------------------------------------------------ request getters


def test_request_getters() -> None:
    req = make_request(
        method="GET",
        path="/v1/%7Emodels/./a/../b",
        query="x=1&x=2&flag&y=%20z",
        headers={"x-api-key": ["k"], "x-multi": ["1", "2"]},
    )
    c = ctx(req=req)
    assert call(c, "kong.request.get_method") == "GET"
    assert call(c, "kong.request.get_path") == "/v1/~models/b"
    assert call(c, "kong.request.get_raw_path") == "/v1/%7Emodels/./a/../b"
    assert call(c, "kong.request.get_path_with_query") == "/v1/~models/b?x=1&x=2&flag&y=%20z"
    assert call(c, "kong.request.get_query_arg", "x") == "1"
    assert call(c, "kong.request.get_query_arg", "flag") is True
    assert call(c, "kong.request.get_query") == {"x": ["1", "2"], "flag": [], "y": [" z"]}
    assert call(c, "kong.request.get_header", "X-API-Key") == "k"
    assert call(c, "kong.request.get_header", "x_api_key") == "k"
    assert call(c, "kong.request.get_headers")["x-multi"] == ["1", "2"]
    assert call(c, "kong.request.get_headers", 1) == {"content-type": ["application/json"]}
    assert call(c, "kong.request.get_body") == {"messages": []}
    assert call(c, "kong.request.get_start_time") == round(req.start_time * 1000)
    assert isinstance(call(c, "kong.request.get_start_time"), int)  # integral ms travel as msgpack ints
    assert call(c, "kong.nginx.get_var", "http_x_api_key") == "k"


@pytest.mark.parametrize(
    ("size", "arg", "expect"),
    [
        (100, None, "body"),
        (9000, None, "throw"),  # spilled to disk and no max: nil -> the bridge's packer throws
        (9000, 0, "body"),
        (9000, 100, "throw"),
        (9000, 10000, "body"),
    ],
)
def test_raw_body_spill_rules(size: int, arg: int | None, expect: str) -> None:
    c = ctx(req=make_request(body=b"x" * size))
    args = [] if arg is None else [arg]
    if expect == "throw":
        with pytest.raises(PdkThrow):
            call(c, "kong.request.get_raw_body", *args)
    else:
        body = call(c, "kong.request.get_raw_body", *args)
        assert isinstance(body, bytes) and len(body) == size


def test_client_and_router_getters() -> None:
    req = make_request()
    req.consumer = {"id": "c", "username": "u", "tags": []}
    req.credential = {"id": "cred", "key": "k"}
    c = ctx(req=req)
    assert call(c, "kong.client.get_consumer") == {"id": "c", "username": "u", "tags": []}
    assert call(c, "kong.client.get_credential")["id"] == "cred"
    assert call(c, "kong.router.get_route")["name"] == "chat"
    assert call(c, "kong.plugin.get_id") == "plugin-id-1"
    assert call(c, "kong.node.get_id") == c.node.node_id
    assert call(c, "kong.vault.get", "{vault://env/openai-key}") == "sk-1"
    assert call(c, "kong.vault.get", "{vault://env/missing}") is None
    call(c, "kong.client.authenticate", {"id": "c2"}, None)
    assert req.consumer == {"id": "c2"} and req.credential is None


# ------------------------------------------------------------------ effects


def test_response_headers_and_exit() -> None:
    req = make_request()
    c = ctx(req=req)
    call(c, "kong.response.set_header", "X-A", "1")
    call(c, "kong.response.add_header", "x-a", 2)
    call(c, "kong.response.set_headers", {"X-B": ["p", "q"], "x-c": "gone"})
    call(c, "kong.response.clear_header", "X-C")
    assert req.response.headers == {"x-a": ["1", "2"], "x-b": ["p", "q"]}
    call(c, "kong.response.exit", 401, {"message": "nope"}, {"WWW-Authenticate": "Key"})
    assert c.exited and req.exited and req.response.status == 401
    assert req.response.body == b'{"message":"nope"}'
    assert req.response.headers["content-type"] == ["application/json; charset=utf-8"]
    assert req.response.headers["www-authenticate"] == ["Key"] and req.response.headers["x-a"] == ["1", "2"]


def test_exit_with_text_body_keeps_given_content_type() -> None:
    req = make_request()
    call(ctx(req=req), "kong.response.exit", 200, "plain", {"Content-Type": "text/plain"})
    assert req.response.body == b"plain" and req.response.headers["content-type"] == ["text/plain"]


def test_error_follows_accept() -> None:
    req = make_request(headers={"accept": ["text/plain"]})
    call(ctx(req=req), "kong.response.error", 403, "Go away")
    assert req.response.body == b"Go away\nrequest_id: rid-1\n"
    assert req.response.headers["content-type"] == ["text/plain; charset=utf-8"]


def test_service_request_setters() -> None:
    req = make_request()
    c = ctx(req=req)
    call(c, "kong.service.request.set_header", "Host", "bedrock.internal")
    call(c, "kong.service.request.set_headers", {"x-amz-date": "now"})
    call(c, "kong.service.request.clear_header", "content-type")
    call(c, "kong.service.request.set_path", "/model/x/converse")
    call(c, "kong.service.request.set_query", {"b": "2", "a": ["1", "3"]})
    call(c, "kong.service.request.set_method", "PUT")
    call(c, "kong.service.request.set_raw_body", b"{}")
    call(c, "kong.service.request.enable_buffering")
    call(c, "kong.service.set_target", "127.0.0.1", 9999)
    call(c, "kong.service.set_timeouts", 1000, 2000, 3000)
    call(c, "kong.service.set_retries", 0)
    up = req.upstream
    assert up is not None
    assert up.host_header == "bedrock.internal" and up.headers["host"] == ["bedrock.internal"]
    assert up.headers["x-amz-date"] == ["now"] and "content-type" not in up.headers
    assert (up.path, up.query, up.method, up.body) == ("/model/x/converse", "a=1&a=3&b=2", "PUT", b"{}")
    assert (up.host, up.port) == ("127.0.0.1", 9999) and req.buffered
    assert req.service_options["timeouts"] == {"connect": 1000, "write": 2000, "read": 3000}
    assert req.service_options["retries"] == 0
    with pytest.raises(PdkThrow):
        call(c, "kong.service.set_target", "h", "80")


def test_set_headers_with_an_empty_table_clears_the_header() -> None:
    # ngx.req.set_header(name, {}) removes the header, like clear_header (lua-resty-core)
    req = make_request()
    req.headers["x-consumer-id"] = ["c-1"]
    c = ctx(req=req)
    call(c, "kong.service.request.set_headers", {"x-consumer-id": [], "x-amz-date": "now"})
    up = req.upstream
    assert up is not None
    assert "x-consumer-id" not in up.headers and "x-consumer-id" not in req.headers
    assert up.headers["x-amz-date"] == ["now"]


def test_service_response_needs_buffering() -> None:
    from kong_plugins.testing.kong.request import ServiceResponse

    req = make_request()
    req.service_response = ServiceResponse(200, {"content-type": ["application/json"]}, b'{"ok":true}')
    c = ctx("response", req)
    with pytest.raises(PdkThrow, match="buffered"):
        call(c, "kong.service.response.get_raw_body")
    req.buffered = True
    assert call(c, "kong.service.response.get_raw_body") == b'{"ok":true}'
    assert call(c, "kong.service.response.get_body") == {"ok": True}
    assert call(c, "kong.service.response.get_headers") == {"content-type": ["application/json"]}
    assert call(c, "kong.service.response.get_status") == 200


def test_ctx_shared_round_trip() -> None:
    c = ctx()
    call(c, "kong.ctx.shared.set", "k", {"a": {}, "n": 1.0})
    assert call(c, "kong.ctx.shared.get", "k") == {"a": [], "n": 1}
    call(c, "kong.nginx.set_ctx", "x", "y")
    assert call(c, "kong.nginx.get_ctx", "x") == "y"


def test_serialize_values_nest_and_serialize_redacts() -> None:
    req = make_request(headers={"authorization": ["Bearer t"], "proxy-authorization": ["Basic x"]})
    req.consumer = {"id": "c", "username": "u"}
    c = ctx(req=req)
    call(c, "kong.log.set_serialize_value", "ai.bedrock.usage.prompt_tokens", 10)
    call(c, "kong.log.set_serialize_value", "ai.bedrock.meta", {"request_model": "m"})
    call(c, "kong.log.set_serialize_value", "ai.bedrock.meta", {"x": 1}, {"mode": "add"})  # exists: ignored
    call(c, "kong.log.set_serialize_value", "nothere.x", 1, {"mode": "replace"})  # absent: ignored
    assert req.serialize_values == {"ai": {"bedrock": {"usage": {"prompt_tokens": 10}, "meta": {"request_model": "m"}}}}
    text = call(ctx("log", req), "kong.log.serialize")
    assert isinstance(text, str)
    data = json.loads(text)
    assert data["request"]["headers"]["authorization"] == "REDACTED"
    assert data["request"]["headers"]["proxy-authorization"] == "REDACTED"
    assert data["ai"]["bedrock"] == {"usage": {"prompt_tokens": 10}, "meta": {"request_model": "m"}}
    assert "nothere" not in data
    for key in ("request", "upstream_uri", "response", "latencies", "route", "service", "consumer", "client_ip"):
        assert key in data
    assert data["started_at"] == int(req.start_time * 1000)


def test_log_levels_reach_the_error_log() -> None:
    c = ctx()
    call(c, "kong.log.err", "bad ", "thing ", 3)
    call(c, "kong.log.warn", "careful")
    call(c, "kong.log", "plain")
    assert c.node.error_log.find("[probe] bad thing 3", "error")
    assert c.node.error_log.find("careful", "warn") and c.node.error_log.find("plain", "notice")


def test_log_snapshot_getters() -> None:
    req = make_request(headers={"x-in": ["v"]})
    req.response.headers["x-out"] = ["w"]
    req.response.status = 201
    c = ctx("log", req)
    assert call(c, "kong.request.get_header", "x-in") == "v"
    assert call(c, "kong.response.get_header", "x-out") == "w"
    assert call(c, "kong.response.get_status") == 201
    assert call(c, "kong.response.get_headers") == {"x-out": ["w"]}


# ------------------------------------------------------------------ RPC client


@pytest.fixture
def fake_server() -> Iterator[tuple[str, list[Any]]]:
    """A minimal msgpack server: answers `plugin.Echo` and errors, sleeps on `plugin.Hang`."""
    path = f"/tmp/kr-{id(object())}.sock"
    seen: list[Any] = []
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        unpacker = msgpack.Unpacker(raw=False)
        with conn:
            while not stop.is_set():
                data = conn.recv(4096)
                if not data:
                    return
                unpacker.feed(data)
                for _, msgid, method, params in unpacker:
                    seen.append((method, params))
                    if method == "plugin.Hang":
                        stop.wait(2)
                        return
                    if method == "plugin.Fail":
                        conn.sendall(msgpack.packb([1, msgid, "no plugin instance #7", None]))
                    else:
                        conn.sendall(msgpack.packb([2, "serverPid", 1]) + msgpack.packb([1, msgid, None, params[0]]))

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield path, seen
    stop.set()
    listener.close()
    Path(path).unlink(missing_ok=True)


def test_rpc_wire_format_errors_and_timeouts(fake_server: tuple[str, list[Any]]) -> None:
    path, seen = fake_server
    client = RpcClient(path, timeout=0.3)
    assert client.call("plugin.Echo", {"a": b"\x00bin"}) == {"a": b"\x00bin"}
    assert client.call("plugin.CloseInstance", 4) == 4
    assert seen[1] == ("plugin.CloseInstance", [4])  # a bare integer param, wrapped in the params array
    with pytest.raises(RpcServerError, match="no plugin instance #7"):
        client.call("plugin.Fail", {})
    with pytest.raises(RpcTransportError, match="no data"):
        client.call("plugin.Hang", {})
    assert client.stats.snapshot()["by_method"]["plugin.Echo"] == 1
    client.close()
    with pytest.raises(RpcTransportError, match="trying to connect"):
        RpcClient("/tmp/definitely-not-here.sock").call("plugin.Echo", {})


def test_plugin_config_carries_kongs_extra_keys() -> None:
    cfg = PluginConfig(
        "pid", "token-meter", {"a": 1, "b": None}, seq=3, route_id="r", instance_name="tm-1"
    ).kong_config()
    assert cfg == {
        "a": 1,
        "b": None,  # an unset field is cjson.null in Kong's config table
        "route_id": "r",
        "plugin_instance_name": "tm-1",
        "__plugin_id": "pid",
        "__ws_id": cfg["__ws_id"],
        "__key__": f"plugins:token-meter:r::::{cfg['__ws_id']}",  # DAO:cache_key fast path
        "__seq__": 3,
    }


def test_upstream_request_changes_are_what_later_getters_see() -> None:
    """nginx has one request: ngx.req.set_header/set_uri_args/set_method/set_body_data are seen
    by later kong.request.* getters too (only path, scheme and target are upstream-only)."""
    big = b"x" * 20000
    req = make_request(query="a=1", headers={"x-api-key": ["k"]}, body=big)
    c = ctx(req=req)
    with pytest.raises(PdkThrow):
        call(c, "kong.request.get_raw_body")  # spilled
    call(c, "kong.service.request.clear_header", "x-api-key")  # key-auth hide_credentials
    call(c, "kong.service.request.set_header", "authorization", "AWS4 sig")
    call(c, "kong.service.request.set_raw_query", "b=2")
    call(c, "kong.service.request.set_raw_body", b'{"converse":true}')
    call(c, "kong.service.request.set_path", "/model/m/converse")
    assert call(c, "kong.request.get_header", "x-api-key") is None
    assert call(c, "kong.request.get_header", "authorization") == "AWS4 sig"
    assert call(c, "kong.request.get_raw_query") == "b=2"
    assert call(c, "kong.request.get_raw_body") == b'{"converse":true}'  # in memory now
    assert call(c, "kong.request.get_header", "content-length") == "17"
    assert call(c, "kong.request.get_path") == "/v1/chat/completions"
    up = req.upstream
    assert up is not None and up.path == "/model/m/converse" and "x-api-key" not in up.headers


def test_every_pdk_name_a_python_phase_can_call_is_emulated() -> None:
    from kong_plugins.testing.kong.pdk import REGISTRY
    from kong_plugins.testing.kong.pdk_methods import NO_RPC, PLUGIN_PHASES

    http_phases = PLUGIN_PHASES - {"preread"}
    missing = [n for n, ph in PDK_PHASES.items() if ph & http_phases and n not in NO_RPC and n not in REGISTRY]
    assert missing == []
