"""Entry point shared by the three dedicated plugin servers.

`-g` (gevent) is patched in before anything opens a socket, so Redis, STS and HTTP calls
made by a handler yield to other requests instead of blocking the whole server. Handlers are
written for python-style PDK returns, so `--no-lua-style` is always passed to kong-pdk.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable
from typing import Any

import msgpack


def serve(name: str, handler_module: str) -> None:
    argv = sys.argv[1:]
    if any(a in ("-g", "--gevent") for a in argv) and not _dumping(argv):
        from gevent import monkey

        monkey.patch_all()
    if "--no-lua-style" not in argv:
        sys.argv.append("--no-lua-style")

    module = importlib.import_module(handler_module)
    from kong_pdk.cli import start_dedicated_server

    patch_partial_sends()
    gevent = any(a in ("-g", "--gevent") for a in argv)
    patch_eager_debug_strings(gevent)
    if gevent:
        patch_gevent_events()

    start_dedicated_server(name, module.Plugin, module.VERSION, module.PRIORITY, module.SCHEMA)


MAX_IDLE_EVENT_GREENLETS = 64


class _Reader:
    """What msgpack.Unpacker reads from: the socket's own recv, without kong-pdk's wrapper."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self.read = read
        self.answered = False

    def close(self) -> None:
        pass


class _GeventReader(_Reader):
    """After an answer the next message is Kong's next call, which has not arrived yet: wait
    for the socket to become readable before `recv`, instead of a `recv` that fails with
    EAGAIN (a syscall and an exception) and then waits. Its own io watcher, closed with the
    connection; public gevent API only."""

    def __init__(self, sock: Any) -> None:
        from gevent import get_hub

        super().__init__(self._read)
        self._recv = sock.recv
        self._hub = get_hub()
        self._watcher = self._hub.loop.io(sock.fileno(), 1)

    def _read(self, n: int) -> bytes:
        if self.answered:
            self.answered = False
            self._hub.wait(self._watcher)
        return self._recv(n)

    def close(self) -> None:
        self._watcher.close()


def _dumping(argv: list[str]) -> bool:
    return any(a in ("-dump", "--dump", "-d") for a in argv)


def patch_partial_sends() -> None:
    """kong-pdk 0.36 answers Kong with `socket.send`, which may write only part of a message:
    under gevent it sends what the socket buffer takes (~200 KB on a Unix socket), so a PDK
    call carrying a large body (set_raw_body, exit) was cut short and the request hung.
    `send_message` writes the whole message."""
    from kong_pdk import listener

    def write_response(fd: Any, msgid: int, response: Any) -> None:
        send_message(fd, msgpack.packb([1, msgid, None, response]))

    def write_error(fd: Any, msgid: int, error: Any) -> None:
        send_message(fd, msgpack.packb([1, msgid, error, None]))

    listener.write_response = write_response
    listener.write_error = write_error


def send_message(fd: Any, data: bytes) -> None:
    """All of `data`: one `send` writes a small message (gevent's `sendall` adds a few layers
    of Python per call), `sendall` the rest of a large one."""
    sent = fd.send(data)
    if sent < len(data):
        fd.sendall(memoryview(data)[sent:])


def patch_eager_debug_strings(gevent: bool = False) -> None:
    """kong-pdk 0.36's RPC loop formats two debug strings for every message, with the whole
    message in them (`"... args: %s" % (args,)`), before the logger drops them at the default
    level: a repr of every request and response body, on every PDK call (a 500 KB body read
    cost 4.6 ms of CPU instead of 1.4 ms). This loop is the same one minus the discarded
    strings, and it converts each RPC method name once instead of per message."""
    import traceback

    from kong_pdk import listener
    from kong_pdk.exception import PDKException, PluginServerException

    method_names: dict[str, str | None] = {}

    def snake(method: str) -> str | None:
        """`plugin.StepMultiMap` -> `step_multi_map`; None for another namespace."""
        ns, _, cmd = method.partition(".")
        if ns != "plugin":
            return None
        return cmd[0].lower() + listener.cmdre.sub(lambda m: f"{m.group(1)}_{m.group(2).lower()}", cmd[1:])

    def handle(self: Any, fd: Any, address: Any, *_: Any) -> None:
        reader = _GeventReader(fd) if gevent else _Reader(fd.recv)
        try:
            serve_connection(self, fd, reader)
        finally:
            reader.close()

    def serve_connection(self: Any, fd: Any, reader: _Reader) -> None:
        unpacker = msgpack.Unpacker(reader, strict_map_key=False, read_size=65536)
        server = self.ps
        for _kind, msgid, method, args in unpacker:
            try:
                name = method_names[method]
            except KeyError:
                name = method_names[method] = snake(method)
            if name is None:
                listener.write_error(fd, msgid, f"RPC for {method.partition('.')[0]} is not supported")
                continue
            try:
                ret = getattr(server, name)(*args)
            except (PluginServerException, PDKException) as ex:
                self.logger.warn(f"rpc: #{msgid} error: {ex}")
                listener.write_error(fd, msgid, str(ex))
            except Exception as ex:  # noqa: BLE001 - kong-pdk answers every failure with an error
                self.logger.error(f"rpc: #{msgid} exception: {traceback.format_exc()}")
                listener.write_error(fd, msgid, str(ex))
            else:
                send_message(fd, msgpack.packb([1, msgid, None, ret]))
            reader.answered = True

    listener.Server.handle = handle


def patch_gevent_events() -> None:
    """kong-pdk 0.36 (gevent mode) runs each event's handler in a greenlet and passes every PDK
    call and its answer through a `gevent.queue.Channel`: per round trip two Waiters, two hub
    callbacks and about ten greenlet switches through the hub, plus a `Kong`/`FakeClasses`
    object chain per event and per attribute. Here the RPC greenlet that receives
    HandleEvent or Step switches straight into the event's greenlet, and the handler's PDK
    call switches straight back with the call: two switches per round trip.

    Unchanged for Kong: the same messages, event ids, `Step*` methods, python-style returns
    (a `StepError` raises PDKException), `kong.log.*` arguments stringified, and
    `kong.response.exit/error` do not wait for an answer. The state of an event lives in the
    server's `events` table, not in a connection: Kong 3.9.3 checks a connection out of its
    keepalive pool per RPC call, so a Step may arrive on another connection than its
    HandleEvent (the greenlet that receives it becomes the one the handler answers to).

    Different from kong-pdk, on purpose: an exception escaping a handler is answered with
    an RPC error (Kong logs it and continues without the plugin) instead of never answering;
    code before the first PDK call is no longer serialised behind a server-wide lock (it
    only ever mattered when that code waits on I/O); a PDK call made after exit/error raises
    PDKException instead of blocking its greenlet forever; an event whose first message is
    exit/error is not left in the events table.
    """
    import time

    from greenlet import getcurrent, greenlet
    from kong_pdk import server as pdk_server
    from kong_pdk.exception import PDKException, PluginServerException

    ret_msg = pdk_server.MSG_RET
    terminal_methods = frozenset(pdk_server.terminal_methods)
    plain_log_types = (str, int, list, dict)
    idle: list[EventGreenlet] = []

    class EventGreenlet(greenlet):
        """Runs one event's handler at a time. `parent` is the RPC greenlet waiting for the
        event's next message. Finished workers wait in `idle` for the next event: a new
        greenlet costs CPython a new frame stack (an mmap and a munmap per event)."""

        def __init__(self) -> None:
            super().__init__()
            self.done = False
            self.terminal: dict[str, Any] | None = None
            self.error: Exception | None = None

        def run(self, handler: Callable[[Any], None] | None) -> None:
            while handler is not None:
                self.done, self.terminal, value = False, None, None
                try:
                    handler(KONG)
                    value = self.terminal or ret_msg
                except Exception as exc:  # noqa: BLE001 - re-raised in the RPC greenlet
                    self.error = exc
                self.done = True
                handler = self.parent.switch(value)

    def call(method: str, log_args: bool, args: tuple[Any, ...]) -> Any:
        event = getcurrent()
        if not isinstance(event, EventGreenlet):
            raise PDKException(f"{method} called outside a plugin event")
        if event.terminal is not None:
            raise PDKException(f"{method} called after {event.terminal['Method']} ended the event")
        if log_args:
            args = tuple(a if type(a) in plain_log_types else str(a) for a in args)
        message = {"Method": method, "Args": args}
        if method in terminal_methods:
            event.terminal = message  # Kong gets it when the handler returns (right after)
            return None
        data, err = event.parent.switch(message)
        if err:
            raise PDKException(f"exception from {method}: {err}")
        return data

    class Pdk:
        """`kong.x.y(...)`: each attribute object is made once per process and kept."""

        def __init__(self, name: str) -> None:
            self._name = name
            self._log_args = name == "kong.log" or name.startswith("kong.log.")

        def __getattr__(self, attr: str) -> Pdk:
            if attr.startswith("__"):
                raise AttributeError(attr)
            child = Pdk(f"{self._name}.{attr}")
            setattr(self, attr, child)
            return child

        def __call__(self, *args: Any) -> Any:
            return call(self._name, self._log_args, args)

    KONG = Pdk("kong")

    def run_event(server: Any, eid: int, worker: EventGreenlet, value: Any) -> dict[str, Any]:
        worker.parent = getcurrent()
        try:
            data = worker.switch(value)
        except BaseException:  # only what kills a greenlet (GreenletExit, KeyboardInterrupt)
            server.events.pop(eid, None)
            raise
        if not worker.done:
            server.events[eid] = worker  # waits for Kong's Step
            return {"Data": data, "EventId": eid}
        server.events.pop(eid, None)
        error, worker.error = worker.error, None
        if len(idle) < MAX_IDLE_EVENT_GREENLETS:
            idle.append(worker)
        else:
            worker.switch(None)  # ends its loop
        if error is not None:
            raise error
        return {"Data": data, "EventId": eid}

    def handle_event(self: Any, event: dict[str, Any]) -> dict[str, Any]:
        iid = event["InstanceId"]
        instance = self.instances.get(iid)
        if instance is None:
            raise PluginServerException(f"no plugin instance #{iid}")  # Kong matches this text
        instance.last_used_time = time.time()
        handler = getattr(instance.cls, event["EventName"])
        eid = self.event_id
        self.event_id = eid + 1
        return run_event(self, eid, idle.pop() if idle else EventGreenlet(), handler)

    def step(self: Any, data: dict[str, Any], is_error: bool = False) -> dict[str, Any]:
        eid = data["EventId"]
        worker = self.events.get(eid)
        if worker is None:
            raise PluginServerException(f"event id {eid} not found")
        value = data.get("Data")
        return run_event(self, eid, worker, (None, value) if is_error else (value, None))

    def step_error(self: Any, data: dict[str, Any]) -> dict[str, Any]:
        return step(self, data, True)

    cls = pdk_server.PluginServer
    cls.handle_event = handle_event
    for name in ("step", *(f"step_{entity}" for entity in (*pdk_server.entities, "multi_map"))):
        setattr(cls, name, step)
    cls.step_error = step_error


def start_native_thread(fn: Callable[[], None]) -> None:
    """Run `fn` in an OS thread even under gevent's monkey patching (where threading.Thread is a
    greenlet): for C work that releases the GIL, such as compiling the guardrails prefilter."""
    try:
        from gevent import monkey

        if monkey.is_module_patched("threading"):
            monkey.get_original("_thread", "start_new_thread")(fn, ())
            return
    except ImportError:
        pass
    threading.Thread(target=fn, daemon=True).start()
