"""Bedrock Runtime operations: routing by path, model checks, CountTokens."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from . import anthropic, converse
from .common import OpContext, Response, StreamResponse, request_id
from .errors import BedrockError
from .models import ResolvedModel, Status, model_from_segment, resolve

OPERATIONS = {
    "converse": "Converse",
    "converse-stream": "ConverseStream",
    "invoke": "InvokeModel",
    "invoke-with-response-stream": "InvokeModelWithResponseStream",
    "count-tokens": "CountTokens",
}
STREAMING = {"ConverseStream", "InvokeModelWithResponseStream"}

INVALID_ID = "The provided model identifier is invalid."
EOL = "This model version has reached the end of its life. Please refer to the AWS documentation for more details."
LEGACY = (
    "Access denied. This Model is marked by provider as Legacy and you have not been actively using the model in "
    "the last 30 days. Please upgrade to an active model on Amazon Bedrock"
)


def route(path: str) -> tuple[str, str] | None:
    """`/model/{id}/{op}` (path without query) -> (operation, model ID), else None."""
    if not path.startswith("/model/"):
        return None
    segment, _, op = path[7:].rpartition("/")
    operation = OPERATIONS.get(op)
    if operation is None or not segment:
        return None
    return operation, model_from_segment(segment)


def check_model(model_id: str) -> ResolvedModel:
    model = resolve(model_id)
    if model.status is Status.UNKNOWN:
        raise BedrockError("ValidationException", INVALID_ID)
    if model.status is Status.EOL:
        raise BedrockError("ResourceNotFoundException", EOL)
    if model.status is Status.LEGACY:
        raise BedrockError("ResourceNotFoundException", LEGACY)
    return model


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        raise BedrockError(
            "ValidationException", "Malformed input request, please reformat your input and try again."
        ) from None
    if not isinstance(parsed, dict):
        raise BedrockError(
            "ValidationException",
            "Malformed input request: #: expected type: JSONObject, found: JSONArray, please reformat your input "
            "and try again.",
        )
    return parsed


def count_tokens(model: ResolvedModel, body: dict[str, Any], ctx: OpContext) -> Response:
    given = body.get("input") or {}
    if "converse" in given:
        prompt = converse.build_prompt(model, given["converse"] or {})
    elif "invokeModel" in given:
        try:
            inner = parse_json(base64.b64decode(str((given["invokeModel"] or {}).get("body", "")), validate=True))
        except binascii.Error:
            raise BedrockError(
                "ValidationException", "Malformed input request: invokeModel.body is not valid base64"
            ) from None
        prompt = anthropic.build_prompt(model, inner)
    else:
        raise BedrockError(
            "ValidationException",
            "1 validation error detected: Value null at 'input' failed to satisfy constraint: Member must not be null",
        )
    payload = json.dumps({"inputTokens": prompt.input_tokens()}).encode()
    return Response(200, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id())], payload)


HANDLERS: dict[str, Callable[[ResolvedModel, dict[str, Any], OpContext], Response | StreamResponse]] = {
    "Converse": converse.converse,
    "ConverseStream": converse.converse_stream,
    "InvokeModel": anthropic.invoke,
    "InvokeModelWithResponseStream": anthropic.invoke_stream,
    "CountTokens": count_tokens,
}


def handle(operation: str, model_id: str, body: bytes, ctx: OpContext) -> Response | StreamResponse:
    """Run one operation after auth and injection; raises BedrockError for Bedrock's error answers."""
    model = check_model(model_id)
    if operation == "CountTokens" and len(model_id) > 256:
        raise BedrockError("ValidationException", INVALID_ID)
    parsed = parse_json(body)
    try:
        return HANDLERS[operation](model, parsed, ctx)
    except (AttributeError, TypeError, KeyError, ValueError):  # wrong JSON types where objects/lists belong
        raise BedrockError(
            "ValidationException", "Malformed input request, please reformat your input and try again."
        ) from None
