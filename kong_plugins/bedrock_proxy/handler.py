"""Kong-facing shell of bedrock-proxy: reads from and writes to the PDK, calls the core."""

from __future__ import annotations

from typing import Any

from kong_plugins import __version__
from kong_plugins.bedrock_proxy.schema import SCHEMA
from kong_plugins.core.identity import IdentitySettings
from kong_plugins.core.phase import Event, phase_handler
from kong_plugins.core.shared import load_identity

VERSION = __version__
PRIORITY = 925
NAME = "bedrock-proxy"

__all__ = ["NAME", "PRIORITY", "SCHEMA", "VERSION", "Plugin"]


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        self.identity_settings = IdentitySettings.from_config(config)

    @phase_handler(NAME, "access")
    def access(self, kong: Any, event: Event) -> None:
        load_identity(kong, self.identity_settings)
