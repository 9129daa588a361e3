"""Structured log lines with metadata only.

Every line is one JSON object on stderr, which Kong copies into its error log at INFO.
Only the fields named in ALLOWED_FIELDS are written, and string values are cut short, so
a request or response body, a key, a token or a prompt cannot reach a log line by mistake.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

ALLOWED_FIELDS = frozenset(
    {
        "event",
        "plugin",
        "phase",
        "level",
        "route",
        "service",
        "client_api",
        "consumer_id",
        "consumer",
        "subject",
        "role",
        "role_source",
        "model",
        "provider",
        "status",
        "latency_ms",
        "upstream_latency_ms",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "total_tokens",
        "cost_usd",
        "fallback_from",
        "attempts",
        "error_type",
        "error_class",
        "decision",
        "category",
        "rule_id",
        "action",
        "policy",
        "limit",
        "remaining",
        "window",
        "reserved",
        "degraded",
        "dependency",
        "count",
        "size_bytes",
        "request_id",
    }
)
MAX_VALUE_CHARS = 200

_stream: TextIO = sys.stderr


def set_stream(stream: TextIO) -> None:
    """Tests point the log at a buffer."""
    global _stream
    _stream = stream


def safe_fields(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in ALLOWED_FIELDS or value is None:
            continue
        if isinstance(value, bool | int | float):
            out[key] = value
        else:
            out[key] = str(value)[:MAX_VALUE_CHARS]
    return out


def log_event(event: str, level: str = "info", **fields: Any) -> None:
    record = {"ts": round(time.time(), 3), "level": level, "event": event, **safe_fields(fields)}
    try:
        _stream.write(json.dumps(record, separators=(",", ":")) + "\n")
        _stream.flush()
    except (OSError, ValueError):
        pass  # a closed stderr must never fail a request
