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
    patch_eager_debug_strings()

    start_dedicated_server(name, module.Plugin, module.VERSION, module.PRIORITY, module.SCHEMA)


def _dumping(argv: list[str]) -> bool:
    return any(a in ("-dump", "--dump", "-d") for a in argv)


def patch_partial_sends() -> None:
    """kong-pdk 0.36 answers Kong with `socket.send`, which may write only part of a message:
    under gevent it sends what the socket buffer takes (~200 KB on a Unix socket), so a PDK
    call carrying a large body (set_raw_body, exit) was cut short and the request hung.
    `sendall` writes the whole message."""
    import msgpack
    from kong_pdk import listener

    def write_response(fd: Any, msgid: int, response: Any) -> None:
        fd.sendall(msgpack.packb([1, msgid, None, response]))

    def write_error(fd: Any, msgid: int, error: Any) -> None:
        fd.sendall(msgpack.packb([1, msgid, error, None]))

    listener.write_response = write_response
    listener.write_error = write_error


def patch_eager_debug_strings() -> None:
    """kong-pdk 0.36's RPC loop formats two debug strings for every message, with the whole
    message in them (`"... args: %s" % (args,)`), before the logger drops them at the default
    level: a repr of every request and response body, on every PDK call (a 500 KB body read
    cost 4.6 ms of CPU instead of 1.4 ms). This loop is the same one minus the discarded
    strings, and it converts each RPC method name once instead of per message."""
    import traceback

    import msgpack
    from kong_pdk import listener
    from kong_pdk.exception import PDKException, PluginServerException

    method_names: dict[str, str] = {}

    def snake(cmd: str) -> str:
        name = method_names.get(cmd)
        if name is None:
            name = cmd[0].lower() + listener.cmdre.sub(lambda m: f"{m.group(1)}_{m.group(2).lower()}", cmd[1:])
            method_names[cmd] = name
        return name

    def handle(self: Any, fd: Any, address: Any, *_: Any) -> None:
        unpacker = msgpack.Unpacker(listener.WrapSocket(fd), strict_map_key=False)
        for _kind, msgid, method, args in unpacker:
            ns, cmd = method.split(".")
            if ns != "plugin":
                listener.write_error(fd, msgid, f"RPC for {ns} is not supported")
                continue
            try:
                ret = getattr(self.ps, snake(cmd))(*args)
                listener.write_response(fd, msgid, ret)
            except (PluginServerException, PDKException) as ex:
                self.logger.warn(f"rpc: #{msgid} error: {ex}")
                listener.write_error(fd, msgid, str(ex))
            except Exception as ex:  # noqa: BLE001 - kong-pdk answers every failure with an error
                self.logger.error(f"rpc: #{msgid} exception: {traceback.format_exc()}")
                listener.write_error(fd, msgid, str(ex))

    listener.Server.handle = handle


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
