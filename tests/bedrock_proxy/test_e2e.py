"""bedrock-proxy end to end: real clients -> harness Kong (key-auth + the real plugin server)
-> the Bedrock/Gemini emulator, and back.

One gateway for the module (starting plugin servers is the slow part); the `emulator`
fixture resets calls and injections before every test.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import anthropic
import boto3
import openai
import pytest
import requests
import yaml
from botocore.config import Config

from kong_plugins.bedrock_proxy import policy as p
from kong_plugins.core.pricing import estimate_cost
from kong_plugins.core.usage import Usage
from kong_plugins.testing.kong.fixtures import checked_gateway, offline_env

CONFIG = Path(__file__).parent / "configs" / "gateway.yaml"
KEYS = {
    "admin": "admin-key",
    "developer": "dev-key",
    "analyst": "analyst-key",
    "ecommerce_ops": "ops-key",
    "guest": "guest-key",
    "other": "partner-key",
}
HELLO = {"messages": [{"role": "user", "content": "hello there"}]}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture(scope="module")
def gw(_bedrock_emulator_session, tmp_path_factory):
    """The test config plus a file-log, so Kong's serializer output can be checked."""
    tmp = tmp_path_factory.mktemp("bedrock-proxy-e2e")
    config = yaml.safe_load(CONFIG.read_text())
    config.setdefault("plugins", []).append({"name": "file-log", "config": {"path": str(tmp / "file.log")}})
    path = tmp / "kong.yaml"
    path.write_text(yaml.safe_dump(config))
    with checked_gateway(path, env=offline_env(_bedrock_emulator_session.url)) as gateway:
        gateway.file_log = tmp / "file.log"
        yield gateway


def post(gw, path, body, role="guest", headers=None, **kw):
    hdrs = {"X-API-Key": KEYS[role], **(headers or {})}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(
        gw.url + path, data=data, headers={"Content-Type": "application/json", **hdrs}, timeout=30, **kw
    )


def openai_client(gw, role):
    return openai.OpenAI(
        api_key="sk-client-side-secret",
        base_url=gw.url + "/v1",
        default_headers={"X-API-Key": KEYS[role]},
        max_retries=0,
    )


def anthropic_client(gw, role):
    # anthropic 2.x sends its api_key as `Authorization: Bearer`; key-auth reads X-API-Key.
    return anthropic.Anthropic(
        api_key="client-side-secret", base_url=gw.url, default_headers={"X-API-Key": KEYS[role]}, max_retries=0
    )


def bedrock_client(gw, role):
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=gw.url + "/bedrock",
        aws_access_key_id="AKIACLIENTOWNKEY0000",
        aws_secret_access_key="client-own-secret",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )

    def add_key(request, **_):
        request.headers["X-API-Key"] = KEYS[role]

    client.meta.events.register("before-send.bedrock-runtime.*", add_key)
    return client


def last_file_log_line(gw, request_id):
    """The file-log line of a request; the log phase runs in the background after the answer."""
    for _ in range(100):
        gw.wait_idle()
        lines = gw.file_log.read_text().splitlines() if gw.file_log.exists() else []
        found = [json.loads(x) for x in lines if request_id in x]
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError("no file-log line")


def assert_clean_upstream(emulator):
    """Nothing of the client's credentials or Kong's consumer headers reached AWS/Google."""
    calls = emulator.calls()
    assert calls
    for call in calls:
        names = {h.lower() for h in call["headers"]}
        assert not names & {"x-api-key", "apikey", "cookie"}
        assert not any(n.startswith(("x-consumer-", "x-credential-", "x-anonymous-")) for n in names)
        assert "sk-client-side-secret" not in json.dumps(call["headers"])


# ---------------------------------------------------------------- roles, aliases, policy


@pytest.mark.parametrize(
    ("role", "model"),
    [
        ("admin", p.SONNET_46_GLOBAL),
        ("developer", p.SONNET_46_GLOBAL),
        ("analyst", p.SONNET_45_US),
        ("ecommerce_ops", p.SONNET_45_US),
        ("guest", p.HAIKU_45_US),
        ("other", p.GEMINI_FLASH_LITE),
    ],
)
def test_every_role_gets_its_model(gw, emulator, role, model):
    r = post(gw, "/v1/chat/completions", HELLO, role)
    assert r.status_code == 200, r.text
    assert r.headers["X-LLM-Model"] == model and r.json()["model"] == model
    assert emulator.calls()[0]["model_id"].removeprefix("models/") == model
    assert_clean_upstream(emulator)


@pytest.mark.parametrize(
    ("role", "alias", "model"),
    [
        ("developer", "sonnet", p.SONNET_46_GLOBAL),
        ("analyst", "sonnet", p.SONNET_45_US),
        ("admin", "opus", p.OPUS_46_GLOBAL),
    ],
)
def test_alias_resolution(gw, emulator, role, alias, model):
    r = post(gw, "/v1/chat/completions", {**HELLO, "model": alias}, role)
    assert r.status_code == 200 and r.headers["X-LLM-Model"] == model


def test_forbidden_model_is_403_with_the_allowed_list(gw, emulator):
    r = post(gw, "/v1/chat/completions", {**HELLO, "model": "opus"}, "guest")
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["type"] == "permission_error" and p.HAIKU_45_US in err["message"]
    assert emulator.calls() == []


def test_models_lists_the_callers_models(gw, emulator):
    r = requests.get(gw.url + "/v1/models", headers={"X-API-Key": KEYS["analyst"]}, timeout=10)
    assert r.status_code == 200
    ids = [m["id"] for m in r.json()["data"]]
    assert ids == [p.SONNET_45_US, "sonnet"]
    models = openai_client(gw, "guest").models.list()
    assert [m.id for m in models.data] == [p.HAIKU_45_US, "haiku"]


def test_spoofed_role_gets_nothing_extra(gw, emulator):
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    claims = base64.urlsafe_b64encode(b'{"sub":"root","groups":["admin"]}').rstrip(b"=").decode()
    spoof = {
        "X-Consumer-Groups": "admin",
        "X-Consumer-Username": "admin-user",
        "X-Role": "admin",
        "Authorization": f"Bearer {header}.{claims}.",
    }
    r = post(gw, "/v1/chat/completions", HELLO, "guest", headers=spoof)
    assert r.status_code == 200 and r.headers["X-LLM-Model"] == p.HAIKU_45_US
    r = post(gw, "/v1/chat/completions", {**HELLO, "model": "opus"}, "guest", headers=spoof)
    assert r.status_code == 403
    r = requests.get(gw.url + "/v1/models", headers={"X-API-Key": KEYS["guest"], **spoof}, timeout=10)
    assert [m["id"] for m in r.json()["data"]] == [p.HAIKU_45_US, "haiku"]
    assert_clean_upstream(emulator)


# ---------------------------------------------------------------- the four client APIs


def test_openai_sdk(gw, emulator):
    completion = openai_client(gw, "developer").chat.completions.create(
        model="sonnet", messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
        max_tokens=100, temperature=0.2, stop=["END"],
    )  # fmt: skip
    assert completion.choices[0].message.content and completion.model == p.SONNET_46_GLOBAL
    assert completion.usage.total_tokens > 0
    assert_clean_upstream(emulator)


def test_openai_sdk_stream_with_usage(gw, emulator):
    stream = openai_client(gw, "guest").chat.completions.create(
        model="haiku", messages=[{"role": "user", "content": "hi"}], stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and chunks[-1].usage.total_tokens > 0


def test_openai_sdk_tool_round_trip(gw, emulator):
    client = openai_client(gw, "analyst")
    messages = [{"role": "user", "content": "weather in Oslo?"}]
    first = client.chat.completions.create(model="sonnet", messages=messages, tools=[WEATHER])
    assert first.choices[0].finish_reason == "tool_calls"
    call = first.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and "city" in json.loads(call.function.arguments)
    messages += [first.choices[0].message, {"role": "tool", "tool_call_id": call.id, "content": '{"temp": 3}'}]
    second = client.chat.completions.create(model="sonnet", messages=messages, tools=[WEATHER])
    assert second.choices[0].finish_reason == "stop" and second.choices[0].message.content
    sent = emulator.calls()[1]["body"]["messages"]
    assert sent[2]["content"][0]["toolResult"]["toolUseId"] == call.id


def test_anthropic_sdk(gw, emulator):
    msg = anthropic_client(gw, "guest").messages.create(
        model="haiku", max_tokens=100, system="be brief", messages=[{"role": "user", "content": "hi"}]
    )
    assert msg.content[0].text and msg.usage.output_tokens > 0 and msg.model == p.HAIKU_45_US
    assert_clean_upstream(emulator)


def test_anthropic_sdk_stream_and_tools(gw, emulator):
    client = anthropic_client(gw, "developer")
    with client.messages.stream(model="sonnet", max_tokens=100, messages=[{"role": "user", "content": "hi"}]) as s:
        final = s.get_final_message()
    assert final.content[0].text and final.usage.output_tokens > 0
    tool = {"name": "get_weather", "description": "w", "input_schema": WEATHER["function"]["parameters"]}
    first = client.messages.create(
        model="sonnet", max_tokens=100, tools=[tool], messages=[{"role": "user", "content": "Oslo?"}]
    )
    use = next(b for b in first.content if b.type == "tool_use")
    assert first.stop_reason == "tool_use" and use.name == "get_weather"
    second = client.messages.create(
        model="sonnet", max_tokens=100, tools=[tool],
        messages=[
            {"role": "user", "content": "Oslo?"},
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "3 degrees"}]},
        ],
    )  # fmt: skip
    assert second.stop_reason == "end_turn"


def test_boto3_converse_and_invoke_are_resigned(gw, emulator):
    client = bedrock_client(gw, "guest")
    gw.wait_idle()
    before = gw.rpc_stats()["plugins"]["bedrock-proxy"]["by_pdk_method"].get("kong.service.request.set_raw_body", 0)
    out = client.converse(modelId=p.HAIKU_45_US, messages=[{"role": "user", "content": [{"text": "hi"}]}])
    assert out["output"]["message"]["content"][0]["text"]
    assert out["ResponseMetadata"]["HTTPHeaders"]["x-llm-model"] == p.HAIKU_45_US
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "hi"}],
    }
    resp = client.invoke_model(modelId=p.HAIKU_45_US, body=json.dumps(body))
    assert json.loads(resp["body"].read())["content"][0]["text"]
    assert int(resp["ResponseMetadata"]["HTTPHeaders"]["x-llm-input-tokens"]) > 0
    calls = emulator.calls()
    assert [c["path"] for c in calls] == [
        "/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse",
        "/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke",
    ]
    assert all("AKIACLIENTOWNKEY0000" not in json.dumps(c["headers"]) for c in calls)
    assert_clean_upstream(emulator)
    # the native body passes through unchanged: Kong already holds it, no set_raw_body
    gw.wait_idle()
    after = gw.rpc_stats()["plugins"]["bedrock-proxy"]["by_pdk_method"].get("kong.service.request.set_raw_body", 0)
    assert after == before


def test_boto3_forbidden_model_and_throttling_raise_the_right_exceptions(gw, emulator):
    client = bedrock_client(gw, "guest")
    with pytest.raises(client.exceptions.AccessDeniedException):
        client.converse(modelId=p.SONNET_45_US, messages=[{"role": "user", "content": [{"text": "hi"}]}])
    emulator.inject("ThrottlingException", count=None)
    with pytest.raises(client.exceptions.ThrottlingException):
        client.converse(modelId=p.HAIKU_45_US, messages=[{"role": "user", "content": [{"text": "hi"}]}])


def test_plain_chat_api(gw, emulator):
    r = post(gw, "/v1/chat", {"messages": [{"role": "user", "content": "hi"}]}, "ecommerce_ops")
    assert r.status_code == 200 and r.json()["object"] == "chat.completion"
    r = post(gw, "/v1/chat", {"messages": [{"role": "user", "content": "hi"}], "stream": True}, "ecommerce_ops")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/event-stream")
    assert r.text.rstrip().endswith("data: [DONE]")


# ---------------------------------------------------------------- usage hand-off


def test_usage_headers_match_the_body_and_the_price(gw, emulator):
    r = post(gw, "/v1/chat/completions", HELLO, "analyst")
    usage = r.json()["usage"]
    h = r.headers
    assert int(h["X-LLM-Input-Tokens"]) + int(h["X-LLM-Cache-Read-Tokens"]) == usage["prompt_tokens"]
    assert int(h["X-LLM-Output-Tokens"]) == usage["completion_tokens"]
    assert int(h["X-LLM-Total-Tokens"]) == usage["total_tokens"]
    expected = estimate_cost(p.SONNET_45_US, Usage(int(h["X-LLM-Input-Tokens"]), int(h["X-LLM-Output-Tokens"])))
    assert h["X-LLM-Cost-USD"] == f"{expected:.6f}" and "X-LLM-Fallback" not in h
    entry = gw.access_log()[-1]
    assert entry["model"] == p.SONNET_45_US and entry["total_tokens"] == usage["total_tokens"]
    line = last_file_log_line(gw, r.headers["X-Kong-Request-Id"])
    ai = line["ai"]["bedrock-proxy"]
    assert ai["meta"]["request_model"] == p.SONNET_45_US and ai["meta"]["provider_name"] == "bedrock"
    assert ai["usage"]["total_tokens"] == usage["total_tokens"] and ai["usage"]["cost"] > 0
    assert "cache" not in ai


def test_a_900kb_prompt_works(gw, emulator):
    big = "word " * (900 * 1024 // 5)
    r = post(gw, "/v1/messages", {"max_tokens": 50, "messages": [{"role": "user", "content": big}]}, "guest",
             headers={"anthropic-version": "2023-06-01"})  # fmt: skip
    assert r.status_code == 200, r.text[:300]
    assert r.json()["usage"]["input_tokens"] > 100_000


def test_too_large_and_bad_json_answer_in_the_clients_format(gw, emulator):
    r = post(gw, "/v1/messages", b"{" + b" " * (1024 * 1024 + 10) + b"}", "guest")
    assert r.status_code == 413 and r.json()["type"] == "error"
    r = post(gw, "/v1/messages", b"{not json", "guest")
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    r = post(gw, "/v1/chat/completions", b"[1,2]", "guest")
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    assert emulator.calls() == []


# ---------------------------------------------------------------- errors and fallbacks


@pytest.mark.parametrize(
    ("error", "status", "openai_type", "retry_after"),
    [
        ("ModelTimeoutException", 504, "timeout_error", False),
        ("ValidationException", 400, "invalid_request_error", False),
        ("ModelErrorException", 502, "api_error", False),
        ("AccessDeniedException", 502, "api_error", False),
        ("ResourceNotFoundException", 502, "api_error", False),
        ("ThrottlingException", 429, "rate_limit_error", True),
        ("ModelNotReadyException", 503, "api_error", True),
        ("ServiceUnavailableException", 503, "api_error", True),
        ("InternalServerException", 502, "api_error", False),
    ],
)
def test_every_bedrock_error_maps(gw, emulator, error, status, openai_type, retry_after):
    emulator.inject(error, count=None)
    r = post(gw, "/v1/chat/completions", HELLO, "guest")
    assert r.status_code == status
    assert r.json()["error"]["type"] == openai_type
    assert ("Retry-After" in r.headers) == retry_after
    assert "arn:" not in r.text and "REDACTED" not in r.text


def test_anthropic_clients_get_anthropic_shaped_errors(gw, emulator):
    emulator.inject("ThrottlingException", count=None)
    with pytest.raises(anthropic.RateLimitError):
        anthropic_client(gw, "guest").messages.create(
            model="haiku", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )


def test_fallback_on_throttling(gw, emulator):
    emulator.inject("ThrottlingException", count=1, model=p.HAIKU_45_US)
    r = post(gw, "/v1/chat/completions", HELLO, "guest")
    assert r.status_code == 200
    assert r.headers["X-LLM-Model"] == p.HAIKU_45_GLOBAL
    assert r.headers["X-LLM-Fallback"] == f"true; from={p.HAIKU_45_US}"
    assert [c["model_id"] for c in emulator.calls()] == [p.HAIKU_45_US, p.HAIKU_45_GLOBAL]
    assert_clean_upstream(emulator)


def test_no_fallback_on_validation(gw, emulator):
    emulator.inject("ValidationException", count=1)
    r = post(gw, "/v1/chat/completions", HELLO, "guest")
    assert r.status_code == 400 and len(emulator.calls()) == 1


def test_gemini_for_other_and_its_errors(gw, emulator):
    msg = anthropic_client(gw, "other").messages.create(
        model="gemini-flash", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
    )
    assert msg.model == p.GEMINI_FLASH_LITE and msg.usage.input_tokens > 0
    call = emulator.calls()[0]
    assert call["operation"] == "GenerateContent" and "authorization" not in {h.lower() for h in call["headers"]}
    emulator.inject("RESOURCE_EXHAUSTED", count=None)
    r = post(gw, "/v1/chat/completions", HELLO, "other")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_a_client_query_string_does_not_break_the_signature(gw, emulator):
    r = post(gw, "/v1/chat/completions?beta=true&apikey=guest-key", HELLO, "guest")
    assert r.status_code == 200, r.text
    assert "?" not in emulator.calls()[0]["path"]


def test_boto3_event_stream_operations_pass_through_with_usage(gw, emulator):
    client = bedrock_client(gw, "guest")
    out = client.converse_stream(modelId="haiku", messages=[{"role": "user", "content": [{"text": "hi"}]}])
    events = list(out["stream"])
    assert events[-1]["metadata"]["usage"]["outputTokens"] > 0
    headers = out["ResponseMetadata"]["HTTPHeaders"]
    assert int(headers["x-llm-output-tokens"]) == events[-1]["metadata"]["usage"]["outputTokens"]
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "hi"}],
    }
    out = client.invoke_model_with_response_stream(modelId=p.HAIKU_45_US, body=json.dumps(body))
    chunks = [json.loads(e["chunk"]["bytes"]) for e in out["body"]]
    metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]
    assert int(out["ResponseMetadata"]["HTTPHeaders"]["x-llm-input-tokens"]) == metrics["inputTokenCount"]


@pytest.mark.parametrize(
    ("error", "status"),
    [("ServiceQuotaExceededException", 429), ("ModelNotReadyException", 503), ("ModelErrorException", 502)],
)
def test_boto3_keeps_bedrock_error_codes(gw, emulator, error, status):
    client = bedrock_client(gw, "guest")
    emulator.inject(error, count=None, operation="InvokeModel")
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "hi"}],
    }
    with pytest.raises(getattr(client.exceptions, error)) as exc:
        client.invoke_model(modelId=p.HAIKU_45_US, body=json.dumps(body))
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_paths_below_the_api_routes_are_404(gw, emulator):
    with pytest.raises(anthropic.NotFoundError):
        anthropic_client(gw, "guest").messages.count_tokens(model="haiku", messages=[{"role": "user", "content": "hi"}])
    assert emulator.calls() == []
