"""Test-only dedicated plugin server `rewriter`: a `rewrite` handler that marks the request.

Kong runs `rewrite` before routing and only for global configurations.
"""

from __future__ import annotations

import sys
from typing import Any

from kong_pdk.cli import start_dedicated_server


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        self.tag = str(config.get("tag", "yes"))

    def rewrite(self, kong: Any) -> None:
        kong.service.request.set_header("x-rewritten", self.tag)


if __name__ == "__main__":
    if "--no-lua-style" not in sys.argv:
        sys.argv.append("--no-lua-style")
    start_dedicated_server("rewriter", Plugin, "0.1.0", 2000, [{"tag": {"type": "string", "default": "yes"}}])
