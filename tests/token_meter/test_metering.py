"""Records from what the log phase sees, including garbage (table-driven)."""

import json

import pytest

from kong_plugins.core.usage import LlmResult, Usage
from kong_plugins.token_meter.metering import Record, record_from_result, record_from_serialized

WHO = {"subject": "consumer:c", "role": "guest", "consumer_id": "c", "consumer_username": "guest-user"}


@pytest.mark.parametrize(
    "serialized",
    [None, "", "not json", "[]", "{}", json.dumps({"ai": "x", "response": [], "latencies": {"request": "slow"}}), b"{"],
)
def test_garbage_serialize_gives_a_bare_record(serialized):
    rec = record_from_serialized(serialized, WHO)
    assert rec.model == "none" and rec.usage.total_tokens == 0 and rec.role == "guest"


def test_serialize_without_identity_uses_kongs_consumer():
    rec = record_from_serialized(
        json.dumps({"consumer": {"id": "i", "username": "u"}, "response": {"status": 502}}), None
    )
    assert (rec.role, rec.consumer, rec.consumer_id, rec.error_label) == ("other", "u", "i", "server_error")


@pytest.mark.parametrize(
    "status,error_type,label",
    [
        (200, None, None),
        (429, "ThrottlingException", "throttling"),
        (400, "guardrail_blocked", "guardrail_blocked"),
        (424, "ModelStreamErrorException", "model_stream_error"),
        (400, "SomethingNew", "client_error"),
        (503, None, "server_error"),
        (401, None, "authentication"),
        (403, None, "permission_denied"),
        (429, None, "rate_limited"),
    ],
)
def test_error_labels_are_bounded(status, error_type, label):
    assert Record(role="guest", status=status, error_type=error_type).error_label == label


def test_input_tokens_include_cache_and_status_class():
    result = LlmResult("m", "bedrock", "openai", 200, Usage(10, 5, 100, 20), cost_usd=0.5)
    rec = record_from_result(result, WHO, 1.0)
    assert (rec.input_tokens, rec.usage.total_tokens, rec.status_class, rec.cost_usd) == (130, 135, "2xx", 0.5)


def test_a_guardrail_block_is_typed_from_its_rule_header():
    doc = {"response": {"status": 400, "headers": {"x-guardrail-rule": "pii.card.number"}}}
    rec = record_from_serialized(json.dumps(doc), WHO)
    assert rec.error_label == "guardrail_blocked" and rec.model == "none"
