"""Find every piece of text in a request body, whatever the client format.

Rather than knowing each format's layout (OpenAI messages and content parts, Anthropic
system and content blocks and tool results, Bedrock Converse messages/system/toolResult,
InvokeModel bodies, the /v1/chat shape), the walker takes every string value of the parsed
JSON and skips only keys known to hold no prose (model ids, roles, types, ids, base64
media). A new field in any format is therefore scanned by default. The walk is iterative,
so deep nesting cannot exhaust the stack; a body that is not JSON is scanned as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Keys whose string values are identifiers or enums, never prompt text.
SKIP_KEYS = frozenset(
    {
        "model", "modelId", "role", "type", "id", "tool_use_id", "toolUseId", "tool_call_id", "toolCallId",
        "media_type", "mediaType", "mime_type", "mimeType", "format", "bytes", "signature", "anthropic_version",
        "stop_reason", "stopReason", "cache_control", "cachePoint", "encoding", "detail", "finish_reason",
        "object", "status", "guardrailIdentifier", "guardrailVersion", "performanceConfig", "latency",
        "service_tier", "reasoning_effort", "response_format", "tool_choice", "parallel_tool_calls",
    }
)  # fmt: skip
MEDIA_TYPE_KEYS = ("media_type", "mediaType", "mime_type", "mimeType", "format")


@dataclass(slots=True)
class Segment:
    text: str
    key: str | None  # the JSON key that holds it (None in a list or at the root)
    container: Any  # dict or list holding the string, None for the root / a non-JSON body
    slot: Any  # key or index within container


@dataclass(slots=True)
class Parsed:
    # The parsed JSON wrapped in a one-element list (so a bare JSON string has a slot to be
    # written back to), or None when the body is scanned as plain text.
    holder: list[Any] | None
    segments: list[Segment]


def parse(body: bytes) -> Parsed:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, invalid UTF-8 (a ValueError), or nested too deep
        return Parsed(None, [Segment(body.decode("utf-8", errors="replace"), None, None, None)])
    holder = [document]
    return Parsed(holder, walk(holder))


def walk(document: Any) -> list[Segment]:
    segments: list[Segment] = []
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            skip_data = node.get("type") == "base64" or any(k in node for k in MEDIA_TYPE_KEYS)
            for key, value in node.items():
                if isinstance(value, str):
                    if key in SKIP_KEYS or (skip_data and key == "data") or not value:
                        continue
                    segments.append(Segment(value, key, node, key))
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, str):
                    if value:
                        segments.append(Segment(value, None, node, i))
                elif isinstance(value, dict | list):
                    stack.append(value)
    return segments


def serialize(parsed: Parsed) -> bytes:
    """The body to send upstream after masking wrote into the segments' containers."""
    if parsed.holder is None:
        return parsed.segments[0].text.encode("utf-8")
    try:
        return json.dumps(parsed.holder[0], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800" in the JSON): keep it escaped
        return json.dumps(parsed.holder[0], ensure_ascii=True, separators=(",", ":")).encode("ascii")
