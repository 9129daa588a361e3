"""Bench-only dedicated plugin server `pdk_loop`: access makes `calls` cheap PDK calls."""

from __future__ import annotations

import sys
import time
from typing import Any

from kong_pdk.cli import start_dedicated_server

SCHEMA = [
    {"calls": {"type": "integer", "default": 1}},
    {"sleep_before": {"type": "number", "default": 0}},
    {"sleep_after": {"type": "number", "default": 0}},
]


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        self.calls = int(config.get("calls", 1))
        self.sleep_before = float(config.get("sleep_before", 0))
        self.sleep_after = float(config.get("sleep_after", 0))

    def access(self, kong: Any) -> None:
        if self.sleep_before:
            time.sleep(self.sleep_before)  # before the first PDK call: under kong-pdk's event lock
        for _ in range(self.calls):
            kong.request.get_header("x-bench")
        if self.sleep_after:
            time.sleep(self.sleep_after)


if __name__ == "__main__":
    if any(a in ("-g", "--gevent") for a in sys.argv) and "-dump" not in sys.argv:
        from gevent import monkey

        monkey.patch_all()
    if "--no-lua-style" not in sys.argv:
        sys.argv.append("--no-lua-style")
    start_dedicated_server("pdk_loop", Plugin, "0.1.0", 900, SCHEMA)
