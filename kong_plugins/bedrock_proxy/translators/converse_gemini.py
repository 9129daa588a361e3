"""Bedrock Converse <-> Gemini generateContent (v1beta).

Any client API reaches Gemini through its Converse translation: `to_gemini` turns the
Converse body into a generateContent body, and `converse_from_gemini` turns Google's answer
into a Converse-shaped answer, so the same from_converse renderers serve every client API.
"""

from __future__ import annotations

import hashlib
from typing import Any

from kong_plugins.bedrock_proxy.translators._common import (
    count,
    dumps_input,
    fail,
    opt_int,
    opt_number,
    require_list,
    require_object,
    require_str,
    upstream_fail,
)
from kong_plugins.bedrock_proxy.translators.call import ConverseCall

MAX_STOP_SEQUENCES = 5  # Gemini's limit; Bedrock allows 2500

# Gemini 3 rejects a replayed functionCall without the thoughtSignature it issued. Converse
# toolUseIds (<= 64 chars) cannot carry one, so history gets Google's documented
# placeholder that skips the check (decision 0035).
SKIP_THOUGHT_SIGNATURE = "skip_thought_signature_validator"

STOP_REASONS = {
    "STOP": "end_turn",
    "MAX_TOKENS": "max_tokens",
    "SAFETY": "content_filtered",
    "PROHIBITED_CONTENT": "content_filtered",
    "BLOCKLIST": "content_filtered",
    "SPII": "content_filtered",
    "RECITATION": "content_filtered",
    "IMAGE_SAFETY": "content_filtered",
    "MALFORMED_FUNCTION_CALL": "malformed_tool_use",
}

# Gemini's `parameters` takes an OpenAPI subset: other JSON Schema keywords are rejected.
_SCHEMA_KEYS = frozenset(
    "type format title description nullable enum maxItems minItems properties required minProperties "
    "maxProperties minLength maxLength pattern example anyOf propertyOrdering default items minimum maximum".split()
)

ROLES = {"user": "user", "assistant": "model"}


def to_gemini(call: ConverseCall) -> dict[str, Any]:
    """A generateContent request body for a Converse call (the model goes in the URL)."""
    body = require_object(call.body, "request body")
    out: dict[str, Any] = {}
    system = body.get("system")
    if system is not None:
        parts = [
            {"text": require_str(b["text"], f"system[{i}].text")}
            for i, b in enumerate(require_list(system, "system"))
            if isinstance(b, dict) and "text" in b
        ]
        if parts:
            out["systemInstruction"] = {"parts": parts}

    names: dict[str, str] = {}  # toolUseId -> function name, for functionResponse parts
    contents: list[dict[str, Any]] = []
    for i, message in enumerate(require_list(body.get("messages"), "messages", non_empty=True)):
        field = f"messages[{i}]"
        message = require_object(message, field)
        role = message.get("role")
        role = ROLES.get(role) if isinstance(role, str) else None
        if role is None:
            fail(f"{field}.role must be 'user' or 'assistant'")
        parts = []
        for j, block in enumerate(require_list(message.get("content"), f"{field}.content")):
            part = _part(require_object(block, f"{field}.content[{j}]"), f"{field}.content[{j}]", names)
            if part is not None:
                parts.append(part)
        if not parts:
            continue
        if role == "model":
            _sign_first_call(parts)
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    if not contents:
        fail("messages must contain content Gemini can use")
    out["contents"] = contents

    generation = _generation_config(body)
    if generation:
        out["generationConfig"] = generation
    tool_config = body.get("toolConfig")
    if tool_config is not None:
        out.update(_tools(require_object(tool_config, "toolConfig")))
    return out


def _part(block: dict[str, Any], field: str, names: dict[str, str]) -> dict[str, Any] | None:
    if "text" in block:
        return {"text": require_str(block["text"], f"{field}.text")}
    if "image" in block:
        image = require_object(block["image"], f"{field}.image")
        source = require_object(image.get("source"), f"{field}.image.source")
        data = source.get("bytes")
        if not isinstance(data, str):
            fail(f"{field}.image.source: only inline base64 bytes can be sent to Gemini")
        return {
            "inlineData": {
                "mimeType": f"image/{require_str(image.get('format'), f'{field}.image.format')}",
                "data": data,
            }
        }
    if "toolUse" in block:
        use = require_object(block["toolUse"], f"{field}.toolUse")
        name = require_str(use.get("name"), f"{field}.toolUse.name")
        names[require_str(use.get("toolUseId"), f"{field}.toolUse.toolUseId")] = name
        args = use.get("input")
        args = {} if args is None else require_object(args, f"{field}.toolUse.input")
        return {"functionCall": {"name": name, "args": args}}
    if "toolResult" in block:
        result = require_object(block["toolResult"], f"{field}.toolResult")
        use_id = require_str(result.get("toolUseId"), f"{field}.toolResult.toolUseId")
        return {
            "functionResponse": {
                "name": names.get(use_id, use_id),
                "response": _function_response(result, f"{field}.toolResult"),
            }
        }
    if "guardContent" in block:
        guarded = block["guardContent"]
        text = guarded.get("text") if isinstance(guarded, dict) else None
        return {
            "text": require_str(text.get("text") if isinstance(text, dict) else None, f"{field}.guardContent.text.text")
        }
    if "cachePoint" in block or "reasoningContent" in block:
        return None  # Gemini caches implicitly; earlier reasoning is not replayed
    fail(
        f"{field}: content block {next(iter(block), 'empty')[:40]!r} cannot be sent to Gemini",
        code="unsupported_content",
    )


def _sign_first_call(parts: list[dict[str, Any]]) -> None:
    """Gemini signs only the first functionCall of a turn (parallel calls share it)."""
    for part in parts:
        if "functionCall" in part:
            part["thoughtSignature"] = SKIP_THOUGHT_SIGNATURE
            return


def _function_response(result: dict[str, Any], field: str) -> dict[str, Any]:
    """Gemini wants an object: a single JSON object result as is, otherwise the text."""
    content = require_list(result.get("content", []), f"{field}.content")
    if len(content) == 1 and isinstance(content[0], dict) and isinstance(content[0].get("json"), dict):
        return content[0]["json"]
    texts = []
    for k, block in enumerate(content):
        block = require_object(block, f"{field}.content[{k}]")
        if "text" in block:
            texts.append(require_str(block["text"], f"{field}.content[{k}].text"))
        elif "json" in block:
            texts.append(dumps_input(block["json"], upstream=False))
    key = "error" if result.get("status") == "error" else "content"
    return {key: "\n".join(texts)}


def _generation_config(body: dict[str, Any]) -> dict[str, Any]:
    generation: dict[str, Any] = {}
    inference = body.get("inferenceConfig")
    if inference is not None:
        inference = require_object(inference, "inferenceConfig")
        max_tokens = opt_int(inference, "maxTokens", minimum=1, field="max tokens")
        if max_tokens is not None:
            generation["maxOutputTokens"] = max_tokens
        # Same number on both sides: Bedrock's 0-1 is a subset of Gemini's 0-2 (decision 0034).
        temperature = opt_number(inference, "temperature", low=0, high=2)
        if temperature is not None:
            generation["temperature"] = temperature
        top_p = opt_number(inference, "topP", low=0, high=1, field="top_p")
        if top_p is not None:
            generation["topP"] = top_p
        stop = inference.get("stopSequences")
        if stop is not None:
            stop = require_list(stop, "inferenceConfig.stopSequences")
            for k, sequence in enumerate(stop):
                require_str(sequence, f"inferenceConfig.stopSequences[{k}]")
            if len(stop) > MAX_STOP_SEQUENCES:
                fail(f"stop sequences: this model allows at most {MAX_STOP_SEQUENCES}, got {len(stop)}")
            if stop:
                generation["stopSequences"] = stop
    extra = body.get("additionalModelRequestFields")
    if isinstance(extra, dict) and isinstance(extra.get("top_k"), int) and not isinstance(extra["top_k"], bool):
        generation["topK"] = extra["top_k"]
    output = body.get("outputConfig")
    if isinstance(output, dict) and isinstance(output.get("textFormat"), dict):
        generation["responseMimeType"] = "application/json"
    return generation


def _tools(config: dict[str, Any]) -> dict[str, Any]:
    declarations = []
    for i, tool in enumerate(require_list(config.get("tools"), "toolConfig.tools")):
        spec = require_object(tool, f"toolConfig.tools[{i}]").get("toolSpec")
        if spec is None:
            continue  # cachePoint entries
        spec = require_object(spec, f"toolConfig.tools[{i}].toolSpec")
        declaration: dict[str, Any] = {"name": require_str(spec.get("name"), f"toolConfig.tools[{i}].toolSpec.name")}
        if isinstance(spec.get("description"), str):
            declaration["description"] = spec["description"]
        schema = spec.get("inputSchema")
        schema = schema.get("json") if isinstance(schema, dict) else None
        if isinstance(schema, dict) and schema.get("properties"):
            declaration["parameters"] = _schema(schema, 0, _definitions(schema))
        declarations.append(declaration)
    if not declarations:
        return {}
    out: dict[str, Any] = {"tools": [{"functionDeclarations": declarations}]}
    choice = config.get("toolChoice")
    if isinstance(choice, dict):
        if "any" in choice:
            out["toolConfig"] = {"functionCallingConfig": {"mode": "ANY"}}
        elif isinstance(choice.get("tool"), dict):
            name = require_str(choice["tool"].get("name"), "toolConfig.toolChoice.tool.name")
            out["toolConfig"] = {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}
    return out


def _definitions(schema: dict[str, Any]) -> dict[str, Any]:
    defs = schema.get("$defs", schema.get("definitions"))
    return defs if isinstance(defs, dict) else {}


def _schema(schema: Any, depth: int, defs: dict[str, Any]) -> Any:
    """Keep only the keywords Gemini's Schema accepts; ["x", "null"] types become nullable,
    local $refs (pydantic's nested models) are inlined."""
    if not isinstance(schema, dict) or depth > 32:
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(("#/$defs/", "#/definitions/")):
        target = defs.get(ref.rpartition("/")[2])
        if isinstance(target, dict):
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _SCHEMA_KEYS:
            continue
        if key == "type" and isinstance(value, list):
            kinds = [t for t in value if t != "null"]
            if len(kinds) < len(value):
                out["nullable"] = True
            value = kinds[0] if kinds else "string"
        elif key == "properties" and isinstance(value, dict):
            value = {name: _schema(sub, depth + 1, defs) for name, sub in value.items()}
        elif key == "enum" and isinstance(value, list):
            value = [v for v in value if isinstance(v, str)]  # Gemini enums are string-only
            if not value or schema.get("type") not in ("string", ["string", "null"]):
                continue
        elif key == "items" or key == "anyOf":
            value = (
                [_schema(s, depth + 1, defs) for s in value]
                if isinstance(value, list)
                else _schema(value, depth + 1, defs)
            )
        out[key] = value
    return out


# ---- answers -------------------------------------------------------------------------


def _tool_use_id(response_id: str, index: int, name: str, args: Any) -> str:
    """Gemini function calls carry no ID we can rely on; derive a stable one."""
    digest = hashlib.blake2s(
        f"{response_id}|{index}|{name}|{dumps_input(args, upstream=True)}".encode("utf-8", "replace"), digest_size=12
    ).hexdigest()
    return f"tooluse_{digest}"


def converse_from_gemini(resp: Any) -> dict[str, Any]:
    """A Converse-shaped answer for a generateContent answer."""
    if not isinstance(resp, dict):
        upstream_fail("Gemini's answer is not a JSON object")
    content: list[dict[str, Any]] = []
    reason = "end_turn"
    feedback = resp.get("promptFeedback")
    candidates = resp.get("candidates")
    if isinstance(feedback, dict) and feedback.get("blockReason"):
        reason = "content_filtered"
    elif isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
        candidate = candidates[0]
        response_id = resp.get("responseId")
        response_id = response_id if isinstance(response_id, str) else ""
        parts = candidate.get("content", {}).get("parts") if isinstance(candidate.get("content"), dict) else None
        for index, part in enumerate(parts if isinstance(parts, list) else []):
            if not isinstance(part, dict) or part.get("thought") is True:
                continue  # thought summaries are not answer text
            if isinstance(part.get("text"), str):
                content.append({"text": part["text"]})
            elif isinstance(part.get("functionCall"), dict):
                call = part["functionCall"]
                name = call.get("name") if isinstance(call.get("name"), str) else ""
                args = call.get("args") if isinstance(call.get("args"), dict) else {}
                content.append(
                    {
                        "toolUse": {
                            "toolUseId": _tool_use_id(response_id, index, name, args),
                            "name": name,
                            "input": args,
                        }
                    }
                )
        finish = candidate.get("finishReason")
        reason = STOP_REASONS.get(finish, "end_turn") if isinstance(finish, str) else "end_turn"
        if reason == "end_turn" and any("toolUse" in b for b in content):
            reason = "tool_use"  # Gemini says STOP after a function call
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": reason,
        "usage": _usage(resp.get("usageMetadata")),
        "metrics": {"latencyMs": 0},
    }


def _usage(meta: Any) -> dict[str, int]:
    if not isinstance(meta, dict):
        meta = {}
    cached = count(meta.get("cachedContentTokenCount"))
    prompt = count(meta.get("promptTokenCount"))
    input_tokens = max(0, prompt - cached)  # promptTokenCount includes cached tokens
    output_tokens = count(meta.get("candidatesTokenCount")) + count(meta.get("thoughtsTokenCount"))
    return {
        "inputTokens": input_tokens,
        "outputTokens": output_tokens,
        "totalTokens": input_tokens + output_tokens + cached,
        "cacheReadInputTokens": cached,
        "cacheWriteInputTokens": 0,
    }
