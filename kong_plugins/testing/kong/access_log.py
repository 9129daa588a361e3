"""One JSON access-log line per request: who, which route, which model, how many tokens,
status and latencies. Built from an allow-list of fields: never a body, a header value, a
query string or a credential."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from kong_plugins.core.identity import SHARED_IDENTITY_KEY
from kong_plugins.core.usage import SHARED_RESULT_KEY
from kong_plugins.testing.kong.request import KongRequest


def access_entry(req: KongRequest) -> dict[str, Any]:
    identity = req.ctx_shared.get(SHARED_IDENTITY_KEY)
    result = req.ctx_shared.get(SHARED_RESULT_KEY)
    usage = result.get("usage") if isinstance(result, Mapping) else None
    lat = req.latencies
    entry: dict[str, Any] = {
        "ts": round(req.start_time, 3),
        "request_id": req.request_id,
        "method": req.method,
        "path": req.path,  # never the query string: it may carry an apikey
        "route": (req.route or {}).get("name"),
        "service": (req.service or {}).get("name"),
        "consumer": (req.consumer or {}).get("username"),
        "role": identity.get("role") if isinstance(identity, Mapping) else None,
        "model": result.get("model") if isinstance(result, Mapping) else None,
        "status": req.response.status,
        "latencies": {
            "kong": lat.get("kong", 0),
            "upstream": max(lat.get("proxy", -1), -1),
            "total": lat.get("request", 0),
        },
    }
    if isinstance(usage, Mapping):
        for key in ("input_tokens", "output_tokens", "total_tokens"):
            value = usage.get(key)
            if isinstance(value, int):
                entry[key] = value
    return entry


class AccessLog:
    """Kept in memory for tests; echoed as JSON lines to stdout for `make dev`."""

    def __init__(self, *, echo: bool = False, max_entries: int = 50000) -> None:
        self._entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._echo = echo
        self._max = max_entries

    def add(self, entry: dict[str, Any]) -> None:
        entry.setdefault("ts", round(time.time(), 3))
        with self._lock:
            self._entries.append(entry)
            if len(self._entries) > self._max:
                del self._entries[: len(self._entries) - self._max]
        if self._echo:
            sys.stdout.write(json.dumps(entry, separators=(",", ":")) + "\n")
            sys.stdout.flush()

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]
