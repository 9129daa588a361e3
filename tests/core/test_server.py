"""core.server's patched kong-pdk event loop (gevent mode), driven with raw RPC calls the way
Kong 3.9.3 makes them: every call on its own connection (keepalive off), so a Step never
arrives on the connection of its HandleEvent."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from kong_plugins.testing.kong.node import ErrorLog
from kong_plugins.testing.kong.plugin_server import PluginServer
from kong_plugins.testing.kong.rpc import RpcClient, RpcServerError

EVENTS = str(Path(__file__).parents[1] / "testing" / "plugins" / "events.py")


class Server:
    def __init__(self, server: PluginServer) -> None:
        self.server = server
        self.rpc = RpcClient(server.socket, timeout=5, keepalive=False)
        self.instances: dict[str, int] = {}

    def instance(self, mode: str) -> int:
        if mode not in self.instances:
            started = self.rpc.call("plugin.StartInstance", {"Name": "events", "Config": json.dumps({"mode": mode})})
            self.instances[mode] = started["Id"]
        return self.instances[mode]

    def handle(self, mode: str) -> dict[str, Any]:
        return self.rpc.call("plugin.HandleEvent", {"InstanceId": self.instance(mode), "EventName": "access"})

    def step(self, eid: int, data: Any, method: str = "plugin.Step") -> dict[str, Any]:
        return self.rpc.call(method, {"EventId": eid, "Data": data})


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="ks-", dir="/tmp") as prefix:
        ps = PluginServer.for_script(EVENTS, prefix, mode="gevent", error_log=ErrorLog()).start()
        try:
            yield Server(ps)
        finally:
            ps.stop()


def call(reply: dict[str, Any]) -> tuple[str, list[Any]]:
    data = reply["Data"]
    assert isinstance(data, dict), data
    return data["Method"], data["Args"]


def test_pdk_calls_round_trip_with_each_message_on_its_own_connection(server: Server) -> None:
    first = server.handle("calls")
    assert call(first) == ("kong.request.get_header", ["a"])
    second = server.step(first["EventId"], "x", method="plugin.StepMultiMap")  # any Step* variant
    assert second["EventId"] == first["EventId"]
    assert call(second) == ("kong.request.get_header", ["b:x"])
    assert server.step(first["EventId"], None)["Data"] == "ret"
    with pytest.raises(RpcServerError, match="event id .* not found"):  # the event is gone
        server.step(first["EventId"], None)


def test_interleaved_events_keep_their_own_state(server: Server) -> None:
    one, two = server.handle("calls"), server.handle("calls")
    assert one["EventId"] != two["EventId"]
    assert call(server.step(two["EventId"], "two")) == ("kong.request.get_header", ["b:two"])
    assert call(server.step(one["EventId"], "one")) == ("kong.request.get_header", ["b:one"])
    assert server.step(one["EventId"], None)["Data"] == "ret"
    assert server.step(two["EventId"], None)["Data"] == "ret"


def test_events_that_wait_on_io_run_concurrently_and_answer_on_any_connection(server: Server) -> None:
    """Handlers that sleep (gevent) before and between PDK calls: the hub resumes them, and
    each answers the greenlet that is waiting for its next message."""

    def one(tag: str) -> list[Any]:
        first = server.handle("sleeps")
        second = server.step(first["EventId"], tag)
        return [call(first), call(second), server.step(first["EventId"], None)["Data"]]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, [f"t{i}" for i in range(16)]))
    for i, (first, second, last) in enumerate(results):
        assert first == ("kong.request.get_header", ["a"])
        assert second == ("kong.request.get_header", [f"b:t{i}"])
        assert last == "ret"


def test_exit_is_sent_without_waiting_and_ends_the_event(server: Server) -> None:
    reply = server.handle("exit_first")
    assert call(reply) == ("kong.response.exit", [403, "no", {"X-Events": "exit"}])
    with pytest.raises(RpcServerError, match="not found"):  # not left in the events table
        server.step(reply["EventId"], None)


def test_a_pdk_call_after_exit_raises_in_the_handler_instead_of_hanging(server: Server) -> None:
    first = server.handle("call_after_exit")
    assert call(server.step(first["EventId"], None))[0] == "kong.response.exit"
    report = server.handle("report")
    assert "PDKException: kong.request.get_header called after kong.response.exit" in call(report)[1][0]
    assert server.step(report["EventId"], None)["Data"] == "ret"


@pytest.mark.parametrize("mode", ["raise_before", "raise_after"])
def test_an_exception_in_a_handler_is_answered_and_the_server_keeps_serving(server: Server, mode: str) -> None:
    # kong-pdk never answers (before the first PDK call it even wedges the server): Kong waits
    # 60 s. Answered with an error, Kong logs it and goes on without the plugin at once.
    with pytest.raises(RpcServerError, match="boom"):
        reply = server.handle(mode)
        server.step(reply["EventId"], None)
    later = server.handle("calls")
    assert call(later)[0] == "kong.request.get_header"
    server.step(later["EventId"], "y")
    assert server.step(later["EventId"], None)["Data"] == "ret"


def test_step_error_raises_pdk_exception_in_the_handler(server: Server) -> None:
    first = server.handle("step_error")
    caught = server.step(first["EventId"], "bad thing", method="plugin.StepError")
    assert call(caught) == ("kong.request.get_header", ["caught:exception from kong.request.get_header: bad thing"])
    assert server.step(first["EventId"], None)["Data"] == "ret"


def test_log_arguments_that_msgpack_cannot_carry_are_sent_as_text(server: Server) -> None:
    reply = server.handle("log_args")
    assert call(reply) == ("kong.log.notice", ["/x", 1, "s", [1], {"k": 2}, "None"])
    assert server.step(reply["EventId"], None)["Data"] == "ret"


def test_unknown_instance_and_namespace_errors_keep_kongs_texts(server: Server) -> None:
    with pytest.raises(RpcServerError, match="^no plugin instance #9999$"):
        server.rpc.call("plugin.HandleEvent", {"InstanceId": 9999, "EventName": "access"})
    with pytest.raises(RpcServerError, match="RPC for other is not supported"):
        server.rpc.call("other.Thing", {})


def test_a_message_larger_than_the_socket_buffer_arrives_whole(server: Server) -> None:
    first = server.handle("calls")
    big = "y" * 900_000  # a Unix socket takes ~200 KB per send; the rest goes out with sendall
    assert call(server.step(first["EventId"], big)) == ("kong.request.get_header", [f"b:{big}"])
    assert server.step(first["EventId"], None)["Data"] == "ret"
