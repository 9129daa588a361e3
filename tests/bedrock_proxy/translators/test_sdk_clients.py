"""The real openai, anthropic and google-genai SDKs accept what the translators produce.

The SDKs talk to an in-process fake gateway (httpx2 MockTransport): it translates the
SDK's actual request with to_converse, answers with a canned Converse answer rendered by
from_converse / stream_from_converse, and records the Converse bodies for assertions.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from google.genai import types as gemini_types

from kong_plugins.bedrock_proxy.translators import anthropic_converse, converse_gemini, openai_converse
from tests.bedrock_proxy.translators.golden_runner import load_tables

TEXT_ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "Hello from Bedrock"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 12, "outputTokens": 4, "totalTokens": 1016, "cacheReadInputTokens": 1000},
}
TOOL_ANSWER = {
    "output": {
        "message": {
            "role": "assistant",
            "content": [
                {"text": "Checking."},
                {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Oslo"}}},
            ],
        }
    },
    "stopReason": "tool_use",
    "usage": {"inputTokens": 40, "outputTokens": 15, "totalTokens": 55},
}
WEATHER_OPENAI = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
WEATHER_ANTHROPIC = {
    "name": "get_weather",
    "description": "Current weather",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


class FakeGateway:
    """Answers each request with the next canned Converse answer, in the client's format."""

    def __init__(self, module: Any, *answers: dict[str, Any]) -> None:
        self.module = module
        self.answers = list(answers)
        self.converse_bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        call = self.module.to_converse(json.loads(request.content))
        self.converse_bodies.append(call.body)
        answer = self.answers.pop(0)
        kwargs = {"model": "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "request_id": "abc123"}
        if call.stream:
            body = self.module.stream_from_converse(answer, include_usage=call.include_usage, **kwargs)
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)
        return httpx2.Response(200, json=self.module.from_converse(answer, **kwargs))

    def http_client(self) -> httpx2.Client:
        return httpx2.Client(transport=httpx2.MockTransport(self))


def openai_client(gateway: FakeGateway) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="k", base_url="http://gateway.test/v1", http_client=gateway.http_client(), max_retries=0
    )


def anthropic_client(gateway: FakeGateway) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key="k", base_url="http://gateway.test", http_client=gateway.http_client(), max_retries=0
    )


# ---- openai ---------------------------------------------------------------------------


def test_openai_sdk_parses_a_completion_with_cached_usage():
    gateway = FakeGateway(openai_converse, TEXT_ANSWER)
    completion = openai_client(gateway).chat.completions.create(
        model="sonnet", messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content == "Hello from Bedrock"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.prompt_tokens == 1012
    assert completion.usage.completion_tokens == 4
    assert completion.usage.total_tokens == 1016
    assert completion.usage.prompt_tokens_details.cached_tokens == 1000
    assert gateway.converse_bodies[0]["system"] == [{"text": "be brief"}]


def test_openai_sdk_tool_round_trip():
    gateway = FakeGateway(openai_converse, TOOL_ANSWER, TEXT_ANSWER)
    client = openai_client(gateway)
    messages: list[Any] = [{"role": "user", "content": "weather in Oslo?"}]
    first = client.chat.completions.create(model="sonnet", messages=messages, tools=[WEATHER_OPENAI])
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls"
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == (
        "tooluse_1",
        "get_weather",
        {"city": "Oslo"},
    )

    messages.append(first.choices[0].message)  # the SDK serializes its own message object
    messages.append({"role": "tool", "tool_call_id": call.id, "content": '{"temp": 3}'})
    second = client.chat.completions.create(model="sonnet", messages=messages, tools=[WEATHER_OPENAI])
    assert second.choices[0].message.content == "Hello from Bedrock"

    sent = gateway.converse_bodies[1]
    assert sent["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    assert sent["messages"][1]["content"][1] == {
        "toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Oslo"}}
    }
    assert sent["messages"][2]["content"] == [
        {"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": '{"temp": 3}'}]}}
    ]


def test_openai_sdk_decodes_the_stream_with_usage():
    gateway = FakeGateway(openai_converse, TEXT_ANSWER)
    stream = openai_client(gateway).chat.completions.create(
        model="sonnet",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from Bedrock"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 1016


def test_openai_sdk_stream_helper_accumulates_tool_calls():
    gateway = FakeGateway(openai_converse, TOOL_ANSWER)
    with openai_client(gateway).chat.completions.stream(
        model="sonnet",
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER_OPENAI],
        stream_options={"include_usage": True},
    ) as stream:
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == "Checking."
    assert message.tool_calls[0].function.name == "get_weather"
    assert json.loads(message.tool_calls[0].function.arguments) == {"city": "Oslo"}
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage.completion_tokens == 15


# ---- anthropic ------------------------------------------------------------------------


def test_anthropic_sdk_parses_a_message_with_cache_usage():
    gateway = FakeGateway(anthropic_converse, TEXT_ANSWER)
    message = anthropic_client(gateway).messages.create(
        model="sonnet",
        max_tokens=100,
        system=[{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "hi"}],
    )
    assert message.content[0].text == "Hello from Bedrock"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == 12
    assert message.usage.cache_read_input_tokens == 1000
    assert gateway.converse_bodies[0]["system"] == [{"text": "be brief"}, {"cachePoint": {"type": "default"}}]


def test_anthropic_sdk_tool_round_trip():
    gateway = FakeGateway(anthropic_converse, TOOL_ANSWER, TEXT_ANSWER)
    client = anthropic_client(gateway)
    messages: list[Any] = [{"role": "user", "content": "weather in Oslo?"}]
    first = client.messages.create(model="sonnet", max_tokens=100, messages=messages, tools=[WEATHER_ANTHROPIC])
    assert first.stop_reason == "tool_use"
    use = first.content[1]
    assert (use.type, use.id, use.name, use.input) == ("tool_use", "tooluse_1", "get_weather", {"city": "Oslo"})

    messages.append({"role": "assistant", "content": first.content})  # SDK block objects, as users do
    messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "3 C"}]})
    second = client.messages.create(model="sonnet", max_tokens=100, messages=messages, tools=[WEATHER_ANTHROPIC])
    assert second.content[0].text == "Hello from Bedrock"
    sent = gateway.converse_bodies[1]["messages"]
    assert sent[1]["content"][1]["toolUse"]["input"] == {"city": "Oslo"}
    assert sent[2]["content"] == [{"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "3 C"}]}}]


def test_anthropic_sdk_decodes_the_event_stream():
    gateway = FakeGateway(anthropic_converse, TEXT_ANSWER)
    events = list(
        anthropic_client(gateway).messages.create(
            model="sonnet", max_tokens=100, messages=[{"role": "user", "content": "hi"}], stream=True
        )
    )
    assert [e.type for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[2].delta.text == "Hello from Bedrock"
    assert events[4].usage.output_tokens == 4


def test_anthropic_sdk_stream_helper_builds_the_final_message():
    gateway = FakeGateway(anthropic_converse, TOOL_ANSWER)
    with anthropic_client(gateway).messages.stream(
        model="sonnet", max_tokens=100, messages=[{"role": "user", "content": "weather?"}], tools=[WEATHER_ANTHROPIC]
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].text == "Checking."
    assert final.content[1].input == {"city": "Oslo"}  # rebuilt from input_json_delta
    assert final.stop_reason == "tool_use"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (40, 15)


# ---- gemini ---------------------------------------------------------------------------


def test_gemini_request_fields_are_known_to_the_google_genai_sdk():
    """google-genai's models forbid unknown fields, so this catches misspelled wire names."""
    call = openai_converse.to_converse(
        {
            "messages": [
                {"role": "system", "content": "be brief"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "hi"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                    ],
                },
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "3 C"},
            ],
            "tools": [WEATHER_OPENAI],
            "tool_choice": "required",
            "max_tokens": 100,
            "temperature": 0.5,
            "top_p": 0.9,
            "stop": ["END"],
        }
    )
    body = converse_gemini.to_gemini(call)
    gemini_types.Content.model_validate(body["systemInstruction"])
    contents = [gemini_types.Content.model_validate(c) for c in body["contents"]]
    assert contents[1].parts[0].function_call.name == "get_weather"
    assert contents[2].parts[0].function_response.name == "get_weather"
    assert [gemini_types.Tool.model_validate(t) for t in body["tools"]][0].function_declarations[0].parameters
    assert gemini_types.ToolConfig.model_validate(body["toolConfig"]).function_calling_config.mode == "ANY"
    config = gemini_types.GenerationConfig.model_validate(body["generationConfig"])
    assert (config.max_output_tokens, config.stop_sequences) == (100, ["END"])


def test_gemini_sdk_response_shape_translates_for_both_client_apis():
    """A response built with google-genai's own types, serialized as Google sends it."""
    response = gemini_types.GenerateContentResponse(
        candidates=[
            gemini_types.Candidate(
                content=gemini_types.Content(
                    role="model",
                    parts=[
                        gemini_types.Part(
                            function_call=gemini_types.FunctionCall(name="get_weather", args={"city": "Oslo"})
                        )
                    ],
                ),
                finish_reason=gemini_types.FinishReason.STOP,
            )
        ],
        usage_metadata=gemini_types.GenerateContentResponseUsageMetadata(
            prompt_token_count=20, candidates_token_count=5, thoughts_token_count=7, cached_content_token_count=10
        ),
        response_id="resp-1",
    )
    converse = converse_gemini.converse_from_gemini(response.model_dump(mode="json", by_alias=True, exclude_none=True))
    openai_doc = openai_converse.from_converse(converse, model="gemini-3-flash", request_id="r")
    assert openai_doc["choices"][0]["finish_reason"] == "tool_calls"
    assert json.loads(openai_doc["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]) == {"city": "Oslo"}
    assert openai_doc["usage"] == {
        "prompt_tokens": 20,
        "completion_tokens": 12,
        "total_tokens": 32,
        "prompt_tokens_details": {"cached_tokens": 10},
    }
    anthropic_doc = anthropic_converse.from_converse(converse, model="gemini-3-flash", request_id="r")
    assert anthropic_doc["content"][0]["type"] == "tool_use" and anthropic_doc["stop_reason"] == "tool_use"
    assert anthropic_doc["usage"]["input_tokens"] == 10 and anthropic_doc["usage"]["cache_read_input_tokens"] == 10


GEMINI_MODELS = {
    "systemInstruction": gemini_types.Content,
    "generationConfig": gemini_types.GenerationConfig,
    "toolConfig": gemini_types.ToolConfig,
}
GEMINI_BODIES = [
    pytest.param(case["expected"], id=case["name"])
    for path, table in load_tables().items()
    if table["function"] == "converse_gemini.to_gemini"
    for case in table["cases"]
    if "expected" in case
]


@pytest.mark.parametrize("body", GEMINI_BODIES)
def test_every_golden_gemini_body_validates_with_google_genai_types(body):
    assert set(body) <= {"systemInstruction", "contents", "generationConfig", "tools", "toolConfig"}
    for key, model in GEMINI_MODELS.items():
        if key in body:
            model.model_validate(body[key])
    for content in body["contents"]:
        gemini_types.Content.model_validate(content)
    for tool in body.get("tools", []):
        gemini_types.Tool.model_validate(tool)
