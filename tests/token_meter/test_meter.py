"""token-meter's core without Kong: admission, settlement, metrics, the log line."""

from __future__ import annotations

import io
import json

import pytest
from prometheus_client import REGISTRY

from kong_plugins.core import logging as core_logging
from kong_plugins.core.client_api import ClientApi
from kong_plugins.core.errors import render_error
from kong_plugins.core.identity import Identity
from kong_plugins.core.usage import LlmResult, Usage
from kong_plugins.token_meter.limiter import LocalLimiter
from kong_plugins.token_meter.meter import TokenMeter

MODEL = "anthropic.claude-haiku-4-5-20251001-v1:0"


def guest(name="guest-user"):
    return Identity(f"consumer:{name}-id", "guest", "consumer_tag", f"{name}-id", name)


def result(inp, out, status=200, error_type=None):
    return LlmResult(
        MODEL, "bedrock", "openai", status, Usage(inp, out), 0.0, upstream_latency_ms=40, error_type=error_type
    )


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def log_lines():
    buf = io.StringIO()
    core_logging.set_stream(buf)
    yield lambda: [json.loads(x) for x in buf.getvalue().splitlines()]
    import sys

    core_logging.set_stream(sys.stderr)


def meter(**conf):
    return TokenMeter({"metrics_port": 0, **conf}, limiter=LocalLimiter())


def test_guest_is_limited_after_500_tokens_with_retry_after(log_lines):
    m, who = meter(), guest()
    limits = m.limits(who)
    assert [lim.tokens for lim in limits] == [500]
    adm = m.admit(who, limits)
    assert adm.error is None
    assert adm.headers["X-RateLimit-Limit-Tokens-Minute"] == "500"
    assert adm.headers["X-RateLimit-Remaining-Tokens-Minute"] == "500"
    m.account(who.to_shared(), result(300, 210))  # 510 tokens used
    before = sample("kong_bedrock_rate_limited_total", consumer="guest-user", role="guest")
    adm = m.admit(who, limits)
    assert adm.error is not None and adm.error.http_status == 429
    status, body, headers = render_error(ClientApi.ANTHROPIC, adm.error)
    assert status == 429 and json.loads(body)["error"]["type"] == "rate_limit_error"
    assert 1 <= int(headers["Retry-After"]) <= 2  # 10 tokens over at 500/60 tokens per second
    assert headers["X-RateLimit-Remaining-Tokens-Minute"] == "0"
    assert sample("kong_bedrock_rate_limited_total", consumer="guest-user", role="guest") == before + 1
    assert any(line["event"] == "rate_limited" and line["role"] == "guest" for line in log_lines())


def test_admin_is_never_limited():
    m = meter()
    admin = Identity("consumer:a", "admin", "consumer_tag", "a", "admin-user")
    assert m.limits(admin) == ()
    m.account(admin.to_shared(), result(10**9, 10**9))  # accounting an unlimited subject is a no-op


def test_reservation_reserves_then_settles_with_the_real_usage():
    m, who = meter(reservation=True, reservation_default_max_tokens=100), guest("res")
    limits = m.limits(who)
    body = json.dumps({"messages": [{"role": "user", "content": "x" * 800}], "max_tokens": 150}).encode()
    adm = m.admit(who, limits, body)
    reserved = int(adm.headers["X-RateLimit-Reserved-Tokens"])
    assert 350 <= reserved <= 360  # 200 prompt + 150 output + a little JSON
    assert adm.shared["reserved"] == reserved
    assert int(adm.headers["X-RateLimit-Remaining-Tokens-Minute"]) == 500 - reserved
    assert m.admit(who, limits, body).error is not None  # a second one does not fit: no overshoot
    m.account(adm.shared, result(200, 20))  # settle: refund reserved - 220
    remaining = int(m.admit(who, limits).headers["X-RateLimit-Remaining-Tokens-Minute"])
    assert 278 <= remaining <= 280


def test_metrics_and_log_line_after_a_known_request(log_lines):
    m, who = meter(), guest("metrics")
    labels = {"model": MODEL, "role": "guest"}
    before = {
        "in": sample("kong_bedrock_tokens_input_total", **labels),
        "out": sample("kong_bedrock_tokens_output_total", **labels),
        "req": sample("kong_bedrock_requests_total", status_class="2xx", **labels),
        "cost": sample("kong_bedrock_cost_estimate_dollars", **labels),
        "dur": sample("kong_bedrock_request_duration_seconds_count", **labels),
    }
    shared = {**who.to_shared(), "resolved_at": 1000.0}
    rec = m.account(shared, result(1000, 100), now=lambda: 1002.5)
    assert rec.duration_s == 2.5
    assert sample("kong_bedrock_tokens_input_total", **labels) == before["in"] + 1000
    assert sample("kong_bedrock_tokens_output_total", **labels) == before["out"] + 100
    assert sample("kong_bedrock_requests_total", status_class="2xx", **labels) == before["req"] + 1
    # haiku 4.5 bare ID: (1000 * 1 + 100 * 5) / 1e6 * 1.1 regional premium
    assert sample("kong_bedrock_cost_estimate_dollars", **labels) == pytest.approx(before["cost"] + 0.00165)
    assert sample("kong_bedrock_request_duration_seconds_count", **labels) == before["dur"] + 1
    line = [x for x in log_lines() if x["event"] == "llm_request"][-1]
    assert line["input_tokens"] == 1000 and line["output_tokens"] == 100 and line["latency_ms"] == 2500
    assert line["role"] == "guest" and line["consumer"] == "metrics" and line["status"] == 200
    assert line["model"] == MODEL and line["cost_usd"] == pytest.approx(0.00165)


def test_pricing_override_from_config():
    m = meter(pricing={MODEL.split(":")[0] + ":0": {"input": 10.0, "output": 0.0}})
    rec = m.account(guest("price").to_shared(), result(1_000_000, 0))
    assert rec.cost_usd == pytest.approx(10.0)


def test_errors_by_type_and_unknown_models_as_other():
    m = meter()
    before = sample("kong_bedrock_errors_total", type="throttling")
    other_before = sample("kong_bedrock_requests_total", model="other", role="guest", status_class="4xx")
    r = LlmResult("some.unknown-model", "bedrock", "openai", 429, Usage(), error_type="ThrottlingException")
    m.account(guest("err").to_shared(), r)
    assert sample("kong_bedrock_errors_total", type="throttling") == before + 1
    assert sample("kong_bedrock_requests_total", model="other", role="guest", status_class="4xx") == other_before + 1


def test_serialize_fallback_meters_kong_ai_proxy_traffic():
    m = meter()
    serialized = json.dumps(
        {
            "response": {"status": 200},
            "latencies": {"request": 1234, "kong": 3},
            "consumer": {"id": "cid", "username": "analyst-user"},
            "ai": {
                "ai-proxy": {
                    "meta": {"provider_name": "bedrock", "request_model": MODEL, "llm_latency": 900},
                    "usage": {"prompt_tokens": 40, "completion_tokens": 2, "total_tokens": 42, "cost": 0.5},
                }
            },
        }
    )
    shared = Identity("consumer:cid", "analyst", "consumer_tag", "cid", "analyst-user").to_shared()
    rec = m.account(shared, None, serialized)
    assert (rec.input_tokens, rec.usage.output_tokens, rec.cost_usd) == (40, 2, 0.5)
    assert (rec.duration_s, rec.status, rec.role, rec.upstream_latency_ms) == (1.234, 200, "analyst", 900)


def test_request_refused_before_any_model_is_metered_with_model_none():
    m = meter()
    before = sample("kong_bedrock_requests_total", model="none", role="guest", status_class="4xx")
    rec = m.account(guest("blocked").to_shared(), None, json.dumps({"response": {"status": 429}}))
    assert rec.model == "none" and rec.error_label == "rate_limited"
    assert sample("kong_bedrock_requests_total", model="none", role="guest", status_class="4xx") == before + 1


def test_throttle_lets_one_warning_a_second_through_and_counts_the_rest():
    from kong_plugins.token_meter.meter import Throttle

    t = [0.0]
    throttle = Throttle(1.0, clock=lambda: t[0])
    assert throttle.due() == 0
    assert throttle.due() is None and throttle.due() is None
    t[0] = 1.0
    assert throttle.due() == 2
