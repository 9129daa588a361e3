"""InvokeModel with Anthropic bodies, and CountTokens, through the real boto3 client."""

from __future__ import annotations

import base64
import json

import pytest

from .helpers import HAIKU, OPUS, SONNET, anthropic_body, user


def test_invoke_body_usage_and_token_headers(emulator):
    resp = emulator.client().invoke_model(modelId=SONNET, body=anthropic_body("hi MARK-inv"))
    body = json.loads(resp["body"].read())
    assert resp["contentType"] == "application/json"
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["id"].startswith("msg_bdrk_01")
    assert body["model"] == "claude-sonnet-4-5-20250929"
    assert SONNET in body["content"][0]["text"] and "MARK-inv" in body["content"][0]["text"]
    assert body["stop_reason"] == "end_turn" and body["stop_sequence"] is None
    headers = resp["ResponseMetadata"]["HTTPHeaders"]
    assert int(headers["x-amzn-bedrock-input-token-count"]) == body["usage"]["input_tokens"]
    assert int(headers["x-amzn-bedrock-output-token-count"]) == body["usage"]["output_tokens"]
    assert "x-amzn-bedrock-invocation-latency" in headers
    assert body["usage"]["cache_read_input_tokens"] == 0 and body["usage"]["cache_creation_input_tokens"] == 0


def test_invoke_latency_header_follows_settings(emulator):
    emulator.set_latency(latency_ms=10, per_token_ms=2)
    resp = emulator.client().invoke_model(modelId=HAIKU, body=anthropic_body())
    headers = resp["ResponseMetadata"]["HTTPHeaders"]
    assert int(headers["x-amzn-bedrock-invocation-latency"]) == 10 + 2 * int(
        headers["x-amzn-bedrock-output-token-count"]
    )


def test_invoke_with_accept_and_content_type(emulator):
    resp = emulator.client().invoke_model(
        modelId=HAIKU, body=anthropic_body(), contentType="application/json", accept="application/json"
    )
    assert resp["contentType"] == "application/json"
    sent = emulator.calls()[0]["headers"]
    assert sent["accept"] == "application/json"


def test_invoke_tool_round_trip(emulator):
    client = emulator.client()
    tools = [
        {
            "name": "lookup",
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
        }
    ]
    first = json.loads(client.invoke_model(modelId=OPUS, body=anthropic_body("find x", tools=tools))["body"].read())
    assert first["stop_reason"] == "tool_use"
    use = first["content"][0]
    assert use["type"] == "tool_use" and use["name"] == "lookup" and use["input"] == {"q": "example-q"}
    messages = [
        {"role": "user", "content": "find x"},
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use["id"], "content": "42"}]},
    ]
    body = anthropic_body(tools=tools)
    body = json.dumps(dict(json.loads(body), messages=messages))
    second = json.loads(client.invoke_model(modelId=OPUS, body=body)["body"].read())
    assert second["stop_reason"] == "end_turn" and second["content"][0]["type"] == "text"


def test_invoke_cache_control_usage(emulator):
    client = emulator.client()
    system = [{"type": "text", "text": "Long shared context. " * 300, "cache_control": {"type": "ephemeral"}}]
    first = client.invoke_model(modelId=SONNET, body=anthropic_body("a", system=system))
    second = client.invoke_model(modelId=SONNET, body=anthropic_body("b", system=system))
    u1, u2 = json.loads(first["body"].read())["usage"], json.loads(second["body"].read())["usage"]
    assert u1["cache_creation_input_tokens"] > 1024 and u1["cache_read_input_tokens"] == 0
    assert u2["cache_read_input_tokens"] == u1["cache_creation_input_tokens"]
    headers = second["ResponseMetadata"]["HTTPHeaders"]
    assert int(headers["x-amzn-bedrock-cache-read-input-token-count"]) == u2["cache_read_input_tokens"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"max_tokens": 10, "messages": [{"role": "user", "content": "x"}]},
            "required key [anthropic_version] not found",
        ),
        (
            {"anthropic_version": "bedrock-2023-05-31", "messages": [{"role": "user", "content": "x"}]},
            "required key [max_tokens]",
        ),
        ({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10}, "required key [messages] not found"),
        ({"max_tokens": 10}, "2 schema violations found"),
        (json.loads(anthropic_body(model="claude")), "extraneous key [model] is not permitted"),
        (json.loads(anthropic_body(anthropic_version="2023-06-01")), "is not a valid enum value"),
        (
            json.loads(anthropic_body(max_tokens=64001)),
            "64001 > 64000, which is the maximum allowed number of output tokens",
        ),
        (json.loads(anthropic_body(temperature=0.2, top_p=0.5)), "cannot both be specified"),
    ],
)
def test_invoke_validation(emulator, body, message):
    client = emulator.client()
    with pytest.raises(client.exceptions.ValidationException) as info:
        client.invoke_model(modelId=SONNET, body=json.dumps(body))
    assert message in info.value.response["Error"]["Message"]


def test_invoke_without_content_type_defaults_to_json(emulator):
    emulator.client().invoke_model(modelId=HAIKU, body=anthropic_body())
    assert "content-type" not in emulator.calls()[0]["headers"]  # boto3 sends none; still answered


def test_count_tokens_converse_form_matches_converse_usage(emulator):
    client = emulator.client()
    messages = user("count these words for me please " * 10)
    counted = client.count_tokens(modelId=HAIKU, input={"converse": {"messages": messages}})["inputTokens"]
    used = client.converse(modelId=HAIKU, messages=messages)["usage"]["inputTokens"]
    assert counted == used > 70


def test_count_tokens_invoke_form_matches_invoke_usage(emulator):
    client = emulator.client()
    body = anthropic_body("count me " * 20)
    counted = client.count_tokens(modelId=SONNET, input={"invokeModel": {"body": body.encode()}})["inputTokens"]
    used = json.loads(client.invoke_model(modelId=SONNET, body=body)["body"].read())["usage"]["input_tokens"]
    assert counted == used
    sent = emulator.calls()[0]["body"]["input"]["invokeModel"]["body"]
    assert json.loads(base64.b64decode(sent)) == json.loads(body)  # blob travels base64 in JSON


def test_count_tokens_unknown_model(emulator):
    client = emulator.client()
    with pytest.raises(client.exceptions.ValidationException):
        client.count_tokens(modelId="anthropic.claude-nonexistent", input={"converse": {"messages": user("x")}})
