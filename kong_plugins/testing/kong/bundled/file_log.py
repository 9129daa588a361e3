"""file-log as in Kong 3.9.3 (priority 9): one JSON line of kong.log.serialize() per request.

Kong's serializer never contains bodies, and redacts Authorization; key-auth with
hide_credentials removes the key header before it is logged.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from kong_plugins.testing.kong.bundled.base import BundledPlugin
from kong_plugins.testing.kong.pdk_api import serialize
from kong_plugins.testing.kong.request import KongRequest

_LOCK = threading.Lock()
_STREAMS: dict[str, Callable[[], TextIO]] = {"/dev/stdout": lambda: sys.stdout, "/dev/stderr": lambda: sys.stderr}


@dataclass
class FileLog(BundledPlugin):
    name = "file-log"
    priority = 9
    phases = ("log",)
    schema = [
        {"path": {"type": "string", "required": True, "match": r"^[^*&%\\`]+$"}},
        {"reopen": {"type": "boolean", "required": True, "default": False}},
        {"custom_fields_by_lua": {"type": "map", "keys": {"type": "string"}, "values": {"type": "string"}}},
    ]

    @classmethod
    def entity_check(cls, config: dict[str, Any]) -> str | None:
        if config.get("custom_fields_by_lua"):
            return "config.custom_fields_by_lua: Lua code is not supported by the harness"
        return None

    # path -> path: `make dev` sends Kong's /dev/stdout lines to a file, so its console keeps
    # one access-log line per request.
    redirects: dict[str, str] = field(default_factory=dict)

    def run(self, phase: str, req: KongRequest, config: dict[str, Any]) -> None:
        line = json.dumps(serialize(req), separators=(",", ":")) + "\n"
        path = self.redirects.get(config["path"], config["path"])
        stream = _STREAMS.get(path)
        with _LOCK:
            if stream is not None:
                # Re-opening /dev/stdout would get its own file offset and overwrite our own
                # stdout when that is a regular file; write through the process's stream.
                stream().write(line)
                stream().flush()
                return
            with open(path, "a", encoding="utf-8") as f:
                f.write(line)
