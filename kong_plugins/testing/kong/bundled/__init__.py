"""Kong's bundled (Lua) plugins that our configs use, re-implemented for the harness."""

from __future__ import annotations

from kong_plugins.testing.kong.bundled.acl import Acl
from kong_plugins.testing.kong.bundled.base import BundledPlugin
from kong_plugins.testing.kong.bundled.file_log import FileLog
from kong_plugins.testing.kong.bundled.jwt import Jwt
from kong_plugins.testing.kong.bundled.key_auth import KeyAuth

BUNDLED: tuple[type[BundledPlugin], ...] = (KeyAuth, Jwt, Acl, FileLog)

__all__ = ["BUNDLED", "Acl", "BundledPlugin", "FileLog", "Jwt", "KeyAuth"]
