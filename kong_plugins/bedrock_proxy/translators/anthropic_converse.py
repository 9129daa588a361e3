"""Anthropic Messages <-> Bedrock Converse.

The request becomes a Converse body (cache_control becomes cachePoint blocks, top_k and
thinking go to additionalModelRequestFields); a Converse answer becomes a Messages object
or Anthropic's SSE event sequence.
"""

from __future__ import annotations

from typing import Any

from kong_plugins.bedrock_proxy.translators._common import (
    append_message,
    converse_output_blocks,
    dumps,
    dumps_input,
    fail,
    flatten_tool_history,
    image_block,
    opt_bool,
    opt_int,
    opt_number,
    opt_str,
    quote,
    require_list,
    require_object,
    require_str,
    stop_reason,
    tool_result,
    usage_from_converse,
    utf8,
)
from kong_plugins.bedrock_proxy.translators.call import ConverseCall

STOP_REASONS = {
    "end_turn": "end_turn",
    "stop_sequence": "stop_sequence",
    "max_tokens": "max_tokens",
    "tool_use": "tool_use",
    "guardrail_intervened": "refusal",
    "content_filtered": "refusal",
    "model_context_window_exceeded": "model_context_window_exceeded",
}


def to_converse(body: Any) -> ConverseCall:
    """Translate an Anthropic Messages request body into a Converse call."""
    body = require_object(body, "request body")
    if body.get("max_tokens") is None:
        fail("max_tokens: Field required", code="missing_field")
    max_tokens = opt_int(body, "max_tokens", minimum=1)

    messages: list[dict[str, Any]] = []
    for i, message in enumerate(require_list(body.get("messages"), "messages", non_empty=True)):
        field = f"messages[{i}]"
        message = require_object(message, field)
        role = message.get("role")
        if role not in ("user", "assistant"):
            fail(f"{field}.role must be 'user' or 'assistant'")
        blocks = _content(message.get("content"), f"{field}.content")
        if not blocks:
            fail(f"{field}.content must not be empty")
        append_message(messages, role, blocks)

    converse: dict[str, Any] = {"messages": messages}
    system = _system(body.get("system"))
    if system:
        converse["system"] = system

    inference: dict[str, Any] = {"maxTokens": max_tokens}
    temperature = opt_number(body, "temperature", low=0, high=1)
    if temperature is not None:
        inference["temperature"] = temperature
    top_p = opt_number(body, "top_p", low=0, high=1)
    if top_p is not None:
        inference["topP"] = top_p
    stop = body.get("stop_sequences")
    if stop is not None:
        sequences = [require_str(s, f"stop_sequences[{i}]") for i, s in enumerate(require_list(stop, "stop_sequences"))]
        if sequences:
            inference["stopSequences"] = sequences
            # Claude on Bedrock reports which sequence matched only when asked for it.
            converse["additionalModelResponseFieldPaths"] = ["/stop_sequence"]
    converse["inferenceConfig"] = inference

    extra: dict[str, Any] = {}
    top_k = opt_int(body, "top_k", minimum=0)
    if top_k is not None:
        extra["top_k"] = top_k
    thinking = body.get("thinking")
    if thinking is not None:
        extra["thinking"] = require_object(thinking, "thinking")
    if extra:
        converse["additionalModelRequestFields"] = extra

    tool_config = _tool_config(body.get("tools"), body.get("tool_choice"))
    if tool_config:
        converse["toolConfig"] = tool_config
    elif any("toolUse" in b or "toolResult" in b for m in messages for b in m["content"]):
        flatten_tool_history(messages)

    stream = opt_bool(body, "stream")
    return ConverseCall(
        body=converse,
        stream=stream,
        include_usage=stream,  # Anthropic streams always carry usage
        requested_model=opt_str(body, "model"),
        max_tokens=max_tokens,
    )


def _cache_point(block: dict[str, Any], field: str) -> dict[str, Any] | None:
    control = block.get("cache_control")
    if control is None:
        return None
    control = require_object(control, f"{field}.cache_control")
    point: dict[str, Any] = {"type": "default"}
    ttl = control.get("ttl")
    if ttl is not None:
        if ttl not in ("5m", "1h"):
            fail(f"{field}.cache_control.ttl must be '5m' or '1h'")
        point["ttl"] = ttl
    return {"cachePoint": point}


def _system(system: Any) -> list[dict[str, Any]]:
    if system is None:
        return []
    if isinstance(system, str):
        return [{"text": system}] if system else []
    if not isinstance(system, list):
        fail("system must be a string or an array of text blocks")
    out: list[dict[str, Any]] = []
    for i, block in enumerate(system):
        block = require_object(block, f"system[{i}]")
        if block.get("type") != "text":
            fail(f"system[{i}].type must be 'text'")
        text = require_str(block.get("text"), f"system[{i}].text")
        if text:
            out.append({"text": text})
        point = _cache_point(block, f"system[{i}]")
        if point:
            out.append(point)
    return out


def _content(content: Any, field: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        fail(f"{field} must be a string or an array of content blocks")
    out: list[dict[str, Any]] = []
    for j, block in enumerate(content):
        bfield = f"{field}[{j}]"
        block = require_object(block, bfield)
        converted = _block(block, bfield)
        if converted:
            out.append(converted)
        point = _cache_point(block, bfield)
        if point:
            out.append(point)
    return out


def _block(block: dict[str, Any], field: str) -> dict[str, Any] | None:
    kind = block.get("type")
    if kind == "text":
        text = require_str(block.get("text"), f"{field}.text")
        return {"text": text} if text else None
    if kind == "image":
        return _image(block.get("source"), f"{field}.source")
    if kind == "tool_use":
        tool_input = block.get("input")
        return {
            "toolUse": {
                "toolUseId": require_str(block.get("id"), f"{field}.id"),
                "name": require_str(block.get("name"), f"{field}.name"),
                "input": {} if tool_input is None else require_object(tool_input, f"{field}.input"),
            }
        }
    if kind == "tool_result":
        return tool_result(
            require_str(block.get("tool_use_id"), f"{field}.tool_use_id"),
            _result_content(block.get("content"), f"{field}.content"),
            error=opt_bool(block, "is_error", f"{field}.is_error"),
        )
    if kind == "thinking":
        reasoning: dict[str, Any] = {"text": require_str(block.get("thinking"), f"{field}.thinking")}
        signature = opt_str(block, "signature", f"{field}.signature")
        if signature:
            reasoning["signature"] = signature
        return {"reasoningContent": {"reasoningText": reasoning}}
    if kind == "redacted_thinking":
        return {"reasoningContent": {"redactedContent": require_str(block.get("data"), f"{field}.data")}}
    fail(f"{field}.type {str(kind)[:40]!r} is not supported", code="unsupported_content")


def _image(source: Any, field: str) -> dict[str, Any]:
    source = require_object(source, field)
    if source.get("type") != "base64":
        fail(f"{field}.type must be 'base64'; the gateway does not fetch image URLs", code="unsupported_image_url")
    return image_block(source.get("media_type"), source.get("data"), field)


def _result_content(content: Any, field: str) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        fail(f"{field} must be a string or an array of text and image blocks")
    out: list[dict[str, Any]] = []
    for k, block in enumerate(content):
        block = require_object(block, f"{field}[{k}]")
        kind = block.get("type")
        if kind == "text":
            text = require_str(block.get("text"), f"{field}[{k}].text")
            if text:
                out.append({"text": text})
        elif kind == "image":
            out.append(_image(block.get("source"), f"{field}[{k}].source"))
        else:
            fail(f"{field}[{k}].type must be 'text' or 'image'", code="unsupported_content")
    return out


def _tool_config(tools: Any, choice: Any) -> dict[str, Any] | None:
    if tools is None:
        return None
    specs: list[dict[str, Any]] = []
    for i, tool in enumerate(require_list(tools, "tools")):
        field = f"tools[{i}]"
        tool = require_object(tool, field)
        if tool.get("type", "custom") != "custom":
            fail(f"{field}.type: server tools are not supported through the gateway", code="unsupported_tool")
        spec: dict[str, Any] = {"name": require_str(tool.get("name"), f"{field}.name")}
        description = opt_str(tool, "description", f"{field}.description")
        if description:
            spec["description"] = description
        spec["inputSchema"] = {"json": require_object(tool.get("input_schema"), f"{field}.input_schema")}
        specs.append({"toolSpec": spec})
        point = _cache_point(tool, field)
        if point:
            specs.append(point)
    if not specs:
        return None
    config: dict[str, Any] = {"tools": specs}
    if choice is None:
        return config
    choice = require_object(choice, "tool_choice")
    kind = choice.get("type")
    if kind == "none":
        return None  # Converse has no "none": the model simply gets no tools
    if kind == "any":
        config["toolChoice"] = {"any": {}}
    elif kind == "tool":
        config["toolChoice"] = {"tool": {"name": require_str(choice.get("name"), "tool_choice.name")}}
    elif kind != "auto":
        fail("tool_choice.type must be auto, any, tool or none")
    return config


# ---- answers -------------------------------------------------------------------------


def _content_blocks(resp: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for block in converse_output_blocks(resp):
        text = block.get("text")
        if isinstance(text, str):
            out.append({"type": "text", "text": text})
            continue
        use = block.get("toolUse")
        if isinstance(use, dict):
            tool_input = use.get("input")
            out.append(
                {
                    "type": "tool_use",
                    "id": str(use.get("toolUseId", f"toolu_{len(out)}")),
                    "name": str(use.get("name", "")),
                    "input": tool_input if isinstance(tool_input, dict) else {},
                }
            )
            continue
        reasoning = block.get("reasoningContent")
        if isinstance(reasoning, dict):
            rtext = reasoning.get("reasoningText")
            if isinstance(rtext, dict):
                signature = rtext.get("signature")
                out.append(
                    {
                        "type": "thinking",
                        "thinking": str(rtext.get("text", "")),
                        "signature": signature if isinstance(signature, str) else "",
                    }
                )
            elif isinstance(reasoning.get("redactedContent"), str):
                out.append({"type": "redacted_thinking", "data": reasoning["redactedContent"]})
    return out


def _usage(resp: Any) -> dict[str, int]:
    usage = usage_from_converse(resp)
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
    }


def _stop(resp: dict[str, Any]) -> tuple[str, str | None]:
    reason = STOP_REASONS.get(stop_reason(resp), "end_turn")
    extra = resp.get("additionalModelResponseFields")
    sequence = extra.get("stop_sequence") if isinstance(extra, dict) else None
    return reason, sequence if isinstance(sequence, str) and reason == "stop_sequence" else None


def from_converse(resp: Any, *, model: str, request_id: str) -> dict[str, Any]:
    """An Anthropic Messages response object for a Converse answer."""
    content = _content_blocks(resp)
    reason, sequence = _stop(resp)
    return {
        "id": f"msg_{request_id}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": reason,
        "stop_sequence": sequence,
        "usage": _usage(resp),
    }


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {dumps(data)}\n\n"


def _raw_event(name: str, members: str) -> str:
    """An event whose data members are already JSON text (templated for speed)."""
    return f'event: {name}\ndata: {{"type":"{name}",{members}}}\n\n'


def stream_from_converse(resp: Any, *, model: str, request_id: str, include_usage: bool = True) -> bytes:
    """Anthropic's SSE event sequence built from a complete Converse answer. Usage is always
    sent (message_start has the input side, message_delta the output); `include_usage` is
    accepted for a uniform signature."""
    content = _content_blocks(resp)
    reason, sequence = _stop(resp)
    usage = _usage(resp)
    start_usage = {**usage, "output_tokens": 0}
    message: dict[str, Any] = {
        "id": f"msg_{request_id}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    out = [_event("message_start", {"type": "message_start", "message": message})]
    for index, block in enumerate(content):
        kind = block["type"]
        if kind == "text":
            start = '{"type":"text","text":""}'
            deltas = [f'{{"type":"text_delta","text":{quote(block["text"])}}}'] if block["text"] else []
        elif kind == "tool_use":
            start = dumps({"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}})
            deltas = [
                f'{{"type":"input_json_delta","partial_json":{quote(dumps_input(block["input"], upstream=True))}}}'
            ]
        elif kind == "thinking":
            start = '{"type":"thinking","thinking":"","signature":""}'
            deltas = [f'{{"type":"thinking_delta","thinking":{quote(block["thinking"])}}}']
            if block["signature"]:
                deltas.append(f'{{"type":"signature_delta","signature":{quote(block["signature"])}}}')
        else:
            start, deltas = dumps(block), []
        out.append(_raw_event("content_block_start", f'"index":{index},"content_block":{start}'))
        for delta in deltas:
            out.append(_raw_event("content_block_delta", f'"index":{index},"delta":{delta}'))
        out.append(_raw_event("content_block_stop", f'"index":{index}'))
    out.append(
        _event(
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": sequence}, "usage": usage},
        )
    )
    out.append('event: message_stop\ndata: {"type":"message_stop"}\n\n')
    return utf8("".join(out))
