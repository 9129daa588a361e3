"""The pure library on hostile and generated input: no exception ever, masks never leak the
number, and adversarial strings finish (pytest-timeout fails a catastrophic backtrack)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kong_plugins.ecommerce_guardrails.detectors import Options
from kong_plugins.ecommerce_guardrails.detectors.payment_card import luhn_ok
from kong_plugins.ecommerce_guardrails.engine import evaluate
from kong_plugins.ecommerce_guardrails.policy import Policy

from .strategies import hostile_bodies

POLICY = Policy()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    body=hostile_bodies(), role=st.sampled_from(["guest", "ecommerce_ops", "admin", "analyst", "developer", "other"])
)
def test_evaluate_never_raises(body, role):
    decision = evaluate(body, role, POLICY)
    assert decision.action in ("allow", "block", "mask", "shadow")
    if decision.body is not None:
        try:
            json.loads(body)
        except (ValueError, RecursionError):
            return
        json.loads(decision.body)  # a JSON body stays JSON after masking


def _with_check_digit(prefix: str) -> str:
    return next(prefix + d for d in "0123456789" if luhn_ok(prefix + d))


@settings(max_examples=200, deadline=None)
@given(
    iin=st.sampled_from(["4", "51", "55", "2221", "2720", "6011", "65", "3530"]),
    rest=st.text("0123456789", min_size=15, max_size=15),
    sep=st.sampled_from([" ", "-", ".", "", "\u200b", " \u200b"]),
    before=st.text(max_size=30),
)
def test_masked_cards_never_leak_the_number(iin, rest, sep, before):
    number = _with_check_digit((iin + rest)[:15])
    spaced = sep.join(number[i : i + 4] for i in range(0, 16, 4))
    body = json.dumps({"messages": [{"role": "user", "content": f"{before} my card {spaced} thanks"}]}).encode()
    decision = evaluate(body, "ecommerce_ops", Policy(options=Options(allow_test_cards=False)))
    if decision.action == "mask":
        assert number not in decision.body.decode().replace(" ", "").replace("-", "").replace(".", "")
        assert number[-4:] in decision.body.decode()
    else:
        assert decision.action == "block"  # e.g. found only in a view that cannot be masked


ADVERSARIAL = [
    "a" * 200_000,
    "' or " * 40_000,
    "select " * 30_000,
    "select * from " * 15_000,
    "/*" * 100_000,
    "/* " + "x" * 200_000,
    "4 " * 100_000,
    "4111-" * 40_000,
    "1" * 200_000,
    "card " * 40_000 + "4526018159083012",
    "password is " * 20_000,
    "password= " * 20_000,
    "my password is x" * 10_000,
    "-----BEGIN RSA PRIVATE KEY-----" * 5_000,
    "eyJ" + "a" * 100_000 + "." + "eyJ" + "b" * 100_000,
    "a " * 100_000,
    "a.b." * 50_000,
    "\u200b" * 100_000 + "4526018159083012",
    "exp 12/" * 30_000,
    "cvv " * 40_000,
    "bypass " * 30_000 + "payment",
    "give me the " * 20_000,
    ";" * 100_000 + "drop table",
    "union " * 30_000,
    "' " * 100_000,
    "sk-" + "a" * 200_000,
    "AKIA" * 50_000,
    "a@b." * 50_000,
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda t: repr(t[:12]))
def test_adversarial_strings_finish(text):
    evaluate(json.dumps({"messages": [{"role": "user", "content": text}]}).encode(), "guest", POLICY)
