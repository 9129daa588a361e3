"""Gemini v1beta through the real google-genai client, and plain HTTP for what it hides."""

from __future__ import annotations

import json

import pytest
from google import genai
from google.genai import errors, types

from kong_plugins.testing.bedrock_emulator import TEST_GEMINI_API_KEY

from .helpers import raw_post

FLASH = "gemini-3.5-flash"
LITE = "gemini-3.1-flash-lite"


def _client(emulator, key=TEST_GEMINI_API_KEY):
    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=emulator.url))


def test_generate_content_text_and_usage(emulator):
    gclient = _client(emulator)
    resp = gclient.models.generate_content(model=LITE, contents="hello MARK-gem")
    assert f"Hello from {LITE}." in resp.text and "MARK-gem" in resp.text
    assert resp.candidates[0].finish_reason == types.FinishReason.STOP
    usage = resp.usage_metadata
    assert usage.prompt_token_count > 0 and usage.candidates_token_count > 0
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count
    assert resp.model_version == LITE
    call = emulator.calls()[0]
    assert call["operation"] == "GenerateContent" and call["headers"]["x-goog-api-key"] == "REDACTED"


def test_thinking_tokens_on_flash_unless_disabled(emulator):
    client = _client(emulator)
    thinking = client.models.generate_content(model=FLASH, contents="hi").usage_metadata
    assert thinking.thoughts_token_count > 0
    assert thinking.total_token_count == (
        thinking.prompt_token_count + thinking.candidates_token_count + thinking.thoughts_token_count
    )
    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(thinking_budget=0))
    off = client.models.generate_content(model=FLASH, contents="hi", config=config).usage_metadata
    assert not off.thoughts_token_count


def test_stream_generate_content_sse(emulator):
    gclient = _client(emulator)
    chunks = list(gclient.models.generate_content_stream(model=LITE, contents="stream MARK-sse"))
    assert len(chunks) > 2
    text = "".join(c.text or "" for c in chunks)
    assert LITE in text and text.endswith("MARK-sse")
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[-1].usage_metadata.candidates_token_count > 0
    call = emulator.calls()[0]
    assert call["operation"] == "StreamGenerateContent" and "alt=sse" in call["path"]


def test_function_call_round_trip(emulator):
    client = _client(emulator)
    tool = types.Tool(
        function_declarations=[
            types.FunctionDeclaration(
                name="get_weather",
                description="weather",
                parameters=types.Schema(
                    type="OBJECT", properties={"city": types.Schema(type="STRING")}, required=["city"]
                ),
            )
        ]
    )
    config = types.GenerateContentConfig(
        tools=[tool], automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True)
    )
    first = client.models.generate_content(model=LITE, contents="weather in Oslo?", config=config)
    call = first.function_calls[0]
    assert call.name == "get_weather" and call.args == {"city": "example-city"}
    contents = [
        types.Content(role="user", parts=[types.Part(text="weather in Oslo?")]),
        first.candidates[0].content,
        types.Content(role="user", parts=[types.Part.from_function_response(name="get_weather", response={"t": 3})]),
    ]
    second = client.models.generate_content(model=LITE, contents=contents, config=config)
    assert second.text and LITE in second.text


def test_bad_key(emulator):
    gclient = _client(emulator, key="AIzaWrong")
    with pytest.raises(errors.ClientError) as info:
        gclient.models.generate_content(model=LITE, contents="x")
    assert info.value.code == 400 and info.value.status == "INVALID_ARGUMENT"
    assert info.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"


def test_resource_exhausted_injection(emulator):
    emulator.inject("RESOURCE_EXHAUSTED", operation="GenerateContent")
    gclient = _client(emulator)
    with pytest.raises(errors.ClientError) as info:
        gclient.models.generate_content(model=LITE, contents="x")
    assert info.value.code == 429 and info.value.status == "RESOURCE_EXHAUSTED"
    kinds = [d["@type"] for d in info.value.details["error"]["details"]]
    assert "type.googleapis.com/google.rpc.RetryInfo" in kinds


def test_bedrock_error_names_map_to_google_statuses(emulator):
    emulator.inject("ServiceUnavailableException")
    gclient = _client(emulator)
    with pytest.raises(errors.ServerError) as info:
        gclient.models.generate_content(model=LITE, contents="x")
    assert info.value.code == 503 and info.value.status == "UNAVAILABLE"


@pytest.mark.parametrize("model", ["gemini-1.5-flash", "gemini-2.0-flash", "gemini-nope"])
def test_shut_down_and_unknown_models_are_not_found(emulator, model):
    gclient = _client(emulator)
    with pytest.raises(errors.ClientError) as info:
        gclient.models.generate_content(model=model, contents="x")
    assert info.value.code == 404 and info.value.status == "NOT_FOUND"


def test_count_tokens_matches_generate_usage(emulator):
    client = _client(emulator)
    counted = client.models.count_tokens(model=LITE, contents="count these words " * 10).total_tokens
    used = client.models.generate_content(
        model=LITE, contents="count these words " * 10
    ).usage_metadata.prompt_token_count
    assert counted == used


def _post(emulator, path, body, headers=None):
    return raw_post(
        emulator.url, path, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})}
    )


def test_plain_http_query_key_and_json_array_stream(emulator):
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    status, _, raw = _post(emulator, f"/v1beta/models/{LITE}:streamGenerateContent?key={TEST_GEMINI_API_KEY}", body)
    assert status == 200
    chunks = json.loads(raw)  # without alt=sse: one JSON array, sent in pieces
    assert isinstance(chunks, list) and len(chunks) > 1
    assert "usageMetadata" in chunks[-1] and chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert "REDACTED" in emulator.calls()[0]["path"] and TEST_GEMINI_API_KEY not in emulator.calls()[0]["path"]


def test_missing_key_and_missing_contents(emulator):
    status, _, raw = _post(emulator, f"/v1beta/models/{LITE}:generateContent", {"contents": []})
    assert status == 403 and json.loads(raw)["error"]["status"] == "PERMISSION_DENIED"
    status, _, raw = _post(
        emulator, f"/v1beta/models/{LITE}:generateContent", {}, {"x-goog-api-key": TEST_GEMINI_API_KEY}
    )
    assert status == 400 and json.loads(raw)["error"]["status"] == "INVALID_ARGUMENT"


def test_mid_stream_error_in_sse(emulator):
    emulator.inject("RESOURCE_EXHAUSTED", mid_stream=True)
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    status, _, raw = _post(
        emulator, f"/v1beta/models/{LITE}:streamGenerateContent?alt=sse", body, {"x-goog-api-key": TEST_GEMINI_API_KEY}
    )
    assert status == 200
    events = [json.loads(line[6:]) for line in raw.decode().split("\r\n") if line.startswith("data: ")]
    assert "candidates" in events[0] and events[-1]["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_max_output_tokens_limit_and_truncation(emulator):
    key = {"x-goog-api-key": TEST_GEMINI_API_KEY}
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": {"maxOutputTokens": 70000}}
    status, _, raw = _post(emulator, f"/v1beta/models/{LITE}:generateContent", body, key)
    assert status == 400 and "maxOutputTokens value of 70000" in json.loads(raw)["error"]["message"]
    body["generationConfig"]["maxOutputTokens"] = 3
    status, _, raw = _post(emulator, f"/v1beta/models/{LITE}:generateContent", body, key)
    answer = json.loads(raw)
    assert answer["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert answer["usageMetadata"]["candidatesTokenCount"] == 3


def test_stream_function_call(emulator):
    key = {"x-goog-api-key": TEST_GEMINI_API_KEY}
    decl = {
        "name": "lookup",
        "parameters": {"type": "OBJECT", "properties": {"q": {"type": "STRING"}}, "required": ["q"]},
    }
    body = {"contents": [{"role": "user", "parts": [{"text": "find"}]}], "tools": [{"functionDeclarations": [decl]}]}
    status, _, raw = _post(emulator, f"/v1beta/models/{LITE}:streamGenerateContent?alt=sse", body, key)
    events = [json.loads(line[6:]) for line in raw.decode().split("\r\n") if line.startswith("data: ")]
    assert events[-1]["candidates"][0]["content"]["parts"][0]["functionCall"] == {
        "name": "lookup",
        "args": {"q": "example-q"},
    }
