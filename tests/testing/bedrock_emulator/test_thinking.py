"""Claude extended thinking through Converse (reasoningContent) and InvokeModel (thinking blocks)."""

from __future__ import annotations

import json

import pytest

from .helpers import OPUS, SONNET, anthropic_body, user

THINKING = {"thinking": {"type": "enabled", "budget_tokens": 2048}}


def test_converse_reasoning_block_then_text_and_billed_as_output(emulator):
    client = emulator.client()
    plain = client.converse(modelId=SONNET, messages=user("why?"))
    resp = client.converse(modelId=SONNET, messages=user("why?"), additionalModelRequestFields=THINKING)
    reasoning, text = resp["output"]["message"]["content"]
    assert (
        reasoning["reasoningContent"]["reasoningText"]["text"]
        and reasoning["reasoningContent"]["reasoningText"]["signature"]
    )
    assert text["text"] == plain["output"]["message"]["content"][0]["text"]
    assert resp["usage"]["outputTokens"] > plain["usage"]["outputTokens"]


def test_converse_stream_reasoning_deltas(emulator):
    resp = emulator.client().converse_stream(modelId=OPUS, messages=user("why?"), additionalModelRequestFields=THINKING)
    events = list(resp["stream"])
    reasoning = [
        e["contentBlockDelta"]["delta"]["reasoningContent"]
        for e in events
        if "reasoningContent" in e.get("contentBlockDelta", {}).get("delta", {})
    ]
    assert "".join(r.get("text", "") for r in reasoning) and reasoning[-1]["signature"]
    texts = [e["contentBlockDelta"] for e in events if "text" in e.get("contentBlockDelta", {}).get("delta", {})]
    assert {t["contentBlockIndex"] for t in texts} == {1}
    stops = [e["contentBlockStop"]["contentBlockIndex"] for e in events if "contentBlockStop" in e]
    assert stops == [0, 1]


def test_invoke_thinking_block(emulator):
    body = json.loads(anthropic_body("why?", max_tokens=4096, **THINKING))
    out = json.loads(emulator.client().invoke_model(modelId=SONNET, body=json.dumps(body))["body"].read())
    assert [b["type"] for b in out["content"]] == ["thinking", "text"]
    assert out["content"][0]["signature"]


def test_invoke_stream_thinking_and_signature_deltas(emulator):
    body = anthropic_body("why?", max_tokens=4096, **THINKING)
    resp = emulator.client().invoke_model_with_response_stream(modelId=SONNET, body=body)
    chunks = [json.loads(e["chunk"]["bytes"]) for e in resp["body"]]
    kinds = [c["delta"]["type"] for c in chunks if c["type"] == "content_block_delta"]
    assert kinds[0] == "thinking_delta" and "signature_delta" in kinds and kinds[-1] == "text_delta"
    starts = [c["content_block"]["type"] for c in chunks if c["type"] == "content_block_start"]
    assert starts == ["thinking", "text"]


@pytest.mark.parametrize(
    ("thinking", "max_tokens", "message"),
    [
        ({"type": "enabled", "budget_tokens": 100}, 4096, "greater than or equal to 1024"),
        (
            {"type": "enabled", "budget_tokens": 4096},
            2048,
            "`max_tokens` must be greater than `thinking.budget_tokens`",
        ),
    ],
)
def test_thinking_budget_validation(emulator, thinking, max_tokens, message):
    client = emulator.client()
    with pytest.raises(client.exceptions.ValidationException, match=message):
        client.converse(
            modelId=SONNET,
            messages=user("x"),
            inferenceConfig={"maxTokens": max_tokens},
            additionalModelRequestFields={"thinking": thinking},
        )
    with pytest.raises(client.exceptions.ValidationException, match=message):
        client.invoke_model(modelId=SONNET, body=anthropic_body("x", max_tokens=max_tokens, thinking=thinking))


def test_performance_and_service_tier_are_echoed(emulator):
    resp = emulator.client().converse(
        modelId=SONNET, messages=user("x"), performanceConfig={"latency": "optimized"}, serviceTier={"type": "priority"}
    )
    assert resp["performanceConfig"] == {"latency": "optimized"} and resp["serviceTier"] == {"type": "priority"}
