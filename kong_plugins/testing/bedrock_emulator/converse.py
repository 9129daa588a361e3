"""Converse and ConverseStream: request validation, prompt extraction, response shapes."""

from __future__ import annotations

import json
from typing import Any

from . import eventstream, tokens
from .common import OpContext, Response, StreamResponse, Timing, request_id
from .errors import CONVERSE_STREAM_EXCEPTIONS, INVOKE_STREAM_EXCEPTIONS, BedrockError, lower_camel
from .models import ResolvedModel
from .replies import Prompt, Reply, ToolDef, plan_reply

DEFAULT_MAX_TOKENS = 4096
START_WITH_USER = (
    "A conversation must start with a user message. Try again with a conversation that starts with a user message."
)
ALTERNATE = (
    "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between "
    "user and assistant roles and try again."
)
NEEDS_TOOL_CONFIG = "The toolConfig field must be defined when using toolUse and toolResult content blocks."
MODEL_ERRORS = "The model returned the following errors: "
BOTH_SAMPLING = (
    "The model returned the following errors: `temperature` and `top_p` cannot both be specified for this model. "
    "Please use only one."
)


def _invalid(message: str) -> BedrockError:
    return BedrockError("ValidationException", message)


def _constraint(value: Any, where: str, rule: str) -> BedrockError:
    return _invalid(f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy constraint: {rule}")


def _add_block(prompt: Prompt, block: dict[str, Any], in_last_user: bool) -> bool:
    """Count one content block; return True when it uses tools."""
    if "text" in block:
        prompt.texts.append(str(block["text"]))
        if in_last_user:
            prompt.last_user_text += str(block["text"]) + " "
    elif "cachePoint" in block:
        prompt.mark_cache_point()
    elif "image" in block:
        prompt.extra_tokens += tokens.IMAGE_TOKENS
    elif "document" in block:
        source = (block["document"] or {}).get("source") or {}
        prompt.extra_tokens += len(str(source.get("bytes", source.get("text", "")))) * 3 // 16 + 1
    elif "toolUse" in block:
        use = block["toolUse"] or {}
        prompt.texts.append(str(use.get("name", "")) + json.dumps(use.get("input", {})))
        return True
    elif "toolResult" in block:
        for part in (block["toolResult"] or {}).get("content") or []:
            prompt.texts.append(str(part.get("text", "")) if "text" in part else json.dumps(part.get("json", part)))
        if in_last_user:
            prompt.after_tool_result = True
        return True
    elif "guardContent" in block:
        prompt.texts.append(str(((block["guardContent"] or {}).get("text") or {}).get("text", "")))
    elif "reasoningContent" in block:
        prompt.texts.append(str(((block["reasoningContent"] or {}).get("reasoningText") or {}).get("text", "")))
    return False


def _add_tools(prompt: Prompt, tool_config: dict[str, Any]) -> None:
    for tool in tool_config.get("tools") or []:
        if "cachePoint" in tool:
            prompt.mark_cache_point()
            continue
        spec = tool.get("toolSpec") or {}
        prompt.texts.append(json.dumps(spec, separators=(",", ":")))
        prompt.tools.append(ToolDef(str(spec.get("name", "")), (spec.get("inputSchema") or {}).get("json") or {}))
    choice = tool_config.get("toolChoice") or {}
    if "tool" in choice:
        prompt.forced_tool = str((choice["tool"] or {}).get("name", ""))


def build_prompt(model: ResolvedModel, body: dict[str, Any]) -> Prompt:
    """Validate a Converse body the way Bedrock does and extract what the reply needs."""
    prompt = Prompt(model.model_id)
    for block in body.get("system") or []:
        _add_block(prompt, block, in_last_user=False)
    tool_config = body.get("toolConfig")
    if tool_config:
        _add_tools(prompt, tool_config)
    messages = body.get("messages")
    if messages is None:
        raise _invalid(
            "1 validation error detected: Value null at 'messages' failed to satisfy constraint: "
            "Member must not be null"
        )
    turns = [m for m in messages if m.get("role") != "system"]  # `system` turns are instructions
    if not turns or turns[0].get("role") != "user":
        raise _invalid(START_WITH_USER)
    uses_tools = False
    previous = None
    for i, message in enumerate(messages):
        role = message.get("role")
        if role not in ("user", "assistant", "system"):
            raise _constraint(
                role, f"messages.{i + 1}.member.role", "Member must satisfy enum value set: [user, assistant, system]"
            )
        if role == previous and role != "system":
            raise _invalid(ALTERNATE)
        if role != "system":
            previous = role
        content = message.get("content") or []
        if not content:
            raise _invalid(
                f"The content field in the Message object at messages.{i} is empty. Add a ContentBlock object to "
                "the content field and try again."
            )
        last_user = i == len(messages) - 1 and role == "user"
        for block in content:
            uses_tools = _add_block(prompt, block, last_user) or uses_tools
        prompt.extra_tokens += tokens.MESSAGE_OVERHEAD
    if uses_tools and not tool_config:
        raise _invalid(NEEDS_TOOL_CONFIG)
    _apply_inference_config(prompt, model, body.get("inferenceConfig") or {})
    extra = body.get("additionalModelRequestFields") or {}
    if isinstance(extra, dict) and prompt.max_tokens is not None:
        apply_thinking(prompt, extra.get("thinking"), prompt.max_tokens, MODEL_ERRORS)
    return prompt


def _apply_inference_config(prompt: Prompt, model: ResolvedModel, config: dict[str, Any]) -> None:
    limit = model.claude.max_output if model.claude else DEFAULT_MAX_TOKENS
    max_tokens = config.get("maxTokens")
    if max_tokens is not None:
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise _constraint(
                max_tokens, "inferenceConfig.maxTokens", "Member must have value greater than or equal to 1"
            )
        if max_tokens > limit:
            raise _invalid(
                f"The maximum tokens you requested exceeds the model limit of {limit}. Try again with a maximum "
                f"tokens value that is lower than {limit}."
            )
    for name in ("temperature", "topP"):
        value = config.get(name)
        if value is not None and not 0 <= value <= 1:
            raise _constraint(value, f"inferenceConfig.{name}", "Member must have value less than or equal to 1")
    if model.claude and model.claude.exclusive_sampling and "temperature" in config and "topP" in config:
        raise _invalid(BOTH_SAMPLING)
    prompt.max_tokens = max_tokens or min(limit, DEFAULT_MAX_TOKENS)
    prompt.stop_sequences = list(config.get("stopSequences") or [])


def _usage(reply: Reply) -> dict[str, int]:
    return {
        "inputTokens": reply.input_tokens,
        "outputTokens": reply.output_tokens,
        "totalTokens": reply.input_tokens + reply.output_tokens + reply.cache_read + reply.cache_write,
        "cacheReadInputTokens": reply.cache_read,
        "cacheWriteInputTokens": reply.cache_write,
    }


def _plan(model: ResolvedModel, body: dict[str, Any], ctx: OpContext) -> Reply:
    prompt = build_prompt(model, body)
    minimum = model.claude.cache_min_tokens if model.claude else 1024
    read, write = ctx.cache_usage(model.base_id, prompt, minimum)
    return plan_reply(prompt, read, write)


def apply_thinking(prompt: Prompt, thinking: Any, max_tokens: int, prefix: str = "") -> None:
    """Claude extended thinking: validate the budget as Anthropic does and turn reasoning output on."""
    if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "adaptive"):
        return
    if thinking["type"] == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < 1024:
            raise _invalid(prefix + "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
        if max_tokens <= budget:
            raise _invalid(prefix + "`max_tokens` must be greater than `thinking.budget_tokens`.")
    prompt.thinking = True


def _blocks(reply: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.reasoning:
        blocks.append({"reasoningContent": {"reasoningText": {"text": reply.reasoning, "signature": reply.signature}}})
    if reply.tool is not None:
        use = {"toolUseId": "tooluse_" + reply.tool_id, "name": reply.tool.name, "input": reply.tool_input}
        blocks.append({"toolUse": use})
    else:
        blocks.append({"text": reply.text})
    return blocks


def _echo(body: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """Bedrock echoes the performance and service-tier settings it applied."""
    for key in ("performanceConfig", "serviceTier"):
        if isinstance(body.get(key), dict):
            payload[key] = body[key]
    return payload


def converse(model: ResolvedModel, body: dict[str, Any], ctx: OpContext) -> Response:
    reply = _plan(model, body, ctx)
    latency = ctx.timing.total_ms(reply.output_tokens)
    payload = {
        "output": {"message": {"role": "assistant", "content": _blocks(reply)}},
        "stopReason": reply.stop_reason,
        "usage": _usage(reply),
        "metrics": {"latencyMs": latency},
    }
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id())]
    return Response(200, headers, json.dumps(_echo(body, payload)).encode(), latency / 1000.0)


def _delta(timing: Timing, index: int, delta: dict[str, Any], piece: str) -> tuple[float, bytes]:
    body = {"contentBlockIndex": index, "delta": delta}
    return timing.frame_delay_s(tokens.count(piece)), eventstream.event("contentBlockDelta", body)


def converse_stream(model: ResolvedModel, body: dict[str, Any], ctx: OpContext) -> StreamResponse:
    reply = _plan(model, body, ctx)
    timing = ctx.timing
    gap = timing.frame_delay_s(0)
    frames: list[tuple[float, bytes]] = [(0.0, eventstream.event("messageStart", {"role": "assistant"}))]
    index = 0
    if reply.reasoning:
        frames += [
            _delta(timing, 0, {"reasoningContent": {"text": p}}, p) for p in tokens.split_pieces(reply.reasoning)
        ]
        frames.append(_delta(timing, 0, {"reasoningContent": {"signature": reply.signature}}, ""))
        frames.append((gap, eventstream.event("contentBlockStop", {"contentBlockIndex": 0})))
        index = 1
    deltas: list[tuple[float, bytes]] = []
    if reply.tool is not None:
        start = {"toolUse": {"toolUseId": "tooluse_" + reply.tool_id, "name": reply.tool.name}}
        frames.append((gap, eventstream.event("contentBlockStart", {"contentBlockIndex": index, "start": start})))
        for piece in tokens.split_pieces(json.dumps(reply.tool_input), 12):
            deltas.append(_delta(timing, index, {"toolUse": {"input": piece}}, piece))
    else:
        deltas = [_delta(timing, index, {"text": p}, p) for p in tokens.split_pieces(reply.text)]
    if ctx.mid_stream_error:
        return broken_stream(frames + deltas[:1], ctx.mid_stream_error, timing)
    frames += deltas
    frames.append((gap, eventstream.event("contentBlockStop", {"contentBlockIndex": index})))
    frames.append((gap, eventstream.event("messageStop", {"stopReason": reply.stop_reason})))
    metadata = {"usage": _usage(reply), "metrics": {"latencyMs": timing.total_ms(reply.output_tokens)}}
    frames.append((gap, eventstream.event("metadata", _echo(body, metadata))))
    return StreamResponse(200, stream_headers(), frames, timing.latency_ms / 1000.0)


def stream_headers(invoke: bool = False) -> list[tuple[str, str]]:
    headers = [("Content-Type", "application/vnd.amazon.eventstream"), ("x-amzn-RequestId", request_id())]
    if invoke:  # IMWRS names the payload type in its own header
        headers.append(("X-Amzn-Bedrock-Content-Type", "application/json"))
    return headers


def broken_stream(
    frames: list[tuple[float, bytes]], code: str, timing: Timing, members: set[str] | None = None
) -> StreamResponse:
    frames = list(frames)
    frames.append((timing.frame_delay_s(0), stream_error_frame(code, members or CONVERSE_STREAM_EXCEPTIONS)))
    headers = stream_headers(invoke=members is INVOKE_STREAM_EXCEPTIONS)
    return StreamResponse(200, headers, frames, timing.latency_ms / 1000.0, stream_error=code)


def stream_error_frame(code: str, members: set[str]) -> bytes:
    err = BedrockError(code)
    if code in members:
        return eventstream.exception(lower_camel(code), err.stream_frame_body())
    return eventstream.error(code, err.message)
