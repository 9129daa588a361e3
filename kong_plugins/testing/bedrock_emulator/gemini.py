"""Gemini API v1beta: generateContent, streamGenerateContent (SSE or JSON array), countTokens."""

from __future__ import annotations

import json
import re
from typing import Any

from . import tokens
from .common import OpContext, Response, StreamResponse, request_id
from .errors import GoogleError
from .models import GEMINI, GeminiModel
from .replies import Prompt, Reply, ToolDef, plan_reply

OPERATIONS = {
    "generateContent": "GenerateContent",
    "streamGenerateContent": "StreamGenerateContent",
    "countTokens": "GeminiCountTokens",
}
STREAMING = {"StreamGenerateContent"}
FINISH = {"end_turn": "STOP", "tool_use": "STOP", "stop_sequence": "STOP", "max_tokens": "MAX_TOKENS"}


def route(path: str) -> tuple[str, str] | None:
    """`/v1beta/models/{model}:{method}` -> (operation, model name), else None."""
    for prefix in ("/v1beta/models/", "/v1/models/"):
        if path.startswith(prefix):
            model, _, method = path[len(prefix) :].partition(":")
            operation = OPERATIONS.get(method)
            return (operation, model) if operation and model else None
    return None


def check_key(headers: dict[str, str], query: dict[str, str], keys: set[str]) -> None:
    key = headers.get("x-goog-api-key") or query.get("key")
    if not key:
        raise GoogleError(
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key "
            "or other form of API consumer identity to call this API.",
        )
    if key not in keys:
        raise GoogleError(
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ],
        )


def check_model(name: str, operation: str) -> GeminiModel:
    model = GEMINI.get(name.removeprefix("models/"))
    if model is None:
        method = {v: k for k, v in OPERATIONS.items()}[operation]
        raise GoogleError(
            "NOT_FOUND",
            f"models/{name} is not found for API version v1beta, or is not supported for {method}. Call ListModels "
            "to see the list of available models and their supported methods.",
        )
    return model


def _get(obj: dict[str, Any], camel: str) -> Any:
    """Google's JSON parser takes lowerCamel and snake_case field names alike (google-genai sends both)."""
    if camel in obj:
        return obj[camel]
    return obj.get(re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel))


def _invalid(message: str) -> GoogleError:
    return GoogleError("INVALID_ARGUMENT", message)


def build_prompt(model: GeminiModel, body: dict[str, Any]) -> Prompt:
    prompt = Prompt(model.name)
    for part in (_get(body, "systemInstruction") or {}).get("parts") or []:
        prompt.texts.append(str(part.get("text", "")))
    contents = body.get("contents")
    if not contents:
        raise _invalid("* GenerateContentRequest.contents: contents is not specified\n")
    for i, content in enumerate(contents):
        role = content.get("role", "user")
        if role not in ("user", "model", "function"):
            raise _invalid(f"Please use a valid role: user, model. (contents[{i}].role = {role})")
        last_user = i == len(contents) - 1 and role in ("user", "function")
        for part in content.get("parts") or []:
            if "text" in part:
                prompt.texts.append(str(part["text"]))
                if last_user:
                    prompt.last_user_text += str(part["text"]) + " "
            elif _get(part, "inlineData") is not None:
                prompt.extra_tokens += 258  # Gemini bills an image as 258 tokens
            elif _get(part, "functionCall") is not None:
                prompt.texts.append(json.dumps(_get(part, "functionCall")))
            elif _get(part, "functionResponse") is not None:
                prompt.texts.append(json.dumps(_get(part, "functionResponse")))
                prompt.after_tool_result = prompt.after_tool_result or last_user
    for tool in body.get("tools") or []:
        for decl in _get(tool, "functionDeclarations") or []:
            prompt.texts.append(json.dumps(decl, separators=(",", ":")))
            schema = decl.get("parameters") or _get(decl, "parametersJsonSchema") or {}
            prompt.tools.append(ToolDef(str(decl.get("name", "")), schema))
    calling = _get(_get(body, "toolConfig") or {}, "functionCallingConfig") or {}
    prompt.tools_disabled = calling.get("mode") == "NONE"
    allowed = _get(calling, "allowedFunctionNames") or []
    if allowed:
        prompt.forced_tool = str(allowed[0])
    config = _get(body, "generationConfig") or {}
    max_tokens = _get(config, "maxOutputTokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or not 1 <= max_tokens <= model.max_output):
        raise _invalid(
            f"Unable to submit request because it has a maxOutputTokens value of {max_tokens} but the supported "
            f"range is from 1 (inclusive) to {model.max_output + 1} (exclusive). Update the value and try again."
        )
    prompt.max_tokens = max_tokens
    stops = _get(config, "stopSequences") or []
    if len(stops) > 5:
        raise _invalid(
            "* GenerateContentRequest.generation_config.stop_sequences: at most 5 stop sequences are allowed\n"
        )
    prompt.stop_sequences = list(stops)
    return prompt


def _thoughts(model: GeminiModel, body: dict[str, Any], reply: Reply) -> int:
    thinking = _get(_get(body, "generationConfig") or {}, "thinkingConfig") or {}
    if _get(thinking, "thinkingBudget") == 0 or str(_get(thinking, "thinkingLevel") or "").lower() == "minimal":
        return 0
    if model.thinks_by_default or _get(thinking, "thinkingBudget") or _get(thinking, "thinkingLevel"):
        return 2 * reply.output_tokens + 11
    return 0


def _usage(reply: Reply, thoughts: int, final: bool = True) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "promptTokenCount": reply.input_tokens,
        "totalTokenCount": reply.input_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": reply.input_tokens}],
    }
    if final:
        usage["candidatesTokenCount"] = reply.output_tokens
        usage["totalTokenCount"] = reply.input_tokens + reply.output_tokens + thoughts
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
    return usage


def _part(reply: Reply) -> dict[str, Any]:
    if reply.tool is not None:
        return {"functionCall": {"name": reply.tool.name, "args": reply.tool_input}}
    return {"text": reply.text}


def _response(
    model: GeminiModel, parts: list[dict[str, Any]], finish: str | None, usage: dict[str, Any], rid: str
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model.name, "responseId": rid}


def generate(model: GeminiModel, body: dict[str, Any], ctx: OpContext) -> Response:
    reply = plan_reply(build_prompt(model, body))
    thoughts = _thoughts(model, body, reply)
    payload = _response(model, [_part(reply)], FINISH[reply.stop_reason], _usage(reply, thoughts), request_id()[:22])
    delay = ctx.timing.total_ms(reply.output_tokens + thoughts) / 1000.0
    return Response(200, [("Content-Type", "application/json; charset=UTF-8")], json.dumps(payload).encode(), delay)


def stream(model: GeminiModel, body: dict[str, Any], ctx: OpContext, sse: bool) -> StreamResponse:
    reply = plan_reply(build_prompt(model, body))
    thoughts = _thoughts(model, body, reply)
    rid = request_id()[:22]
    timing = ctx.timing
    if reply.tool is not None:
        pieces: list[dict[str, Any]] = [_part(reply)]
    else:
        pieces = [{"text": p} for p in tokens.split_pieces(reply.text, 24)]
    events = []
    for i, part in enumerate(pieces):
        last = i == len(pieces) - 1
        usage = _usage(reply, thoughts, final=last)
        events.append(_response(model, [part], FINISH[reply.stop_reason] if last else None, usage, rid))
    first_delay = timing.frame_delay_s(thoughts) if thoughts else 0.0
    delays = [first_delay] + [timing.frame_delay_s(tokens.count(str(p.get("text", "")))) for p in pieces[1:]]
    if ctx.mid_stream_error:
        err = GoogleError(ctx.mid_stream_error)
        events = events[:1] + [err.payload()]
        delays = delays[:1] + [timing.frame_delay_s(0)]
    frames = [
        (d, _frame(e, sse, i == 0, i == len(events) - 1)) for i, (d, e) in enumerate(zip(delays, events, strict=True))
    ]
    content_type = "text/event-stream" if sse else "application/json; charset=UTF-8"
    response = StreamResponse(200, [("Content-Type", content_type)], frames, timing.latency_ms / 1000.0)
    response.stream_error = ctx.mid_stream_error
    return response


def _frame(event: dict[str, Any], sse: bool, first: bool, last: bool) -> bytes:
    data = json.dumps(event, separators=(",", ":"))
    if sse:
        return f"data: {data}\r\n\r\n".encode()
    return (("[" if first else ",\r\n") + data + ("]" if last else "")).encode()


def count(model: GeminiModel, body: dict[str, Any]) -> Response:
    request = body.get("generateContentRequest") or body
    prompt = build_prompt(model, request)
    payload = {
        "totalTokens": prompt.input_tokens(),
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt.input_tokens()}],
    }
    return Response(200, [("Content-Type", "application/json; charset=UTF-8")], json.dumps(payload).encode())


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        raise GoogleError("INVALID_ARGUMENT", "Invalid JSON payload received. Unexpected token.") from None
    if not isinstance(parsed, dict):
        raise GoogleError("INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object.")
    return parsed


def handle(
    operation: str, model_name: str, body: bytes, query: dict[str, str], ctx: OpContext
) -> Response | StreamResponse:
    model = check_model(model_name, operation)
    parsed = parse_json(body)
    try:
        if operation == "GenerateContent":
            return generate(model, parsed, ctx)
        if operation == "StreamGenerateContent":
            return stream(model, parsed, ctx, sse=query.get("alt") == "sse")
        return count(model, parsed)
    except (AttributeError, TypeError, KeyError, ValueError):  # wrong JSON types where objects/lists belong
        raise GoogleError("INVALID_ARGUMENT", "Invalid JSON payload received. Unknown name or wrong type.") from None
