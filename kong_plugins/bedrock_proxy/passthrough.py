"""The native Bedrock pass-through (`/bedrock/model/{modelId}/converse|invoke`) for boto3.

The body goes upstream unchanged; only the model is checked against the role, the client's
AWS signature is replaced by the gateway's, and errors stay Bedrock-shaped
(x-amzn-ErrorType) so boto3 raises the matching exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from kong_plugins.core.client_api import BEDROCK_PATH
from kong_plugins.core.errors import GatewayError

OPERATIONS = ("converse", "invoke")


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
            f"Operation '{operation}' is not available through the gateway; use converse or invoke.",
            code="unsupported_operation",
        )
    model = unquote(match.group("model"))
    if not model or len(model) > 2048 or not model.isprintable():
        raise GatewayError("invalid_request", "The model identifier is invalid.", code="invalid_model")
    return NativeCall(model, operation)
