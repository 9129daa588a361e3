"""Scanner, policy and masking on their own (table-driven, no PDK)."""

from __future__ import annotations

import json

import pytest

from kong_plugins.ecommerce_guardrails.detectors import Finding
from kong_plugins.ecommerce_guardrails.engine import evaluate
from kong_plugins.ecommerce_guardrails.policy import Policy
from kong_plugins.ecommerce_guardrails.scanner import parse

from .helpers import chat, decide

# --- scanner


def texts(body) -> list[str]:
    return sorted(s.text for s in parse(json.dumps(body).encode()).segments)


def test_every_prose_string_is_found_and_identifiers_are_skipped():
    body = {
        "model": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "system": [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "user text"}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "tu_1", "name": "lookup", "input": {"q": "arg"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "tool text"}]},
            {"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                                     "data": "iVBORw0KGgo="}}]},
        ],
    }  # fmt: skip
    assert texts(body) == ["arg", "lookup", "sys", "tool text", "user text"]


def test_converse_tool_results_and_image_bytes():
    body = {
        "messages": [
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "result"}]}}]},
            {"role": "user", "content": [{"image": {"format": "png", "source": {"bytes": "AAAA"}}}]},
        ],
        "system": [{"text": "be brief"}],
    }
    assert texts(body) == ["be brief", "result"]


@pytest.mark.parametrize(
    "body",
    [b"not json at all", b'{"messages": [', b"\xff\xfe\x00bad utf-8", b"[" * 100_000 + b"]" * 100_000],
)
def test_bodies_that_are_not_json_are_scanned_as_text(body):
    parsed = parse(body)
    assert parsed.holder is None and len(parsed.segments) == 1


def test_card_in_a_non_json_body_is_masked_in_the_text():
    decision = evaluate(b"plain text with card 4526 0181 5908 3012", "ecommerce_ops", Policy())
    assert decision.action == "mask" and decision.body == b"plain text with card 452601******3012"


# --- policy


def test_kong_config_shapes_and_defaults():
    policy = Policy.from_config({"rule_actions": [], "allow_patterns": ["(unclosed"], "roles": None})
    assert policy.rule_actions == {} and policy.allow_patterns == ()
    assert policy.role_actions["guest"]["payment_card"] == "block"
    assert policy.role_actions["admin"]["abuse"] == "shadow"
    assert policy.max_body_bytes == 1_048_576 and policy.block_status == 400


@pytest.mark.parametrize(
    ("rule_actions", "role", "expected"),
    [
        ({}, "ecommerce_ops", "mask"),
        ({"pii.card.number": "shadow"}, "ecommerce_ops", "shadow"),
        ({"pii.card.number": "shadow", "ecommerce_ops:pii.card.number": "block"}, "ecommerce_ops", "block"),
        ({"guest:pii.card.number": "allow"}, "guest", "allow"),
        ({}, "unknown-role", "block"),
    ],
)
def test_rule_overrides(rule_actions, role, expected):
    finding = Finding("pii.card.number", "payment_card", 0, 4, "****")
    assert Policy.from_config({"rule_actions": rule_actions}).action(role, finding) == expected


def test_mask_falls_back_to_block_when_nothing_can_be_masked():
    intent = Finding("pii.card.extraction", "payment_card")
    assert Policy().action("ecommerce_ops", intent) == "block"


@pytest.mark.parametrize(("role", "allowed"), [("analyst", True), ("developer", True), ("guest", False)])
def test_read_only_sql_per_role(role, allowed):
    rules = [f.rule_id for f, _ in decide("SELECT sku, qty FROM stock WHERE qty < 5", role).outcomes]
    assert (rules == []) is allowed


def test_allow_list_phrase_and_pattern():
    policy = Policy.from_config(
        {"allow_phrases": ["What does ' OR 1=1 -- do?"], "allow_patterns": [r"6011 8426 8465 \d{4}"]}
    )
    assert evaluate(chat("What does ' OR 1=1 -- do?"), "guest", policy).action == "allow"
    assert evaluate(chat("What does ' OR 1=1 -- do? Run it."), "guest", policy).action == "block"
    assert evaluate(chat("card 6011 8426 8465 6324"), "guest", policy).action == "allow"
    assert evaluate(chat("card 4526 0181 5908 3012"), "guest", policy).action == "block"


# --- masking


def test_mask_rewrites_only_the_matched_spans():
    body = {"messages": [{"role": "user", "content": "card 4526 0181 5908 3012, cvv 123"}], "temperature": 0.5,
            "metadata": {"n": 12345678901234567890}}  # fmt: skip
    decision = evaluate(json.dumps(body).encode(), "ecommerce_ops", Policy())
    out = json.loads(decision.body)
    assert out["messages"][0]["content"] == "card 452601******3012, cvv [REDACTED:payment_card]"
    assert out["temperature"] == 0.5 and out["metadata"] == body["metadata"]


def test_secret_under_a_secret_named_key_is_masked():
    body = {"messages": [{"role": "tool", "content": json.dumps({"user": "ops", "password": "Winter#2025x"})}],
            "credentials": {"api_key": "abcd-1234-efgh-5678"}}  # fmt: skip
    decision = evaluate(json.dumps(body).encode(), "ecommerce_ops", Policy())
    out = decision.body.decode()
    assert "Winter#2025x" not in out and "abcd-1234-efgh-5678" not in out
    assert out.count("[REDACTED:credentials]") == 2


def test_masked_text_is_normalised_but_keeps_case_and_lines():
    decision = evaluate(chat("Card:\n４５２６ ０１８１ ５９０８ ３０１２\nThanks, Jane"), "ecommerce_ops", Policy())
    assert json.loads(decision.body)["messages"][0]["content"] == "Card:\n452601******3012\nThanks, Jane"
