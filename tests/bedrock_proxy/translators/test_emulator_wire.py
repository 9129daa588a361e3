"""Translator output on the wire: botocore's service model accepts every Converse body we
build, and the emulator (a Bedrock and Gemini fake) answers our requests with answers the
renderers turn into correct client responses, tool round trips and cache usage included."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from kong_plugins.bedrock_proxy.translators import (
    anthropic_converse,
    converse_gemini,
    openai_converse,
    usage_from_converse,
    usage_from_invoke,
)
from kong_plugins.testing.bedrock_emulator import TEST_GEMINI_API_KEY
from tests.bedrock_proxy.translators.golden_runner import load_tables
from tests.testing.bedrock_emulator.helpers import model_path, raw_post, signed_post

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
FLASH = "gemini-3.5-flash"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}

_MODEL = botocore.session.get_session().get_service_model("bedrock-runtime")
CONVERSE_BODIES = [
    pytest.param(case["expected"]["body"], id=f"{path.stem}: {case['name']}")
    for path, table in load_tables().items()
    if table["function"].endswith(".to_converse")
    for case in table["cases"]
    if "expected" in case
]


@pytest.mark.parametrize("body", CONVERSE_BODIES)
def test_every_golden_converse_body_fits_the_botocore_service_model(body):
    report = ParamValidator().validate({"modelId": SONNET, **body}, _MODEL.operation_model("Converse").input_shape)
    assert not report.has_errors(), report.generate_report()


def _converse(emulator, call) -> dict[str, Any]:
    status, _, raw = signed_post(emulator.url, model_path(SONNET, "converse"), call.body)
    assert status == 200, raw
    return json.loads(raw)


def _gemini(emulator, body: dict[str, Any]) -> dict[str, Any]:
    status, _, raw = raw_post(
        emulator.url,
        f"/v1beta/models/{FLASH}:generateContent",
        json.dumps(body).encode(),
        {"Content-Type": "application/json", "x-goog-api-key": TEST_GEMINI_API_KEY},
    )
    assert status == 200, raw
    return json.loads(raw)


def _openai_tool_round_trip(answer) -> None:
    """OpenAI client view of a two-step tool conversation; `answer(call)` returns a Converse answer."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "weather in Oslo? MARK-wire"}]
    first = openai_converse.from_converse(
        answer(openai_converse.to_converse({"messages": messages, "tools": [WEATHER]})), model="m", request_id="1"
    )
    message = first["choices"][0]["message"]
    assert first["choices"][0]["finish_reason"] == "tool_calls"
    call = message["tool_calls"][0]
    assert call["function"]["name"] == "get_weather" and "city" in json.loads(call["function"]["arguments"])

    messages += [message, {"role": "tool", "tool_call_id": call["id"], "content": '{"temp": 3}'}]
    follow_up = openai_converse.to_converse({"messages": messages, "tools": [WEATHER], "stream": True})
    raw = openai_converse.stream_from_converse(answer(follow_up), model="m", request_id="2", include_usage=True)
    chunks = [json.loads(line[6:]) for line in raw.decode().split("\n\n") if line.startswith("data: {")]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert "deterministic reply" in text
    assert chunks[-1]["usage"]["prompt_tokens"] > 0 and raw.endswith(b"data: [DONE]\n\n")


def test_openai_tool_round_trip_through_bedrock_converse(emulator):
    _openai_tool_round_trip(lambda call: _converse(emulator, call))


def test_openai_tool_round_trip_through_gemini(emulator):
    _openai_tool_round_trip(
        lambda call: converse_gemini.converse_from_gemini(_gemini(emulator, converse_gemini.to_gemini(call)))
    )


def test_anthropic_tool_round_trip_through_gemini(emulator):
    tools = [
        {
            "name": "lookup",
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
        }
    ]
    body: dict[str, Any] = {"max_tokens": 200, "tools": tools, "messages": [{"role": "user", "content": "find it"}]}

    def ask() -> dict[str, Any]:
        call = anthropic_converse.to_converse(body)
        return anthropic_converse.from_converse(
            converse_gemini.converse_from_gemini(_gemini(emulator, converse_gemini.to_gemini(call))),
            model=FLASH,
            request_id="x",
        )

    first = ask()
    assert first["stop_reason"] == "tool_use" and first["content"][0]["name"] == "lookup"
    body["messages"] += [
        {"role": "assistant", "content": first["content"]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": first["content"][0]["id"], "content": "found"}],
        },
    ]
    second = ask()
    assert second["stop_reason"] == "end_turn" and "deterministic reply" in second["content"][0]["text"]
    assert second["usage"]["output_tokens"] > 0
    sent = emulator.calls()[-1]
    assert sent["operation"] == "GenerateContent"


def test_cache_tokens_reach_the_client_usage(emulator):
    big = "catalog entry " * 1200  # above the model's minimum cacheable prefix
    body = {
        "max_tokens": 50,
        "system": [{"type": "text", "text": big, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "hi"}],
    }
    call = anthropic_converse.to_converse(body)
    first = _converse(emulator, call)
    second = _converse(emulator, call)
    assert usage_from_converse(first).cache_write_tokens > 0
    cached = usage_from_converse(second)
    assert cached.cache_read_tokens == usage_from_converse(first).cache_write_tokens
    assert anthropic_converse.from_converse(second, model="m", request_id="r")["usage"]["cache_read_input_tokens"] == (
        cached.cache_read_tokens
    )
    openai_usage = openai_converse.from_converse(second, model="m", request_id="r")["usage"]
    assert openai_usage["prompt_tokens_details"]["cached_tokens"] == cached.cache_read_tokens
    assert openai_usage["prompt_tokens"] == cached.input_tokens + cached.cache_read_tokens


def test_usage_from_invoke_reads_the_emulators_invoke_answer(emulator):
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "hi"}],
    }
    status, headers, raw = signed_post(emulator.url, model_path(SONNET, "invoke"), body)
    assert status == 200
    answer = json.loads(raw)
    usage = usage_from_invoke(answer, headers)
    assert (usage.input_tokens, usage.output_tokens) == (
        answer["usage"]["input_tokens"],
        answer["usage"]["output_tokens"],
    )
    from_headers = usage_from_invoke({}, headers)
    assert from_headers.input_tokens == int(headers["x-amzn-bedrock-input-token-count"])
    assert from_headers.output_tokens == int(headers["x-amzn-bedrock-output-token-count"])
