"""Section 7 fidelity checklist, against real kong-pdk plugin servers over their Unix socket."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from kong_plugins.testing.kong.rpc import RpcClient
from kong_plugins.testing.kong.runner import run_log, run_phase
from tests.testing.plugins.support import Probe, Recorder, make_request


@pytest.fixture(scope="module")
def probe() -> Iterator[Probe]:
    """One shared probe server for tests that do not wedge or kill it."""
    p = Probe(rpc_timeout=2.0).start()
    yield p
    p.stop()


@pytest.fixture
def fresh_probe() -> Iterator[Probe]:
    p = Probe(rpc_timeout=0.5).start()
    yield p
    p.stop()


def report(req) -> dict:
    return json.loads(req.response.headers["x-probe-report"][0])


def test_phase_handler_wrapped_raise_answers_500_in_openai_format_and_server_keeps_serving(probe: Probe) -> None:
    req = make_request()
    run_phase([probe.step(mode="wrapped_raise")], "access", req, probe.node)
    assert req.exited and req.response.status == 500
    body = json.loads(req.response.body)
    assert body["error"]["type"] == "api_error"
    assert "boom" not in req.response.body.decode()  # the error text never reaches the client

    nxt = make_request()
    run_phase([probe.step(mode="mark", tag="after")], "access", nxt, probe.node)
    assert nxt.response.headers["x-probe-after"] == ["ran"]
    assert probe.node.violations == []


@pytest.mark.parametrize("mode", ["gevent", "threads"])
def test_raw_raise_before_first_pdk_call_wedges_the_server_and_kong_fails_open(mode: str) -> None:
    fresh_probe = Probe(rpc_timeout=0.5, mode=mode).start()
    try:
        _wedge(fresh_probe)
    finally:
        fresh_probe.stop()


def _wedge(fresh_probe: Probe) -> None:
    node = fresh_probe.node
    req = make_request()
    run_phase([fresh_probe.step(mode="raise_before")], "access", req, node)
    # Kong waited for the socket timeout, logged "no data" and went on as if the plugin did nothing
    assert not req.exited and not req.plugin_error
    assert node.error_log.find("[kong] [probe] no data", "error")

    # every later HandleEvent hangs, for any instance: the server is wedged
    later = make_request()
    run_phase([fresh_probe.step(mode="mark", tag="later")], "access", later, node)
    assert "x-probe-later" not in later.response.headers
    assert len(node.error_log.find("no data", "error")) == 2


def test_raw_raise_after_a_pdk_call_stalls_only_that_event(fresh_probe: Probe) -> None:
    node = fresh_probe.node
    req = make_request()
    run_phase([fresh_probe.step(mode="raise_after")], "access", req, node)
    assert not req.exited and node.error_log.find("no data", "error")

    later = make_request()
    run_phase([fresh_probe.step(mode="mark", tag="later")], "access", later, node)
    assert later.response.headers["x-probe-later"] == ["ran"]


def test_exit_in_access_skips_later_plugins_and_keeps_access_headers(probe: Probe) -> None:
    before, after = Recorder("key-auth", 1250), Recorder("late", 900)
    req = make_request()
    steps = [after, probe.step(mode="exit", tag="probe"), before]
    run_phase(steps, "access", req, probe.node)
    assert before.ran == ["access"] and after.ran == []
    assert req.exited and req.response.status == 403 and req.response.source == "exit"
    assert json.loads(req.response.body) == {"message": "blocked by probe"}
    assert req.response.headers["content-type"] == ["application/json; charset=utf-8"]
    assert req.response.headers["x-probe"] == ["exit"]
    # a plugin with a response handler applies: Kong would have buffered the proxying
    assert req.buffered


def test_kong_response_error_gives_kongs_error_body(probe: Probe) -> None:
    req = make_request()
    run_phase([probe.step(mode="error")], "access", req, probe.node)
    assert req.response.status == 429
    assert json.loads(req.response.body) == {"message": "Too many requests", "request_id": "rid-1"}


def test_exit_in_response_replaces_body_and_later_response_handlers_do_not_run(probe: Probe) -> None:
    from kong_plugins.testing.kong.request import ServiceResponse
    from kong_plugins.testing.kong.runner import apply_service_response

    later = Recorder("late", 10)
    req = make_request()
    req.buffered = True
    req.service_response = ServiceResponse(201, {"content-type": ["text/plain"]}, b"hello upstream")
    apply_service_response(req)
    run_phase([later, probe.step(response_mode="replace")], "response", req, probe.node)
    assert req.exited and req.response.status == 201
    assert req.response.body == b"HELLO UPSTREAM"
    assert req.response.headers["x-replaced"] == ["yes"]
    assert later.ran == []


def test_service_request_setters_throw_in_response_phase_and_kong_answers_500(probe: Probe) -> None:
    from kong_plugins.testing.kong.request import ServiceResponse

    req = make_request()
    req.buffered = True
    req.service_response = ServiceResponse(200, {}, b"ok")
    run_phase([probe.step(response_mode="set_upstream_header")], "response", req, probe.node)
    assert req.plugin_error and req.response.status == 500
    assert json.loads(req.response.body)["message"] == "An unexpected error occurred"
    assert probe.node.error_log.find("kong.service.request.set_header: function cannot be called in response phase")


@pytest.mark.parametrize(
    ("getter", "works"),
    [
        ("kong.request.get_path", False),
        ("kong.request.get_method", False),
        ("kong.request.get_query", False),
        ("kong.client.get_ip", False),
        ("kong.log.serialize", True),
        ("kong.client.get_consumer", True),
        ("kong.request.get_headers", True),
        ("kong.response.get_status", True),
        ("kong.nginx.req_start_time", True),
    ],
)
def test_log_timer_getter_limits(probe: Probe, getter: str, works: bool) -> None:
    req = make_request()
    req.consumer = {"id": "c-1", "username": "dev-user-1"}
    before = len(probe.node.error_log.find("probe-getter-returned"))
    run_log([probe.step(log_mode="getter:" + getter)], req, probe.node)
    returned = len(probe.node.error_log.find("probe-getter-returned")) - before
    assert returned == (1 if works else 0)
    if not works:
        assert probe.node.error_log.find(f"{getter}: function cannot be called in timer phase")
        assert not req.exited  # in log the failure is only logged


def test_log_runs_on_a_snapshot_with_serialize_json_string(probe: Probe) -> None:
    req = make_request(headers={"authorization": ["Bearer secret-token"], "x-probe-in": ["hi"]})
    req.consumer = {"id": "c-1", "username": "dev-user-1"}
    steps = [probe.step(mode="upstream", log_mode="serialize")]
    run_phase(steps, "access", req, probe.node)
    assert req.upstream is not None and req.upstream.host_header == "other.example"
    assert req.upstream.path == "/rewritten" and req.upstream.query == "a=1" and req.buffered

    run_log(steps, req, probe.node)
    line = probe.node.error_log.find("probe-serialize ")[-1]
    data = json.loads(line.split("probe-serialize ", 1)[1])
    assert data["request"]["headers"]["authorization"] == "REDACTED"
    assert data["ai"]["probe"]["usage"]["total_tokens"] == 7
    assert data["consumer"]["username"] == "dev-user-1"
    assert data["response"]["headers"]["x-from-access"] == "kept"


def test_log_snapshot_bridged_getters(probe: Probe) -> None:
    req = make_request(headers={"x-probe-in": ["hi"]})
    req.consumer = {"id": "c-1", "username": "dev-user-1"}
    step = probe.step(mode="upstream", log_mode="snapshot", tag="snap")
    run_phase([step], "access", req, probe.node)
    run_log([step], req, probe.node)
    line = probe.node.error_log.find("probe-snapshot ")[-1]
    seen = json.loads(line.split("probe-snapshot ", 1)[1])
    assert seen["header"] == "hi"
    assert seen["headers"]["dict"]["x-probe-in"] == {"list": ["str"]}
    assert seen["status"] == 200 and seen["resp_header"] == "kept"
    assert seen["shared"] == {"n": 1} and seen["ctx"] == "v"
    assert seen["consumer"] == "dev-user-1" and seen["route"] == "chat"
    assert seen["start"] is True and seen["plugin_id"] == step.config.id


def test_config_change_starts_a_new_instance_and_closes_the_old(fresh_probe: Probe) -> None:
    node = fresh_probe.node
    first = fresh_probe.step(seq=1, plugin_id="p-1", mode="mark", tag="one")
    req = make_request()
    run_phase([first], "access", req, node)
    run_phase([first], "access", make_request(), node)
    assert fresh_probe.stats()["by_method"]["plugin.StartInstance"] == 1

    sent = req.ctx_shared["probe_config"]
    assert sent["route_id"] == "r-1" and sent["tag"] == "one"
    assert "plugin_instance_name" not in sent
    cfg = fresh_probe.plugin.rpc.call("plugin.GetStatus", {})["Plugins"]["probe"]["Instances"][0]["Config"]
    assert cfg["__plugin_id"] == "p-1" and cfg["__seq__"] == 1 and cfg["__key__"].startswith("plugins:probe:r-1:")

    second = fresh_probe.step(seq=2, plugin_id="p-1", mode="mark", tag="two")
    req2 = make_request()
    run_phase([second], "access", req2, node)
    assert req2.response.headers["x-probe-two"] == ["ran"]
    by_method = fresh_probe.stats()["by_method"]
    assert by_method["plugin.StartInstance"] == 2 and by_method["plugin.CloseInstance"] == 1
    status = fresh_probe.plugin.rpc.call("plugin.GetStatus", {})
    assert [i["Config"]["__seq__"] for i in status["Plugins"]["probe"]["Instances"]] == [2]


def test_unknown_pdk_names_are_violations_and_answer_none(probe: Probe) -> None:
    req = make_request()
    run_phase([probe.step(mode="unknown")], "access", req, probe.node)
    assert report(req) == {"groups": None, "shared": None}
    assert probe.node.error_log.find("could not find pdk method: kong.client.get_consumer_groups")
    assert any("kong.nginx.shared.get" in v for v in probe.node.violations)
    probe.node.violations.clear()


def test_no_plugin_instance_after_server_restart_is_retried(fresh_probe: Probe) -> None:
    node = fresh_probe.node
    step = fresh_probe.step(mode="mark", tag="x")
    run_phase([step], "access", make_request(), node)
    old_pid = fresh_probe.server.pid
    fresh_probe.server.kill()
    fresh_probe.server.wait_ready(10)
    # wait for the respawned process (the old socket file may still be there for a moment)
    for _ in range(200):
        if fresh_probe.server.pid not in (None, old_pid):
            break
        import time

        time.sleep(0.05)
    fresh_probe.server.wait_ready(10)
    req = make_request()
    run_phase([step], "access", req, node)
    assert req.response.headers["x-probe-x"] == ["ran"]
    assert node.error_log.find("no plugin instance #0", "warn")
    assert fresh_probe.stats()["by_method"]["plugin.StartInstance"] == 2
    assert fresh_probe.server.spawns == 2


def test_start_instance_failure_fails_closed_then_rpc_failure_fails_open(fresh_probe: Probe) -> None:
    node = fresh_probe.node
    warm = fresh_probe.step(mode="mark", tag="warm")
    run_phase([warm], "access", make_request(), node)
    fresh_probe.server.stop()

    cold = make_request()
    run_phase([fresh_probe.step(mode="mark", tag="cold")], "access", cold, node)
    assert cold.response.status == 500
    assert json.loads(cold.response.body) == {"message": "An unexpected error occurred", "request_id": "rid-1"}
    assert node.error_log.find("starting instance: trying to connect")

    warmed = make_request()
    run_phase([warm], "access", warmed, node)  # instance cached: HandleEvent fails -> fail open
    assert not warmed.exited and "x-probe-warm" not in warmed.response.headers


def test_fixups_multimap_bytes_and_empty_tables(probe: Probe) -> None:
    req = make_request(query="a=1&a=2&flag&b=x", headers={"x-one": ["1"], "x-two": ["a", "b"]})
    req.uri_captures = {"unnamed": [], "named": {}}
    run_phase([probe.step(mode="fixups")], "access", req, probe.node)
    seen = report(req)
    assert seen["headers"]["dict"]["x-two"] == {"list": ["str", "str"]}
    assert seen["headers_value"]["x-one"] == ["1"]
    assert seen["query"] == {"a": ["1", "2"], "flag": [], "b": ["x"]}
    assert seen["raw_body_type"] == "bytes"
    assert seen["empty_dict"] == []  # an empty Lua table comes back as an array
    assert seen["nested"] == {"a": [], "b": [1, 2, "x"]}
    assert seen["captures"] == {"unnamed": [], "named": []}
    assert seen["missing_header"] is None and seen["consumer"] is None
    assert seen["start_time_ms"] is True and seen["path"] == "/v1/chat/completions"
    # the typed Step variants Kong uses for these getters went over the wire
    by_method = probe.stats()["by_method"]
    assert by_method["plugin.StepMultiMap"] >= 4 and by_method["plugin.StepConsumer"] >= 1


def test_spilled_request_body_needs_get_raw_body_0(probe: Probe) -> None:
    big = b"x" * (probe.node.client_body_buffer_size + 1)
    req = make_request(body=big)
    run_phase([probe.step(mode="raw_body")], "access", req, probe.node)
    assert req.response.status == 500 and req.plugin_error

    ok = make_request(body=big)
    run_phase([probe.step(mode="raw_body_0")], "access", ok, probe.node)
    assert report(ok) == {"len": len(big), "type": "bytes"}


def test_serialize_outside_log_throws(probe: Probe) -> None:
    req = make_request()
    run_phase([probe.step(mode="serialize_in_access")], "access", req, probe.node)
    assert req.response.status == 500
    assert probe.node.error_log.find("kong.log.serialize: function cannot be called in access phase")


def test_vault_env_reference(probe: Probe) -> None:
    req = make_request()
    run_phase([probe.step(mode="vault")], "access", req, probe.node)
    assert report(req) == {"v": "s3cret"}


def test_rewrite_runs_only_for_global_configs(probe: Probe) -> None:
    scoped = Recorder("scoped", 2000, frozenset({"rewrite"}))
    scoped.is_global = False  # type: ignore[attr-defined]
    glob = Recorder("global", 1000, frozenset({"rewrite"}))
    run_phase([scoped, glob], "rewrite", make_request(), probe.node)
    assert scoped.ran == [] and glob.ran == ["rewrite"]


def test_rpc_stats_count_calls_and_pdk_methods(fresh_probe: Probe) -> None:
    run_phase([fresh_probe.step(mode="mark", tag="s")], "access", make_request(), fresh_probe.node)
    stats = fresh_probe.stats()
    assert stats["by_method"] == {"plugin.StartInstance": 1, "plugin.HandleEvent": 1, "plugin.Step": 2}
    assert stats["by_pdk_method"] == {"kong.response.set_header": 1, "kong.ctx.shared.set": 1}
    assert stats["events"] == {"access": 1}


def test_keepalive_pool_reuses_connections(probe: Probe) -> None:
    client = RpcClient(probe.server.socket, timeout=2)
    for _ in range(3):
        client.call("plugin.GetStatus", {})
    assert len(client._pool) == 1
    client.close()


def test_chain_order_is_priority_then_name_descending_and_log_reaches_bundled_steps(probe: Probe) -> None:
    journal: list[str] = []
    steps = [
        Recorder("acl", 950, journal=journal),
        Recorder("key-auth", 1250, journal=journal),
        Recorder("b-same", 940, journal=journal),
        Recorder("a-same", 940, journal=journal),
    ]
    req = make_request()
    run_phase(steps, "access", req, probe.node)
    assert journal == ["key-auth:access", "acl:access", "b-same:access", "a-same:access"]
    journal.clear()
    run_log([*steps, probe.step(log_mode="serialize", tag="order")], req, probe.node)
    assert journal == ["key-auth:log", "acl:log", "b-same:log", "a-same:log"]
    assert probe.node.error_log.find("probe-serialize ")


def test_lua_style_server_returns_value_err_pairs() -> None:
    lua = Probe(env={"PROBE_LUA_STYLE": "1"}).start()
    try:
        req = make_request(headers={"x-probe-in": ["hi"]})
        run_phase([lua.step(mode="returns")], "access", req, lua.node)
        assert report(req) == {"value": ["hi", None]}  # kong-pdk's default: a (value, err) tuple
    finally:
        lua.stop()
    assert lua.node.error_log.find("lua-style return values are used")


def test_python_style_server_returns_the_value(probe: Probe) -> None:
    req = make_request(headers={"x-probe-in": ["hi"]})
    run_phase([probe.step(mode="returns")], "access", req, probe.node)
    assert report(req) == {"value": "hi"}
