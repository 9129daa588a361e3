"""Bench-only dedicated plugin server `pdk_loop_ours`: pdk_loop's plugin, started through
kong_plugins.core.server.serve (our start-up patches of kong-pdk) instead of kong-pdk's own CLI."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from pdk_loop import SCHEMA, Plugin  # noqa: E402

from kong_plugins.core.server import serve  # noqa: E402

VERSION = "0.1.0"
PRIORITY = 900

__all__ = ["PRIORITY", "SCHEMA", "VERSION", "Plugin"]

if __name__ == "__main__":
    serve("pdk_loop_ours", "pdk_loop_ours")
