"""OpenAI Chat Completions <-> Bedrock Converse.

Requests become a Converse body; Converse answers (from Bedrock, or from Gemini through
converse_gemini) become a chat.completion object or the SSE chunks a streaming client expects.
"""

from __future__ import annotations

import time
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
    parse_json_object,
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

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}

OPENING_USER_TEXT = "."

_EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


def to_converse(body: Any) -> ConverseCall:
    """Translate an OpenAI chat.completions request body into a Converse call."""
    body = require_object(body, "request body")
    system: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for i, message in enumerate(require_list(body.get("messages"), "messages", non_empty=True)):
        _add_message(message, f"messages[{i}]", system, messages)
    if not messages:
        fail("messages must contain at least one user message")
    if messages[0]["role"] == "assistant":
        # OpenAI accepts a conversation that opens with the assistant (a greeting); Converse
        # wants a user turn first, so a minimal one is put in front (decision 0039).
        messages.insert(0, {"role": "user", "content": [{"text": OPENING_USER_TEXT}]})

    converse: dict[str, Any] = {"messages": messages}
    if system:
        converse["system"] = system

    n = body.get("n")
    if n is not None and n != 1:
        fail("n: only n=1 is supported", code="unsupported_value")
    inference: dict[str, Any] = {}
    max_tokens = opt_int(body, "max_completion_tokens", minimum=1)
    if max_tokens is None:
        max_tokens = opt_int(body, "max_tokens", minimum=1)
    if max_tokens is not None:
        inference["maxTokens"] = max_tokens
    # OpenAI allows temperature up to 2, Bedrock models up to 1: passed through unchanged
    # (Gemini accepts 0-2); Bedrock answers a validation error for an out-of-range value.
    temperature = opt_number(body, "temperature", low=0, high=2)
    if temperature is not None:
        inference["temperature"] = temperature
    top_p = opt_number(body, "top_p", low=0, high=1)
    if top_p is not None:
        inference["topP"] = top_p
    stop = _stop_sequences(body.get("stop"))
    if stop:
        inference["stopSequences"] = stop
    if inference:
        converse["inferenceConfig"] = inference

    tool_config = _tool_config(body.get("tools"), body.get("tool_choice"))
    if tool_config:
        converse["toolConfig"] = tool_config
    elif _has_tool_history(body["messages"]):
        flatten_tool_history(messages)
    output_config = _output_config(body.get("response_format"))
    if output_config:
        converse["outputConfig"] = output_config

    stream = opt_bool(body, "stream")
    include_usage = False
    options = body.get("stream_options")
    if options is not None:
        include_usage = opt_bool(
            require_object(options, "stream_options"), "include_usage", "stream_options.include_usage"
        )
    return ConverseCall(
        body=converse,
        stream=stream,
        include_usage=stream and include_usage,
        requested_model=opt_str(body, "model"),
        max_tokens=max_tokens,
    )


def _add_message(message: Any, field: str, system: list[dict[str, Any]], messages: list[dict[str, Any]]) -> None:
    message = require_object(message, field)
    role = message.get("role")
    content = message.get("content")
    if role in ("system", "developer"):
        system.extend(_text_blocks(content, f"{field}.content"))
    elif role == "user":
        blocks = _user_blocks(content, f"{field}.content")
        if not blocks:
            fail(f"{field}.content must not be empty")
        append_message(messages, "user", blocks)
    elif role == "assistant":
        blocks = _text_blocks(content, f"{field}.content", allow_refusal=True) if content is not None else []
        tool_calls = message.get("tool_calls")
        if tool_calls is not None:
            for j, call in enumerate(require_list(tool_calls, f"{field}.tool_calls")):
                blocks.append(_tool_use(call, f"{field}.tool_calls[{j}]"))
        if blocks:
            append_message(messages, "assistant", blocks)
        elif content is None and tool_calls is None:
            fail(f"{field}: an assistant message needs content or tool_calls")
        # content "" alone: nothing to send (Converse rejects blank text)
    elif role == "tool":
        tool_call_id = require_str(message.get("tool_call_id"), f"{field}.tool_call_id")
        append_message(messages, "user", [tool_result(tool_call_id, _text_blocks(content, f"{field}.content"))])
    else:
        fail(f"{field}.role must be one of system, developer, user, assistant, tool")


def _has_tool_history(client_messages: list[Any]) -> bool:
    return any(isinstance(m, dict) and (m.get("role") == "tool" or m.get("tool_calls")) for m in client_messages)


def _text_blocks(content: Any, field: str, *, allow_refusal: bool = False) -> list[dict[str, Any]]:
    """Text-only content (system, developer, assistant, tool). Empty text is dropped: Converse
    rejects blank text blocks."""
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        fail(f"{field} must be a string or an array of content parts")
    blocks: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        part = require_object(part, f"{field}[{j}]")
        kind = part.get("type")
        if kind == "text" or (allow_refusal and kind == "refusal"):
            text = require_str(part.get(kind), f"{field}[{j}].{kind}")
            if text:
                blocks.append({"text": text})
        else:
            fail(f"{field}[{j}].type must be 'text' here", code="unsupported_content")
    return blocks


def _user_blocks(content: Any, field: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        fail(f"{field} must be a string or an array of content parts")
    blocks: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        part = require_object(part, f"{field}[{j}]")
        kind = part.get("type")
        if kind == "text":
            text = require_str(part.get("text"), f"{field}[{j}].text")
            if text:
                blocks.append({"text": text})
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            blocks.append(_image_from_url(url, f"{field}[{j}].image_url.url"))
        else:
            fail(f"{field}[{j}].type {str(kind)[:40]!r} is not supported; use text or image_url", "unsupported_content")
    return blocks


def _image_from_url(url: Any, field: str) -> dict[str, Any]:
    url = require_str(url, field)
    if not url.startswith("data:"):
        fail(
            f"{field}: only base64 data: URLs are supported (data:image/png;base64,...); "
            "the gateway does not fetch remote images",
            code="unsupported_image_url",
        )
    header, comma, data = url[5:].partition(",")
    media_type, _, encoding = header.partition(";")
    if not comma or encoding != "base64":
        fail(f"{field}: the data: URL must be base64 encoded (data:image/png;base64,...)")
    return image_block(media_type, data, field)


def _tool_use(call: Any, field: str) -> dict[str, Any]:
    call = require_object(call, field)
    function = require_object(call.get("function"), f"{field}.function")
    return {
        "toolUse": {
            "toolUseId": require_str(call.get("id"), f"{field}.id"),
            "name": require_str(function.get("name"), f"{field}.function.name"),
            "input": parse_json_object(function.get("arguments"), f"{field}.function.arguments"),
        }
    }


def _stop_sequences(stop: Any) -> list[str]:
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop] if stop else []
    return [s for i, s in enumerate(require_list(stop, "stop")) if require_str(s, f"stop[{i}]")]


def _tool_config(tools: Any, choice: Any) -> dict[str, Any] | None:
    if tools is None or choice == "none":
        return None
    specs = []
    for i, tool in enumerate(require_list(tools, "tools")):
        tool = require_object(tool, f"tools[{i}]")
        if tool.get("type", "function") != "function":
            fail(f"tools[{i}].type must be 'function'", code="unsupported_tool")
        function = require_object(tool.get("function"), f"tools[{i}].function")
        spec: dict[str, Any] = {"name": require_str(function.get("name"), f"tools[{i}].function.name")}
        description = opt_str(function, "description", f"tools[{i}].function.description")
        if description:
            spec["description"] = description
        parameters = function.get("parameters")
        spec["inputSchema"] = {
            "json": _EMPTY_SCHEMA
            if parameters is None
            else require_object(parameters, f"tools[{i}].function.parameters")
        }
        specs.append({"toolSpec": spec})
    if not specs:
        return None
    config: dict[str, Any] = {"tools": specs}
    if choice is None or choice == "auto":
        pass
    elif choice == "required":
        config["toolChoice"] = {"any": {}}
    elif isinstance(choice, dict) and choice.get("type") == "function":
        function = require_object(choice.get("function"), "tool_choice.function")
        config["toolChoice"] = {"tool": {"name": require_str(function.get("name"), "tool_choice.function.name")}}
    else:
        fail("tool_choice must be 'none', 'auto', 'required' or {'type': 'function', 'function': {'name': ...}}")
    return config


def _output_config(response_format: Any) -> dict[str, Any] | None:
    if response_format is None:
        return None
    response_format = require_object(response_format, "response_format")
    kind = response_format.get("type")
    if kind in ("text", "json_object"):
        # Converse has no plain JSON mode; json_object relies on the prompt, as OpenAI documents.
        return None
    if kind != "json_schema":
        fail("response_format.type must be text, json_object or json_schema")
    spec = require_object(response_format.get("json_schema"), "response_format.json_schema")
    schema = require_object(spec.get("schema"), "response_format.json_schema.schema")
    definition: dict[str, Any] = {"schema": dumps(schema)}  # Converse wants the schema as a JSON string
    name = opt_str(spec, "name", "response_format.json_schema.name")
    if name:
        definition["name"] = name
    description = opt_str(spec, "description", "response_format.json_schema.description")
    if description:
        definition["description"] = description
    return {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": definition}}}


# ---- answers -------------------------------------------------------------------------


def _message_parts(resp: Any) -> tuple[str, list[dict[str, Any]]]:
    texts: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    for block in converse_output_blocks(resp):
        text = block.get("text")
        if isinstance(text, str):
            texts.append(text)
            continue
        use = block.get("toolUse")
        if isinstance(use, dict):
            tool_calls.append(
                {
                    "id": str(use.get("toolUseId", f"call_{len(tool_calls)}")),
                    "type": "function",
                    "function": {
                        "name": str(use.get("name", "")),
                        "arguments": dumps_input(use.get("input", {}), upstream=True),
                    },
                }
            )
    return "".join(texts), tool_calls


def _usage(resp: dict[str, Any]) -> dict[str, Any]:
    usage = usage_from_converse(resp)
    prompt = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": usage.output_tokens,
        "total_tokens": prompt + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens},
    }


def from_converse(resp: Any, *, model: str, request_id: str, created: int | None = None) -> dict[str, Any]:
    """A chat.completion object for a Converse answer."""
    text, tool_calls = _message_parts(resp)
    message: dict[str, Any] = {"role": "assistant", "content": text if text or not tool_calls else None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    message["refusal"] = None
    return {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion",
        "created": int(time.time()) if created is None else created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": FINISH_REASONS.get(stop_reason(resp), "stop"),
            }
        ],
        "usage": _usage(resp),
    }


def stream_from_converse(
    resp: Any, *, model: str, request_id: str, include_usage: bool, created: int | None = None
) -> bytes:
    """OpenAI chat.completion.chunk SSE built from a complete Converse answer: a role chunk,
    the text, one chunk per tool call, the finish chunk, the usage chunk, then [DONE]."""
    text, tool_calls = _message_parts(resp)
    head = f'{{"id":{dumps(f"chatcmpl-{request_id}")},"object":"chat.completion.chunk","created":'
    head += f'{int(time.time()) if created is None else created},"model":{dumps(model)},'
    tail = ',"usage":null}\n\n' if include_usage else "}\n\n"

    def chunk(delta: str, finish: str = "null") -> str:
        # Fixed-shape chunks are templated; only strings and tool calls go through the encoder.
        return f'data: {head}"choices":[{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":{finish}}}]{tail}'

    out = [chunk('{"role":"assistant","content":""}')]
    if text:
        out.append(chunk(f'{{"content":{quote(text)}}}'))
    for i, call in enumerate(tool_calls):
        out.append(chunk(dumps({"tool_calls": [{"index": i, **call}]})))
    out.append(chunk("{}", quote(FINISH_REASONS.get(stop_reason(resp), "stop"))))
    if include_usage:
        out.append("data: " + head + '"choices":[],"usage":' + dumps(_usage(resp)) + "}\n\n")
    out.append("data: [DONE]\n\n")
    return utf8("".join(out))
