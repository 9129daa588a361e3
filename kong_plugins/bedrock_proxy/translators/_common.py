"""Small helpers shared by the translators: validation that raises GatewayError with the
field's path, compact JSON, and stop-reason tables."""

from __future__ import annotations

import json
import json.encoder
from typing import Any, NoReturn

from kong_plugins.core.errors import GatewayError
from kong_plugins.core.usage import Usage

IMAGE_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}


def fail(message: str, code: str = "invalid_value") -> NoReturn:
    raise GatewayError("invalid_request", message, code=code)


def upstream_fail(message: str) -> NoReturn:
    raise GatewayError("bad_gateway", message, code="malformed_upstream_answer")


def require_object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        fail(f"{field} must be a JSON object")
    return value


def require_list(value: Any, field: str, *, non_empty: bool = False) -> list[Any]:
    if not isinstance(value, list):
        fail(f"{field} must be an array")
    if non_empty and not value:
        fail(f"{field} must not be empty")
    return value


def require_str(value: Any, field: str) -> str:
    if not isinstance(value, str):
        fail(f"{field} must be a string")
    return value


def opt_str(body: dict[str, Any], key: str, field: str | None = None) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    return require_str(value, field or key)


def opt_int(body: dict[str, Any], key: str, *, minimum: int, field: str | None = None) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        fail(f"{field or key} must be an integer >= {minimum}")
    return value


def opt_number(body: dict[str, Any], key: str, *, low: float, high: float, field: str | None = None) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
        fail(f"{field or key} must be a number between {low:g} and {high:g}")
    return value


def opt_bool(body: dict[str, Any], key: str, field: str | None = None) -> bool:
    value = body.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        fail(f"{field or key} must be a boolean")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json_object(text: Any, field: str) -> dict[str, Any]:
    """Parse a JSON-encoded object (OpenAI tool-call arguments); '' means no arguments."""
    if not isinstance(text, str):
        fail(f"{field} must be a string holding a JSON object")
    if not text.strip():
        return {}
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        fail(f"{field} is not valid JSON")
    if not isinstance(value, dict):
        fail(f"{field} must encode a JSON object")
    return value


# A JSON string literal; C-accelerated, much cheaper than a full encode.
quote = json.encoder.encode_basestring

# One encoder: json.dumps with non-default options builds a new encoder on every call.
dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON for a body. A lone surrogate (legal in JSON escapes, not in UTF-8)
    becomes '?' instead of raising UnicodeEncodeError."""
    return dumps(value).encode("utf-8", "replace")


def utf8(text: str) -> bytes:
    return text.encode("utf-8", "replace")


def dumps_input(value: Any, *, upstream: bool) -> str:
    """Encode a tool input; nesting beyond the recursion limit is refused, not a crash."""
    try:
        return dumps(value)
    except (RecursionError, ValueError):
        if upstream:
            upstream_fail("the model's tool input cannot be encoded")
        fail("a tool input is nested too deeply")


def image_block(media_type: Any, data: Any, field: str) -> dict[str, Any]:
    """A Converse image block from base64 data; the bytes stay base64 as Converse JSON wants."""
    fmt = IMAGE_FORMATS.get(media_type) if isinstance(media_type, str) else None
    if fmt is None:
        fail(f"{field}: unsupported image type {str(media_type)[:40]!r}; use png, jpeg, gif or webp")
    if not isinstance(data, str) or not data:
        fail(f"{field}: image data must be a non-empty base64 string")
    return {"image": {"format": fmt, "source": {"bytes": data}}}


def append_message(messages: list[dict[str, Any]], role: str, content: list[dict[str, Any]]) -> None:
    """Append, merging into the previous message when it has the same role: Converse
    requires user and assistant turns to alternate."""
    if messages and messages[-1]["role"] == role:
        messages[-1]["content"].extend(content)
    else:
        messages.append({"role": role, "content": content})


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, int(value))


def usage_from_converse(resp: Any) -> Usage:
    """Usage of a Converse answer (`usage` member), cache reads and writes included."""
    usage = resp.get("usage") if isinstance(resp, dict) else None
    if not isinstance(usage, dict):
        return Usage()
    return Usage(
        input_tokens=_count(usage.get("inputTokens")),
        output_tokens=_count(usage.get("outputTokens")),
        cache_read_tokens=_count(usage.get("cacheReadInputTokens")),
        cache_write_tokens=_count(usage.get("cacheWriteInputTokens")),
    )


def count(value: Any) -> int:
    return _count(value)


def converse_output_blocks(resp: Any) -> list[dict[str, Any]]:
    """The content blocks of a Converse answer; a malformed answer is a 502, not a crash."""
    if not isinstance(resp, dict):
        upstream_fail("the model's answer is not a JSON object")
    output = resp.get("output")
    message = output.get("message") if isinstance(output, dict) else None
    if message is None:
        return []
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        upstream_fail("the model's answer has no content list")
    return [b for b in content if isinstance(b, dict)]


def stop_reason(resp: dict[str, Any]) -> str:
    value = resp.get("stopReason")
    return value if isinstance(value, str) else "end_turn"


# Converse rejects blank text, and a tool that returned nothing is common.
EMPTY_TOOL_RESULT = [{"text": "(no output)"}]


def tool_result(tool_use_id: str, content: list[dict[str, Any]], *, error: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {"toolUseId": tool_use_id, "content": content or EMPTY_TOOL_RESULT}
    if error:
        result["status"] = "error"  # only sent for errors: some models reject the status field
    return {"toolResult": result}


def flatten_tool_history(messages: list[dict[str, Any]]) -> None:
    """Rewrite toolUse/toolResult blocks as text, in place.

    Converse refuses tool blocks in the history when the request has no toolConfig, which is
    how tool_choice "none" (or a follow-up without tools) is expressed; text keeps the context
    and guarantees the model cannot call a tool.
    """
    for message in messages:
        content = message["content"]
        for i, block in enumerate(content):
            use = block.get("toolUse")
            if use is not None:
                input_json = dumps_input(use["input"], upstream=False)
                content[i] = {"text": f"[tool call {use['toolUseId']}: {use['name']}({input_json})]"}
                continue
            result = block.get("toolResult")
            if result is not None:
                texts = [b["text"] for b in result["content"] if "text" in b]
                content[i] = {"text": f"[tool result {result['toolUseId']}]: " + "\n".join(texts)}
