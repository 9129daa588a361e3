"""The core of one call (outbound.py, answer.py) against the real emulator: plan -> HTTP -> answer."""

import json

import pytest

from kong_plugins.bedrock_proxy import policy as p
from kong_plugins.bedrock_proxy import transport
from kong_plugins.bedrock_proxy.answer import UpstreamReads, answer
from kong_plugins.bedrock_proxy.outbound import kong_headers, plan_call
from kong_plugins.core.client_api import ClientApi
from kong_plugins.core.errors import GatewayError
from kong_plugins.core.usage import HEADER_FALLBACK, HEADER_INPUT_TOKENS, HEADER_MODEL, HEADER_TOTAL_TOKENS, LlmResult

from .helpers import identity, settings_for

OPENAI = {"messages": [{"role": "user", "content": "hello there"}]}
ANTHROPIC = {"max_tokens": 64, "messages": [{"role": "user", "content": "hello there"}]}


def no_vault(ref):
    raise AssertionError("no vault lookup expected")


def run(settings, role, api, body, path="/v1/chat/completions", kong_body=False):
    """What Kong does between the two phases: send the planned request, hand back the answer.
    kong_body: the request body seen in the response phase is the one set_raw_body replaced (Kong)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    plan = plan_call(settings, identity(role), api, path, raw, no_vault)
    up = plan.upstream
    got = transport.post(up.endpoint.url(up.path), up.body, up.headers, 10)
    reads = UpstreamReads(
        status=lambda: got.status,
        error_type=lambda: got.headers.get("x-amzn-errortype"),
        headers=lambda: got.headers,
        request_body=(lambda: up.body) if kong_body else (lambda: raw),
        resolve=no_vault,
    )
    reply = answer(settings, plan.state, got.body, reads)
    return plan, reply


@pytest.fixture
def settings(emulator):
    return settings_for(emulator.url)


def test_openai_call_for_a_guest(settings, emulator):
    plan, reply = run(settings, "guest", ClientApi.OPENAI, OPENAI)
    assert plan.upstream.path == "/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse"
    assert reply.status == 200
    body = json.loads(reply.body)
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"]
    assert reply.headers[HEADER_MODEL] == p.HAIKU_45_US
    assert int(reply.headers[HEADER_TOTAL_TOKENS]) == body["usage"]["total_tokens"] > 0
    assert reply.result.cost_usd > 0 and reply.result.provider == "bedrock"
    assert LlmResult.from_shared(reply.result.to_shared()) == reply.result


def test_anthropic_stream_is_a_complete_sse_body(settings):
    _, reply = run(settings, "analyst", ClientApi.ANTHROPIC, {**ANTHROPIC, "stream": True}, "/v1/messages")
    assert reply.status == 200 and reply.headers["Content-Type"] == "text/event-stream"
    text = reply.body.decode()
    assert text.startswith("event: message_start") and "event: message_stop" in text


def test_other_role_goes_to_gemini_with_the_key_header(settings, emulator):
    plan, reply = run(settings, "other", ClientApi.OPENAI, OPENAI)
    assert plan.upstream.path == "/v1beta/models/gemini-3.1-flash-lite:generateContent"
    assert "x-goog-api-key" in plan.upstream.headers and "Authorization" not in plan.upstream.headers
    assert reply.status == 200 and reply.result.provider == "gemini"
    assert int(reply.headers[HEADER_INPUT_TOKENS]) > 0


def test_gemini_key_from_a_vault_reference(emulator):
    settings = settings_for(emulator.url, gemini_api_key="{vault://env/MY_GEMINI_KEY}")
    seen = []

    def vault(ref):
        seen.append(ref)
        from kong_plugins.testing.bedrock_emulator.app import TEST_GEMINI_API_KEY

        return TEST_GEMINI_API_KEY

    raw = json.dumps(OPENAI).encode()
    plan = plan_call(settings, identity("other"), ClientApi.OPENAI, "/v1/chat/completions", raw, vault)
    plan_call(settings, identity("other"), ClientApi.OPENAI, "/v1/chat/completions", raw, vault)
    assert seen == ["{vault://env/MY_GEMINI_KEY}"]  # cached
    up = plan.upstream
    assert transport.post(up.endpoint.url(up.path), up.body, up.headers, 10).status == 200


def test_native_converse_body_goes_through_unchanged(settings):
    body = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    path = "/bedrock/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse"
    plan, reply = run(settings, "guest", ClientApi.BEDROCK, body, path)
    assert plan.upstream.body == json.dumps(body).encode()
    assert reply.status == 200 and reply.body is None  # Kong's upstream body is kept
    assert reply.result.usage.input_tokens > 0


@pytest.mark.parametrize(
    ("api", "body", "status"),
    [
        (ClientApi.OPENAI, b"{not json", 400),
        (ClientApi.OPENAI, b"[]", 400),
        (ClientApi.OPENAI, json.dumps({**OPENAI, "model": "opus"}).encode(), 403),
        (ClientApi.ANTHROPIC, json.dumps({"messages": []}).encode(), 400),
        (ClientApi.OPENAI, b"x" * (1024 * 1024 + 1), 413),
    ],
)
def test_bad_requests_are_refused_before_any_upstream_call(settings, emulator, api, body, status):
    path = {ClientApi.OPENAI: "/v1/chat/completions", ClientApi.ANTHROPIC: "/v1/messages"}[api]
    with pytest.raises(GatewayError) as exc:
        plan_call(settings, identity("guest"), api, path, body, no_vault)
    assert exc.value.http_status == status
    assert emulator.calls() == []


def test_a_path_below_a_known_api_is_404(settings, emulator):
    """Kong routes by prefix, so /v1/messages/count_tokens reaches the plugin."""
    body = json.dumps(ANTHROPIC).encode()
    with pytest.raises(GatewayError) as exc:
        plan_call(settings, identity("guest"), ClientApi.OPENAI, "/v1/messages/count_tokens", body, no_vault)
    assert exc.value.http_status == 404 and emulator.calls() == []


def test_native_path_checks_the_model_against_the_role(settings):
    with pytest.raises(GatewayError) as exc:
        plan_call(
            settings, identity("guest"), ClientApi.BEDROCK, f"/bedrock/model/{p.SONNET_45_US}/converse", b"{}", no_vault
        )
    assert exc.value.http_status == 403


def test_throttling_falls_back_to_the_next_profile(settings, emulator):
    emulator.inject("ThrottlingException", count=1, model=p.HAIKU_45_US)
    _, reply = run(settings, "guest", ClientApi.OPENAI, OPENAI)
    assert reply.status == 200
    assert reply.headers[HEADER_MODEL] == p.HAIKU_45_GLOBAL
    assert reply.headers[HEADER_FALLBACK] == f"true; from={p.HAIKU_45_US}"
    assert reply.result.attempts == 2
    assert len(emulator.calls()) == 2


def test_validation_error_does_not_fall_back(settings, emulator):
    emulator.inject("ValidationException", count=1)
    _, reply = run(settings, "guest", ClientApi.OPENAI, OPENAI)
    assert reply.status == 400 and json.loads(reply.body)["error"]["type"] == "invalid_request_error"
    assert len(emulator.calls()) == 1 and reply.result.error_type == "validation"


def test_all_fallbacks_throttled_gives_429_with_retry_after(settings, emulator):
    emulator.inject("ThrottlingException", count=None)
    _, reply = run(settings, "guest", ClientApi.ANTHROPIC, ANTHROPIC, "/v1/messages")
    assert reply.status == 429 and reply.headers["Retry-After"]
    assert json.loads(reply.body)["error"]["type"] == "rate_limit_error"
    assert reply.result.attempts == 2


def test_headers_for_kong_clear_client_credentials(settings):
    plan = plan_call(
        settings, identity("guest"), ClientApi.OPENAI, "/v1/chat/completions", json.dumps(OPENAI).encode(), no_vault
    )
    headers = kong_headers(plan.upstream)
    assert headers["x-api-key"] == [] and headers["x-consumer-groups"] == []
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 ")


@pytest.mark.parametrize("kong_body", [True, False])
def test_fallback_across_providers_reuses_the_converse_body(emulator, kong_body):
    roles = {
        "guest": {
            "models": [p.HAIKU_45_US],
            "default_model": p.HAIKU_45_US,
            "fallbacks": [p.HAIKU_45_US, p.GEMINI_FLASH_LITE],
        }
    }
    settings = settings_for(emulator.url, roles=roles)
    emulator.inject("ServiceUnavailableException", count=1)
    _, reply = run(settings, "guest", ClientApi.OPENAI, OPENAI, kong_body=kong_body)
    assert reply.status == 200 and reply.result.provider == "gemini"
    assert reply.headers[HEADER_FALLBACK] == f"true; from={p.HAIKU_45_US}"


@pytest.mark.parametrize("kong_body", [True, False])
def test_gemini_throttled_falls_back_to_the_next_gemini_model(settings, emulator, kong_body):
    emulator.inject("RESOURCE_EXHAUSTED", count=1)
    _, reply = run(settings, "other", ClientApi.ANTHROPIC, ANTHROPIC, "/v1/messages", kong_body=kong_body)
    assert reply.status == 200 and reply.headers[HEADER_MODEL] == p.GEMINI_FLASH


def test_one_metadata_only_log_line_per_call(settings, emulator):
    import io

    from kong_plugins.core import logging as core_logging

    buf = io.StringIO()
    core_logging.set_stream(buf)
    try:
        secret = "SECRET-PROMPT-TEXT-4242"
        run(settings, "guest", ClientApi.OPENAI, {"messages": [{"role": "user", "content": secret}]})
    finally:
        import sys

        core_logging.set_stream(sys.stderr)
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["llm_call"]
    assert lines[0]["model"] == p.HAIKU_45_US and lines[0]["total_tokens"] > 0
    assert secret not in buf.getvalue() and "Hello from" not in buf.getvalue()


def test_operator_price_overrides_set_the_cost(emulator):
    settings = settings_for(
        emulator.url, prices={"anthropic.claude-haiku-4-5-20251001-v1:0": {"input": 1000, "output": 0}}
    )
    _, reply = run(settings, "guest", ClientApi.OPENAI, OPENAI)
    usage = reply.result.usage
    assert reply.result.cost_usd == pytest.approx(usage.input_tokens * 1000 / 1e6 + usage.cache_read_tokens * 100 / 1e6)


def test_native_path_parsing():
    from kong_plugins.bedrock_proxy.passthrough import parse_native_path

    call = parse_native_path(
        "/bedrock/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.x/invoke"
    )
    assert (call.model, call.operation) == ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.x", "invoke")
    for bad, status in [
        ("/bedrock/model/x/count-tokens", 400),
        ("/bedrock/nothing", 404),
        ("/bedrock/model/%00/converse", 400),
    ]:
        with pytest.raises(GatewayError) as exc:
            parse_native_path(bad)
        assert exc.value.http_status == status


def test_missing_gemini_key_is_a_502_not_a_crash(emulator):
    from kong_plugins.bedrock_proxy.gemini import GeminiKey

    settings = settings_for(emulator.url)
    settings.gemini_key = GeminiKey(None, env={})
    with pytest.raises(GatewayError) as exc:
        plan_call(
            settings, identity("other"), ClientApi.OPENAI, "/v1/chat/completions", json.dumps(OPENAI).encode(), no_vault
        )
    assert exc.value.http_status == 502 and "key" in exc.value.message
