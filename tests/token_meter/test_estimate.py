"""Reservation estimates from request bodies of every client API (table-driven)."""

import json

import pytest

from kong_plugins.token_meter.estimate import estimate_tokens

TEXT = "x" * 400  # 100 tokens at 4 chars per token

CASES = [
    ("openai", {"model": "m", "messages": [{"role": "user", "content": TEXT}], "max_tokens": 50}, 150, 160),
    ("openai newer cap", {"messages": [{"role": "user", "content": TEXT}], "max_completion_tokens": 7}, 107, 110),
    ("no cap: default", {"messages": [{"role": "user", "content": TEXT}]}, 356, 360),
    ("anthropic", {"system": TEXT, "messages": [{"role": "user", "content": TEXT}], "max_tokens": 10}, 210, 215),
    (
        "converse",
        {"messages": [{"role": "user", "content": [{"text": TEXT}]}], "inferenceConfig": {"maxTokens": 20}},
        120,
        125,
    ),
    (
        "anthropic image counts a fixed amount",
        {
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "image", "source": {"type": "base64", "data": "A" * 100_000}}],
                }
            ],
            "max_tokens": 1,
        },
        1601,
        1610,
    ),
    ("gemini", {"contents": [{"parts": [{"text": TEXT}]}], "generationConfig": {"maxOutputTokens": 5}}, 105, 110),
]


@pytest.mark.parametrize("name,body,low,high", CASES, ids=[c[0] for c in CASES])
def test_estimate(name, body, low, high):
    assert low <= estimate_tokens(json.dumps(body).encode(), default_max_tokens=256) <= high


def test_unreadable_bodies():
    assert estimate_tokens(b"", 256) == 0
    assert estimate_tokens(b"[1,2]", 256) == 0
    assert estimate_tokens(b"not json at all!", 256) == 4
    deep = b'{"a":' * 100 + b"1" + b"}" * 100
    assert estimate_tokens(deep, 0) == 0
