"""Entry point shared by the three dedicated plugin servers.

`-g` (gevent) is patched in before anything opens a socket, so Redis, STS and HTTP calls
made by a handler yield to other requests instead of blocking the whole server. Handlers are
written for python-style PDK returns, so `--no-lua-style` is always passed to kong-pdk.
"""

from __future__ import annotations

import importlib
import sys
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
