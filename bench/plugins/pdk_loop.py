"""Bench-only dedicated plugin server `pdk_loop`: access makes `calls` cheap PDK calls."""

from __future__ import annotations

import sys
from typing import Any

from kong_pdk.cli import start_dedicated_server


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        self.calls = int(config.get("calls", 1))

    def access(self, kong: Any) -> None:
        for _ in range(self.calls):
            kong.request.get_header("x-bench")


if __name__ == "__main__":
    if any(a in ("-g", "--gevent") for a in sys.argv) and "-dump" not in sys.argv:
        from gevent import monkey

        monkey.patch_all()
    if "--no-lua-style" not in sys.argv:
        sys.argv.append("--no-lua-style")
    start_dedicated_server("pdk_loop", Plugin, "0.1.0", 900, [{"calls": {"type": "integer", "default": 1}}])
