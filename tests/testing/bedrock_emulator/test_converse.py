"""Converse through the real boto3 client: body, usage, tools, caching, validation."""

from __future__ import annotations

import pytest

from .helpers import HAIKU, OPUS, SONNET, model_path, signed_post, user

WEATHER_TOOL = {
    "tools": [
        {
            "toolSpec": {
                "name": "get_weather",
                "description": "Weather for a city",
                "inputSchema": {
                    "json": {
                        "type": "object",
                        "properties": {
                            "city": {"type": "string"},
                            "days": {"type": "integer"},
                            "unit": {"enum": ["C", "F"]},
                        },
                        "required": ["city", "unit"],
                    }
                },
            }
        },
        {"toolSpec": {"name": "get_time", "inputSchema": {"json": {"type": "object", "properties": {}}}}},
    ]
}


def test_converse_body_names_model_and_echoes_marker(emulator):
    resp = emulator.client().converse(modelId=SONNET, messages=user("Say hi MARK-abc123 please"))
    text = resp["output"]["message"]["content"][0]["text"]
    assert resp["output"]["message"]["role"] == "assistant"
    assert SONNET in text and "MARK-abc123" in text
    assert resp["stopReason"] == "end_turn"
    usage = resp["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert usage["cacheReadInputTokens"] == 0 and usage["cacheWriteInputTokens"] == 0
    assert "latencyMs" in resp["metrics"]


def test_token_counts_follow_the_text(emulator):
    client = emulator.client()
    short = client.converse(modelId=SONNET, messages=user("hi"))["usage"]
    long = client.converse(modelId=SONNET, messages=user("tell me a story " * 100))["usage"]
    again = client.converse(modelId=SONNET, messages=user("tell me a story " * 100))["usage"]
    assert long["inputTokens"] > short["inputTokens"] + 300  # ~4 chars a token
    assert long == again  # deterministic
    wordy = client.converse(modelId=SONNET, messages=user("hi EMU-WORDS-200"))["usage"]
    assert wordy["outputTokens"] > short["outputTokens"] + 150


def test_system_prompt_counts_as_input(emulator):
    client = emulator.client()
    bare = client.converse(modelId=HAIKU, messages=user("hi"))["usage"]["inputTokens"]
    with_system = client.converse(modelId=HAIKU, messages=user("hi"), system=[{"text": "be brief " * 40}])
    assert with_system["usage"]["inputTokens"] == bare + 90


def test_tool_round_trip(emulator):
    client = emulator.client()
    messages = user("What is the weather in Oslo?")
    first = client.converse(modelId=OPUS, messages=messages, toolConfig=WEATHER_TOOL)
    assert first["stopReason"] == "tool_use"
    use = first["output"]["message"]["content"][0]["toolUse"]
    assert use["name"] == "get_weather"
    assert use["input"] == {"city": "example-city", "unit": "C"}
    assert use["toolUseId"].startswith("tooluse_")
    messages += [
        first["output"]["message"],
        {"role": "user", "content": [{"toolResult": {"toolUseId": use["toolUseId"], "content": [{"json": {"t": 3}}]}}]},
    ]
    second = client.converse(modelId=OPUS, messages=messages, toolConfig=WEATHER_TOOL)
    assert second["stopReason"] == "end_turn"
    assert OPUS in second["output"]["message"]["content"][0]["text"]


def test_forced_tool_choice(emulator):
    config = dict(WEATHER_TOOL, toolChoice={"tool": {"name": "get_time"}})
    resp = emulator.client().converse(modelId=SONNET, messages=user("time?"), toolConfig=config)
    assert resp["output"]["message"]["content"][0]["toolUse"]["name"] == "get_time"


def test_tool_blocks_without_tool_config_rejected(emulator):
    client = emulator.client()
    messages = user("x") + [
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "ok"}]}}]},
    ]
    with pytest.raises(client.exceptions.ValidationException, match="toolConfig field must be defined"):
        client.converse(modelId=SONNET, messages=messages)


def test_max_tokens_and_stop_sequences(emulator):
    client = emulator.client()
    cut = client.converse(modelId=SONNET, messages=user("hi"), inferenceConfig={"maxTokens": 3})
    assert cut["stopReason"] == "max_tokens" and cut["usage"]["outputTokens"] == 3
    stopped = client.converse(modelId=SONNET, messages=user("hi"), inferenceConfig={"stopSequences": ["deterministic"]})
    assert stopped["stopReason"] == "stop_sequence"
    assert "deterministic" not in stopped["output"]["message"]["content"][0]["text"]


def test_prompt_cache_write_then_read(emulator):
    client = emulator.client()
    system = [{"text": "You are a careful assistant. " * 200}, {"cachePoint": {"type": "default"}}]
    first = client.converse(modelId=SONNET, messages=user("q1"), system=system)["usage"]
    second = client.converse(modelId=SONNET, messages=user("q2"), system=system)["usage"]
    assert first["cacheWriteInputTokens"] > 1024 and first["cacheReadInputTokens"] == 0
    assert second["cacheReadInputTokens"] == first["cacheWriteInputTokens"] and second["cacheWriteInputTokens"] == 0
    assert second["totalTokens"] == sum(
        second[k] for k in ("inputTokens", "outputTokens", "cacheReadInputTokens", "cacheWriteInputTokens")
    )
    emulator.reset()
    assert client.converse(modelId=SONNET, messages=user("q3"), system=system)["usage"]["cacheReadInputTokens"] == 0


def test_short_prefix_is_not_cached(emulator):
    system = [{"text": "short"}, {"cachePoint": {"type": "default"}}]
    usage = emulator.client().converse(modelId=SONNET, messages=user("q"), system=system)["usage"]
    assert usage["cacheWriteInputTokens"] == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "Value null at 'messages' failed to satisfy constraint: Member must not be null"),
        ({"messages": [{"role": "assistant", "content": [{"text": "x"}]}]}, "must start with a user message"),
        ({"messages": user("a") + user("b")}, "must alternate between user and assistant"),
        ({"messages": user("a"), "inferenceConfig": {"maxTokens": 64001}}, "exceeds the model limit of 64000"),
        ({"messages": user("a"), "inferenceConfig": {"temperature": 0.5, "topP": 0.9}}, "cannot both be specified"),
        ({"messages": user("a"), "inferenceConfig": {"temperature": 1.5}}, "less than or equal to 1"),
        ({"messages": [{"role": "user", "content": []}]}, "content field in the Message object at messages.0 is empty"),
    ],
)
def test_validation_like_bedrock(emulator, kwargs, message):
    client = emulator.client()
    with pytest.raises(client.exceptions.ValidationException) as info:
        client.converse(modelId=SONNET, **kwargs)
    assert message in info.value.response["Error"]["Message"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.response["ResponseMetadata"]["RetryAttempts"] == 0


def test_malformed_json_is_a_validation_error(emulator):
    status, headers, body = signed_post(emulator.url, model_path(SONNET, "converse"), b"{not json")
    assert status == 400
    assert headers["x-amzn-errortype"].startswith("ValidationException:")
    assert b"Malformed input request" in body


def test_latency_figures_follow_settings(emulator):
    emulator.set_latency(latency_ms=20, per_token_ms=1)
    resp = emulator.client().converse(modelId=SONNET, messages=user("hi"))
    assert resp["metrics"]["latencyMs"] == 20 + resp["usage"]["outputTokens"]


def test_system_role_turns_count_but_do_not_break_alternation(emulator):
    messages = [{"role": "system", "content": [{"text": "rules " * 20}]}, *user("hi")]
    client = emulator.client()
    with_system = client.converse(modelId=SONNET, messages=messages)["usage"]["inputTokens"]
    bare = client.converse(modelId=SONNET, messages=user("hi"))["usage"]["inputTokens"]
    assert with_system > bare
