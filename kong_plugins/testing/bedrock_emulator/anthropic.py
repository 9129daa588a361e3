"""InvokeModel and InvokeModelWithResponseStream with Anthropic Messages bodies."""

from __future__ import annotations

import json
from typing import Any

from . import eventstream, tokens
from .common import OpContext, Response, StreamResponse, Timing, request_id
from .converse import BOTH_SAMPLING, apply_thinking, broken_stream, stream_headers
from .errors import INVOKE_STREAM_EXCEPTIONS, BedrockError
from .models import ResolvedModel
from .replies import Prompt, Reply, ToolDef, plan_reply

ANTHROPIC_VERSION = "bedrock-2023-05-31"
ALLOWED_KEYS = {
    "anthropic_version",
    "anthropic_beta",
    "max_tokens",
    "messages",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "tools",
    "tool_choice",
    "thinking",
    "metadata",
    "output_config",
    "output_format",
    "context_management",
    "container",
    "mcp_servers",
    "service_tier",
}


def _malformed(detail: str) -> BedrockError:
    return BedrockError(
        "ValidationException", f"Malformed input request: {detail}, please reformat your input and try again."
    )


def _validate_shape(body: dict[str, Any]) -> None:
    violations = [
        f"#: required key [{k}] not found" for k in ("anthropic_version", "max_tokens", "messages") if k not in body
    ]
    violations += [f"#: extraneous key [{k}] is not permitted" for k in body if k not in ALLOWED_KEYS]
    if "anthropic_version" in body and body["anthropic_version"] != ANTHROPIC_VERSION:
        violations.append(f"#/anthropic_version: {body['anthropic_version']} is not a valid enum value")
    if "max_tokens" in body and (not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1):
        violations.append(f"#/max_tokens: {body['max_tokens']} is not greater or equal to 1")
    if len(violations) == 1:
        raise _malformed(violations[0])
    if violations:
        raise _malformed(f"{len(violations)} schema violations found")


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def _add_block(prompt: Prompt, block: dict[str, Any], in_last_user: bool) -> None:
    kind = block.get("type")
    if kind == "text":
        prompt.texts.append(str(block.get("text", "")))
        if in_last_user:
            prompt.last_user_text += str(block.get("text", "")) + " "
    elif kind == "image":
        prompt.extra_tokens += tokens.IMAGE_TOKENS
    elif kind == "document":
        prompt.extra_tokens += len(str((block.get("source") or {}).get("data", ""))) * 3 // 16 + 1
    elif kind == "tool_use":
        prompt.texts.append(str(block.get("name", "")) + json.dumps(block.get("input", {})))
    elif kind == "tool_result":
        for part in _blocks(block.get("content")):
            prompt.texts.append(str(part.get("text", "")))
        if in_last_user:
            prompt.after_tool_result = True
    elif kind in ("thinking", "redacted_thinking"):
        prompt.texts.append(str(block.get("thinking", block.get("data", ""))))
    if block.get("cache_control"):
        prompt.mark_cache_point()


def build_prompt(model: ResolvedModel, body: dict[str, Any]) -> Prompt:
    """Validate an Anthropic Messages body as Bedrock does and extract what the reply needs."""
    _validate_shape(body)
    prompt = Prompt(model.model_id)
    for tool in body.get("tools") or []:
        prompt.texts.append(json.dumps(tool, separators=(",", ":")))
        prompt.tools.append(ToolDef(str(tool.get("name", "")), tool.get("input_schema") or {}))
        if tool.get("cache_control"):
            prompt.mark_cache_point()
    for block in _blocks(body.get("system")):
        _add_block(prompt, block, in_last_user=False)
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        raise BedrockError("ValidationException", "messages: at least one message is required")
    if messages[0].get("role") != "user":
        raise BedrockError("ValidationException", 'messages: first message must use the "user" role')
    for i, message in enumerate(messages):
        if message.get("role") not in ("user", "assistant"):
            raise _malformed(f"#/messages/{i}/role: {message.get('role')} is not a valid enum value")
        last_user = i == len(messages) - 1 and message.get("role") == "user"
        for block in _blocks(message.get("content")):
            _add_block(prompt, block, last_user)
        prompt.extra_tokens += tokens.MESSAGE_OVERHEAD
    choice = body.get("tool_choice") or {}
    prompt.tools_disabled = choice.get("type") == "none"
    if choice.get("type") == "tool":
        prompt.forced_tool = str(choice.get("name", ""))
    _apply_sampling(prompt, model, body)
    return prompt


def _apply_sampling(prompt: Prompt, model: ResolvedModel, body: dict[str, Any]) -> None:
    limit = model.claude.max_output if model.claude else 4096
    if body["max_tokens"] > limit:
        raise BedrockError(
            "ValidationException",
            f"max_tokens: {body['max_tokens']} > {limit}, which is the maximum allowed number of output tokens for "
            f"{model.anthropic_name}",
        )
    if model.claude and model.claude.exclusive_sampling and "temperature" in body and "top_p" in body:
        raise BedrockError("ValidationException", BOTH_SAMPLING)
    prompt.max_tokens = body["max_tokens"]
    prompt.stop_sequences = list(body.get("stop_sequences") or [])
    apply_thinking(prompt, body.get("thinking"), body["max_tokens"])


def _plan(model: ResolvedModel, body: dict[str, Any], ctx: OpContext) -> Reply:
    prompt = build_prompt(model, body)
    minimum = model.claude.cache_min_tokens if model.claude else 1024
    read, write = ctx.cache_usage(model.base_id, prompt, minimum)
    return plan_reply(prompt, read, write)


def _thinking_block(reply: Reply) -> dict[str, Any]:
    return {"type": "thinking", "thinking": reply.reasoning, "signature": reply.signature}


def _content(reply: Reply) -> dict[str, Any]:
    if reply.tool is not None:
        return {
            "type": "tool_use",
            "id": "toolu_bdrk_01" + reply.tool_id,
            "name": reply.tool.name,
            "input": reply.tool_input,
        }
    return {"type": "text", "text": reply.text}


def _usage(reply: Reply) -> dict[str, int]:
    return {
        "input_tokens": reply.input_tokens,
        "output_tokens": reply.output_tokens,
        "cache_creation_input_tokens": reply.cache_write,
        "cache_read_input_tokens": reply.cache_read,
    }


def _message_id(reply: Reply) -> str:
    return "msg_bdrk_01" + (reply.tool_id or request_id().replace("-", "")[:22])


def invoke(model: ResolvedModel, body: dict[str, Any], ctx: OpContext) -> Response:
    reply = _plan(model, body, ctx)
    latency = ctx.timing.total_ms(reply.output_tokens)
    payload = {
        "id": _message_id(reply),
        "type": "message",
        "role": "assistant",
        "model": model.anthropic_name,
        "content": ([_thinking_block(reply)] if reply.reasoning else []) + [_content(reply)],
        "stop_reason": reply.stop_reason,
        "stop_sequence": reply.stop_sequence,
        "usage": _usage(reply),
    }
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-RequestId", request_id()),
        ("X-Amzn-Bedrock-Invocation-Latency", str(latency)),
        ("X-Amzn-Bedrock-Output-Token-Count", str(reply.output_tokens)),
        ("X-Amzn-Bedrock-Input-Token-Count", str(reply.input_tokens)),
    ]
    if reply.cache_read or reply.cache_write:
        headers.append(("X-Amzn-Bedrock-Cache-Read-Input-Token-Count", str(reply.cache_read)))
        headers.append(("X-Amzn-Bedrock-Cache-Write-Input-Token-Count", str(reply.cache_write)))
    return Response(200, headers, json.dumps(payload).encode(), latency / 1000.0)


def _thinking_deltas(reply: Reply) -> list[tuple[dict[str, Any], str]]:
    deltas = [({"type": "thinking_delta", "thinking": p}, p) for p in tokens.split_pieces(reply.reasoning)]
    return deltas + [({"type": "signature_delta", "signature": reply.signature}, "")]


def _block_frames(
    timing: Timing, index: int, block: dict[str, Any], deltas: list[tuple[dict[str, Any], str]]
) -> list[tuple[float, bytes]]:
    """content_block_start, then one content_block_delta per piece, each after its token delay."""
    frames = [
        (
            timing.frame_delay_s(0),
            eventstream.chunk({"type": "content_block_start", "index": index, "content_block": block}),
        )
    ]
    for delta, piece in deltas:
        event = {"type": "content_block_delta", "index": index, "delta": delta}
        frames.append((timing.frame_delay_s(tokens.count(piece)), eventstream.chunk(event)))
    return frames


def invoke_stream(model: ResolvedModel, body: dict[str, Any], ctx: OpContext) -> StreamResponse:
    reply = _plan(model, body, ctx)
    timing = ctx.timing
    gap = timing.frame_delay_s(0)
    start_usage = dict(_usage(reply), output_tokens=1)
    message: dict[str, Any] = {
        "id": _message_id(reply),
        "type": "message",
        "role": "assistant",
        "model": model.anthropic_name,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    frames = [(0.0, eventstream.chunk({"type": "message_start", "message": message}))]
    index = 0
    if reply.reasoning:
        frames += _block_frames(timing, 0, {"type": "thinking", "thinking": ""}, _thinking_deltas(reply))
        frames.append((gap, eventstream.chunk({"type": "content_block_stop", "index": 0})))
        index = 1
    block = _content(reply)
    if reply.tool is not None:
        block = dict(block, input={})
        pieces = tokens.split_pieces(json.dumps(reply.tool_input), 12)
        deltas = [({"type": "input_json_delta", "partial_json": p}, p) for p in pieces]
    else:
        block = dict(block, text="")
        deltas = [({"type": "text_delta", "text": p}, p) for p in tokens.split_pieces(reply.text)]
    block_frames = _block_frames(timing, index, block, deltas)
    if ctx.mid_stream_error:
        return broken_stream(frames + block_frames[:2], ctx.mid_stream_error, timing, INVOKE_STREAM_EXCEPTIONS)
    frames += block_frames
    frames.append((gap, eventstream.chunk({"type": "content_block_stop", "index": index})))
    stop = {"stop_reason": reply.stop_reason, "stop_sequence": reply.stop_sequence}
    frames.append(
        (
            gap,
            eventstream.chunk(
                {"type": "message_delta", "delta": stop, "usage": {"output_tokens": reply.output_tokens}}
            ),
        )
    )
    metrics = {
        "inputTokenCount": reply.input_tokens,
        "outputTokenCount": reply.output_tokens,
        "invocationLatency": timing.total_ms(reply.output_tokens),
        "firstByteLatency": int(timing.latency_ms),
    }
    if reply.cache_read or reply.cache_write:
        metrics["cacheReadInputTokenCount"] = reply.cache_read
        metrics["cacheWriteInputTokenCount"] = reply.cache_write
    frames.append((gap, eventstream.chunk({"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics})))
    return StreamResponse(200, stream_headers(invoke=True), frames, timing.latency_ms / 1000.0)
