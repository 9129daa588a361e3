"""Token limits end to end: harness Kong -> key-auth -> token-meter -> bedrock-proxy -> emulator.

What a client sees: rate-limit headers on every limited response, a 429 in its own API format
with Retry-After once its tokens are spent, the limit sliding back, admin never limited.
"""

from __future__ import annotations

import json
import math
import time

import anthropic
import pytest
import requests

PROMPT = "Please summarise the following order history for me. " * 12  # ~650 chars, ~160 tokens


def chat(gw, key, content=PROMPT, path="/v1/chat/completions", **extra):
    return requests.post(
        gw.url + path,
        headers={"X-API-Key": key, **extra.pop("headers", {})},
        json={"messages": [{"role": "user", "content": content}], **extra},
        timeout=30,
    )


def used_tokens(resp) -> int:
    return int(resp.headers["X-LLM-Total-Tokens"])


def test_guest_is_limited_after_500_tokens_and_gets_429_with_retry_after(meter_gateway):
    gw, _ = meter_gateway()
    used, start = 0, time.monotonic()
    for _ in range(20):
        resp = chat(gw, "guest-key")
        gw.wait_idle()  # the log phase charged the usage before the next request
        if resp.status_code == 429:
            break
        assert resp.status_code == 200, resp.text
        drained = (time.monotonic() - start) * 500 / 60
        remaining = int(resp.headers["X-RateLimit-Remaining-Tokens-Minute"])
        assert resp.headers["X-RateLimit-Limit-Tokens-Minute"] == "500"
        # remaining as of admission: the limit minus what was used, plus what drained since
        assert 500 - used <= remaining <= min(500, 500 - used + math.ceil(drained) + 1)
        assert int(resp.headers["RateLimit-Reset"]) <= math.ceil(used * 60 / 500) + 1
        used += used_tokens(resp)
    else:
        pytest.fail("the guest was never limited")
    assert used >= 500 - (time.monotonic() - start) * 500 / 60  # not limited before 500 tokens
    assert resp.status_code == 429
    body = resp.json()
    assert body["error"]["type"] == "rate_limit_error" and body["error"]["code"] == "token_rate_limited"
    retry_after = int(resp.headers["Retry-After"])
    assert 1 <= retry_after <= math.ceil((used - 500) * 60 / 500) + 1
    assert resp.headers["X-RateLimit-Remaining-Tokens-Minute"] == "0"
    assert resp.headers["X-RateLimit-Limit-Tokens-Minute"] == "500"
    assert not [c for c in gw.access_log() if c.get("status") == 429 and c.get("upstream_status")]
    gw.load(gw.config_path)  # a config reload renews every plugin instance: the counts survive it
    assert chat(gw, "guest-key").status_code == 429


def test_the_limit_slides_back_after_retry_after(meter_gateway):
    gw, _ = meter_gateway(window_scale=0.05)  # a 3 s "minute": the guest drains 167 tokens/s
    for _ in range(50):
        resp = chat(gw, "guest-key")
        gw.wait_idle()
        if resp.status_code == 429:
            break
    assert resp.status_code == 429
    time.sleep(int(resp.headers["Retry-After"]))
    again = chat(gw, "guest-key")
    assert again.status_code == 200
    assert int(again.headers["X-RateLimit-Remaining-Tokens-Minute"]) > 0


def test_admin_is_never_limited_and_gets_no_limit_headers(meter_gateway):
    gw, _ = meter_gateway()
    for _ in range(8):  # ~1,500 tokens: three times the guest limit
        resp = chat(gw, "admin-key", content=PROMPT * 3)
        assert resp.status_code == 200
        assert "X-RateLimit-Limit-Tokens-Minute" not in resp.headers
        gw.wait_idle()


def test_anthropic_sdk_gets_a_429_in_anthropic_format(meter_gateway):
    gw, _ = meter_gateway()
    client = anthropic.Anthropic(
        base_url=gw.url, api_key="unused", default_headers={"X-API-Key": "guest-key"}, max_retries=0
    )
    with pytest.raises(anthropic.RateLimitError) as info:
        for _ in range(20):
            client.messages.create(
                model="us.anthropic.claude-haiku-4-5-20251001-v1:0",
                max_tokens=200,
                messages=[{"role": "user", "content": PROMPT}],
            )
            gw.wait_idle()
    err = info.value
    assert err.status_code == 429
    assert err.body["type"] == "rate_limit_error" or err.body.get("error", {}).get("type") == "rate_limit_error"
    assert int(err.response.headers["retry-after"]) >= 1


def test_reservation_header_and_no_second_request_past_the_limit(meter_gateway):
    gw, _ = meter_gateway(reservation="true")
    resp = chat(gw, "guest-key", max_tokens=100)
    assert resp.status_code == 200
    reserved = int(resp.headers["X-RateLimit-Reserved-Tokens"])
    assert 200 <= reserved <= 300  # ~165 prompt tokens estimated + max_tokens 100
    assert int(resp.headers["X-RateLimit-Remaining-Tokens-Minute"]) == 500 - reserved
    gw.wait_idle()  # settled with the real usage: the unused part came back
    resp2 = chat(gw, "guest-key", max_tokens=100)
    assert int(resp2.headers["X-RateLimit-Remaining-Tokens-Minute"]) >= 500 - used_tokens(resp) - reserved - 1
    gw.wait_idle()
    big = chat(gw, "guest-key", max_tokens=450)  # does not fit beside what is used: refused up front
    assert big.status_code == 429
    assert json.loads(big.text)["error"]["type"] == "rate_limit_error"


def test_boto3_gets_a_throttling_exception(meter_gateway):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    gw, _ = meter_gateway()
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=gw.url + "/bedrock",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}),
    )
    client.meta.events.register(
        "before-send.bedrock-runtime.*", lambda request, **_: request.headers.__setitem__("X-API-Key", "guest-key")
    )
    with pytest.raises(ClientError) as info:
        for _ in range(20):
            client.converse(
                modelId="us.anthropic.claude-haiku-4-5-20251001-v1:0",
                messages=[{"role": "user", "content": [{"text": PROMPT}]}],
            )
            gw.wait_idle()
    err = info.value.response
    assert err["Error"]["Code"] == "ThrottlingException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert int(err["ResponseMetadata"]["HTTPHeaders"]["retry-after"]) >= 1
