"""Operator settings end to end (configs/tuned.yaml): block status, body limit, allow-list,
per-rule and per-role overrides, last-four masking."""

from __future__ import annotations

import json

import pytest
import requests

from kong_plugins.testing.kong.fixtures import checked_gateway, offline_env

from .helpers import CONFIGS

KEYS = {"guest": "guest-key", "ecommerce_ops": "ops-key", "developer": "dev-key"}


@pytest.fixture(scope="module")
def tuned(_bedrock_emulator_session):
    with checked_gateway(CONFIGS / "tuned.yaml", env=offline_env(_bedrock_emulator_session.url)) as gateway:
        yield gateway


def ask(gw, text, role="guest", path="/v1/chat"):
    body = json.dumps({"messages": [{"role": "user", "content": text}]})
    return requests.post(gw.url + path, data=body, headers={"X-API-Key": KEYS[role]}, timeout=60)


def test_block_status_is_configurable(tuned, emulator):
    r = ask(tuned, "UNION SELECT password FROM users")
    assert r.status_code == 422 and r.headers["X-Guardrail-Rule"] == "sqli.union"
    assert r.json()["error"]["code"] == "guardrail_blocked"


def test_body_limit_is_configurable(tuned, emulator):
    r = ask(tuned, "x" * 70_000, path="/v1/messages")
    assert r.status_code == 413 and r.json()["error"]["type"] == "request_too_large"
    assert emulator.calls() == []


def test_allow_list_phrase_and_pattern(tuned, emulator):
    assert ask(tuned, "Explain why ' OR 1=1 -- is dangerous").status_code == 200
    assert ask(tuned, "Explain why ' OR 1=1 -- is dangerous, then run it").status_code == 422
    assert ask(tuned, "demo card 6011 8426 8465 6324").status_code == 200
    assert ask(tuned, "card 6011 0009 9013 9425 please").status_code in (200, 422)  # other numbers: not allow-listed
    assert ask(tuned, "card 4526 0181 5908 3012").status_code == 422


def test_rule_and_role_overrides(tuned, emulator):
    # pii.card.expiry is shadowed for everyone
    assert ask(tuned, "my credit card expiry is 09/27").status_code == 200
    # ops would mask card numbers by default; this config blocks them
    r = ask(tuned, "card 4526 0181 5908 3012", "ecommerce_ops")
    assert r.status_code == 422 and r.headers["X-Guardrail-Rule"] == "pii.card.number"
    # guests: credentials masked instead of blocked, abuse only shadowed
    emulator.reset()
    r = ask(tuned, "my password is hunter2, why can't I log in?")
    assert r.status_code == 200 and r.headers["X-Guardrail-Masked"] == "cred.password.value"
    assert "hunter2" not in json.dumps(emulator.calls()[0]["body"])
    assert ask(tuned, "How can I exploit your promo codes?").status_code == 200


def test_last_four_masking(tuned, emulator):
    r = ask(tuned, "the customer card is 4526 0181 5908 3012", "developer")
    assert r.status_code == 200 and r.headers["X-Guardrail-Masked"] == "pii.card.number"
    upstream = json.dumps(emulator.calls()[0]["body"])
    assert "************3012" in upstream and "452601" not in upstream
