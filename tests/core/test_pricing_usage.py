import pytest

from kong_plugins.core.pricing import estimate_cost, split_model_id
from kong_plugins.core.usage import LlmResult, Usage

M = 1_000_000


@pytest.mark.parametrize(
    ("model_id", "base", "geo"),
    [
        ("anthropic.claude-sonnet-4-6", "anthropic.claude-sonnet-4-6", None),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-haiku-4-5-20251001-v1:0", "us"),
        ("global.anthropic.claude-opus-4-6-v1", "anthropic.claude-opus-4-6-v1", "global"),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-6",
            "anthropic.claude-sonnet-4-6",
            "eu",
        ),
        ("gemini-3.5-flash", "gemini-3.5-flash", None),
    ],
)
def test_split_model_id(model_id, base, geo):
    assert split_model_id(model_id) == (base, geo)


@pytest.mark.parametrize(
    ("model_id", "usage", "dollars"),
    [
        ("global.anthropic.claude-sonnet-4-6", Usage(M, M), 18.0),
        ("us.anthropic.claude-sonnet-4-6", Usage(M, M), 19.8),  # regional +10%
        ("anthropic.claude-sonnet-4-6", Usage(M, M), 19.8),  # in-region base ID too
        ("global.anthropic.claude-haiku-4-5-20251001-v1:0", Usage(0, 0, M, 0), 0.1),  # cache read 10%
        ("global.anthropic.claude-haiku-4-5-20251001-v1:0", Usage(0, 0, 0, M), 1.25),  # cache write 125%
        ("anthropic.claude-3-haiku-20240307-v1:0", Usage(M, M), 1.5),  # no premium before 4.5
        ("gemini-3.5-flash", Usage(M, M), 10.5),
        ("some.unknown-model", Usage(M, M), 0.0),
    ],
)
def test_estimate_cost(model_id, usage, dollars):
    assert estimate_cost(model_id, usage) == pytest.approx(dollars)


def test_operator_override_wins():
    overrides = {"anthropic.claude-sonnet-4-6": {"input": 1.0, "output": 2.0}}
    assert estimate_cost("us.anthropic.claude-sonnet-4-6", Usage(M, M), overrides) == pytest.approx(3.0)


def test_result_round_trip_and_headers():
    r = LlmResult("us.x", "bedrock", "openai", 200, Usage(10, 5, 2, 1), 0.5, fallback_from="global.x", attempts=2)
    assert LlmResult.from_shared(r.to_shared()) == r
    h = r.headers("v1")
    assert h["X-LLM-Total-Tokens"] == "18"
    assert h["X-LLM-Fallback"] == "true; from=global.x"
    ai = r.kong_ai_serialize()
    assert ai["usage"]["prompt_tokens"] == 13 and ai["usage"]["completion_tokens"] == 5
    assert not any(k.endswith("_latency") for k in ai.get("cache", {}))
    assert LlmResult.from_shared({"nope": 1}) is None


def test_shared_form_names_every_field():
    # to_shared is written out by hand for speed; it must not forget a field.
    from dataclasses import fields

    from kong_plugins.core.identity import Identity

    r = LlmResult("m", "bedrock", "openai", 200, Usage(1, 2, 3, 4), 0.1, "f", 2, 5, "throttling")
    assert set(r.to_shared()) == {f.name for f in fields(LlmResult)}
    i = Identity("s", "guest", "consumer_tag", "c", "u", 1.5)
    assert set(i.to_shared()) == {f.name for f in fields(Identity)}
    assert Identity.from_shared(i.to_shared()) == i
