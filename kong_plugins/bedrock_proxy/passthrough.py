"""The native Bedrock pass-through (`/bedrock/model/{modelId}/<operation>`) for boto3.

The body goes upstream unchanged; only the model is checked against the role, the client's
AWS signature is replaced by the gateway's, and errors stay Bedrock-shaped
(x-amzn-ErrorType) so boto3 raises the matching exception. The event-stream operations
work too: Kong buffers the stream (decision 0045) and hands it to the client whole; usage is
read from its `metadata` event (ConverseStream) or the last chunk's invocation metrics.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from botocore.eventstream import EventStreamBuffer, ParserError

from kong_plugins.bedrock_proxy.translators import usage_from_converse, usage_from_invoke
from kong_plugins.core.client_api import BEDROCK_PATH
from kong_plugins.core.errors import GatewayError
from kong_plugins.core.usage import Usage

STREAM_OPERATIONS = ("converse-stream", "invoke-with-response-stream")
OPERATIONS = ("converse", "invoke", *STREAM_OPERATIONS)
EVENT_STREAM = "application/vnd.amazon.eventstream"


@dataclass(frozen=True)
class NativeCall:
    model: str  # decoded model ID, alias or ARN as the client named it
    operation: str


def parse_native_path(raw_path: str) -> NativeCall:
    """Model and operation from the raw (still percent-encoded) request path."""
    match = BEDROCK_PATH.search(raw_path.rstrip("/"))
    if match is None:
        raise GatewayError("not_found", "Unknown Bedrock operation path.", code="unknown_operation")
    operation = match.group("operation")
    if operation not in OPERATIONS:
        raise GatewayError(
            "invalid_request",
            f"Operation '{operation}' is not available through the gateway.",
            code="unsupported_operation",
        )
    model = unquote(match.group("model"))
    if not model or len(model) > 2048 or not model.isprintable():
        raise GatewayError("invalid_request", "The model identifier is invalid.", code="invalid_model")
    return NativeCall(model, operation)


def native_usage(operation: str, body: bytes, headers: Callable[[], Mapping[str, Any]] | None) -> Usage:
    """Usage of a native answer: Converse `usage`, InvokeModel body or headers, or the stream's."""
    if operation in STREAM_OPERATIONS:
        return _stream_usage(body)
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        parsed = None
    if operation == "converse":
        return usage_from_converse(parsed)
    usage = usage_from_invoke(parsed, None)
    if usage == Usage() and headers is not None:
        usage = usage_from_invoke(None, headers())
    return usage


def _stream_usage(body: bytes) -> Usage:
    buffer = EventStreamBuffer()
    buffer.add_data(body)
    usage = Usage()
    try:
        for message in buffer:
            if message.headers.get(":message-type") != "event":
                continue
            event = message.headers.get(":event-type")
            payload = json.loads(message.payload)
            if event == "metadata":
                usage = usage_from_converse(payload)
            elif event == "chunk" and isinstance(payload, dict):
                chunk = json.loads(base64.b64decode(payload.get("bytes", "")))
                metrics = chunk.get("amazon-bedrock-invocationMetrics") if isinstance(chunk, dict) else None
                if isinstance(metrics, dict):
                    usage = _metrics_usage(metrics)
    except (ParserError, ValueError, UnicodeDecodeError, binascii.Error, RecursionError):
        pass  # a cut or malformed stream: whatever usage was read so far
    return usage


def _metrics_usage(metrics: Mapping[str, Any]) -> Usage:
    def n(key: str) -> int:
        v = metrics.get(key)
        return max(0, int(v)) if isinstance(v, int | float) and not isinstance(v, bool) else 0

    return Usage(
        n("inputTokenCount"), n("outputTokenCount"), n("cacheReadInputTokenCount"), n("cacheWriteInputTokenCount")
    )
