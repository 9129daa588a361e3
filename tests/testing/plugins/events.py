"""Test-only dedicated plugin server `events`, started through kong_plugins.core.server.serve
(our start-up patches of kong-pdk, like our three plugins). Each config `mode` exercises one
behaviour of the patched event loop; tests drive it with raw RPC calls."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from kong_pdk.exception import PDKException

VERSION = "0.1.0"
PRIORITY = 900
SCHEMA = [{"mode": {"type": "string", "default": "calls"}}]

SEEN: list[str] = []  # what earlier events saw; mode `report` sends it back


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        self.mode = config.get("mode", "calls")

    def access(self, kong: Any) -> None:
        mode = self.mode
        if mode == "calls":  # two PDK calls; the second carries the first's answer
            first = kong.request.get_header("a")
            kong.request.get_header(f"b:{first}")
        elif mode == "exit_first":
            kong.response.exit(403, "no", {"X-Events": "exit"})
        elif mode == "call_after_exit":
            kong.request.get_header("a")
            kong.response.exit(403, "no", {})
            try:
                kong.request.get_header("too late")
            except PDKException as exc:
                SEEN.append(f"PDKException: {exc}")
        elif mode == "raise_before":
            raise RuntimeError("boom before any PDK call")
        elif mode == "raise_after":
            kong.request.get_header("a")
            raise RuntimeError("boom after a PDK call")
        elif mode == "step_error":
            try:
                kong.request.get_header("a")
            except PDKException as exc:
                kong.request.get_header(f"caught:{exc}")
        elif mode == "log_args":
            kong.log.notice(Path("/x"), 1, "s", [1], {"k": 2}, None)
        elif mode == "sleeps":  # waits on the gevent hub before and between PDK calls
            time.sleep(0.05)
            first = kong.request.get_header("a")
            time.sleep(0.05)
            kong.request.get_header(f"b:{first}")
        elif mode == "report":
            kong.request.get_header("|".join(SEEN))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from kong_plugins.core.server import serve

    serve("events", "tests.testing.plugins.events")
