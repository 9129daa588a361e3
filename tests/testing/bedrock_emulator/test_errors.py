"""Error injection and botocore's view of it: classes, status codes, codes, standard-mode retries."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from .helpers import HAIKU, SONNET, anthropic_body, model_path, signed_post, user

# (error, status, retried by botocore standard mode)
ERRORS = [
    ("ThrottlingException", 429, True),
    ("ValidationException", 400, False),
    ("AccessDeniedException", 403, False),
    ("ModelTimeoutException", 408, False),
    ("ModelNotReadyException", 429, True),
    ("ServiceUnavailableException", 503, True),
    ("ServiceQuotaExceededException", 400, False),
    ("ModelErrorException", 424, False),
    ("InternalServerException", 500, True),
    ("ResourceNotFoundException", 404, False),
]


@pytest.mark.parametrize(("error", "status", "retried"), ERRORS)
def test_each_error_maps_to_botocore_class_status_and_retries(emulator, error, status, retried):
    if error == "ThrottlingException":
        emulator.inject(error, count=None)  # throttling backoff has a 1 s base: keep to 2 attempts below
        client = emulator.client(max_attempts=2)
    else:
        emulator.inject(error, count=None)
        client = emulator.client(max_attempts=3)
    with pytest.raises(getattr(client.exceptions, error)) as info:
        client.invoke_model(modelId=HAIKU, body=anthropic_body())
    response = info.value.response
    assert response["Error"]["Code"] == error
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith(error + ":")
    expected_attempts = (2 if error == "ThrottlingException" else 3) if retried else 1
    assert len(emulator.calls()) == expected_attempts
    assert response["ResponseMetadata"]["RetryAttempts"] == expected_attempts - 1


def test_throttling_then_success_is_retried_by_standard_mode(emulator):
    emulator.inject("ThrottlingException", count=1)
    resp = emulator.client().converse(modelId=SONNET, messages=user("hi"))
    assert resp["ResponseMetadata"]["RetryAttempts"] == 1
    assert [c["status"] for c in emulator.calls()] == [429, 200]
    attempts = [c["headers"]["amz-sdk-request"] for c in emulator.calls()]
    assert "attempt=1;" in attempts[0] and "attempt=2;" in attempts[1]


def test_model_error_carries_original_status_and_resource(emulator):
    emulator.inject("ModelErrorException")
    client = emulator.client()
    with pytest.raises(client.exceptions.ModelErrorException) as info:
        client.converse(modelId=SONNET, messages=user("x"))
    assert info.value.response["originalStatusCode"] == 500
    assert SONNET in info.value.response["resourceName"]


def test_injection_filters_by_operation_and_model(emulator):
    emulator.inject("ValidationException", count=None, operation="InvokeModel", model=HAIKU)
    client = emulator.client()
    client.converse(modelId=HAIKU, messages=user("x"))  # other operation
    client.invoke_model(modelId=SONNET, body=anthropic_body())  # other model
    with pytest.raises(client.exceptions.ValidationException):
        client.invoke_model(modelId=HAIKU, body=anthropic_body())


def test_profile_id_matches_base_model_filter(emulator):
    emulator.inject("ValidationException", model=HAIKU)
    client = emulator.client()
    with pytest.raises(client.exceptions.ValidationException):
        client.converse(modelId="eu." + HAIKU, messages=user("x"))


def test_count_then_recovers(emulator):
    emulator.inject("ValidationException", count=2)
    client = emulator.client()
    for _ in range(2):
        with pytest.raises(ClientError):
            client.converse(modelId=SONNET, messages=user("x"))
    client.converse(modelId=SONNET, messages=user("x"))


def test_rate_injection_is_deterministic(emulator):
    def run():
        emulator.reset()
        emulator.inject_rate("ValidationException", 0.5, seed=7)
        client = emulator.client()
        outcome = []
        for _ in range(20):
            try:
                client.converse(modelId=SONNET, messages=user("x"))
                outcome.append(True)
            except client.exceptions.ValidationException:
                outcome.append(False)
        return outcome

    first = run()
    assert 3 < first.count(False) < 17
    assert run() == first


@pytest.mark.parametrize(
    ("model_id", "error"),
    [
        ("us.anthropic.claude-sonnet-4-6-error-throttling", "ThrottlingException"),
        ("error-service-quota-exceeded", "ServiceQuotaExceededException"),
        ("anthropic.claude-haiku-4-5-error-model-not-ready", "ModelNotReadyException"),
    ],
)
def test_model_id_marker_triggers_error(emulator, model_id, error):
    client = emulator.client(max_attempts=1)
    with pytest.raises(getattr(client.exceptions, error)):
        client.converse(modelId=model_id, messages=user("x"))


def test_header_trigger(emulator):
    status, headers, body = signed_post(
        emulator.url,
        model_path(SONNET, "converse"),
        {"messages": user("x")},
        headers={"X-Emulator-Error": "ModelTimeoutException"},
    )
    assert status == 408
    assert headers["x-amzn-errortype"].startswith("ModelTimeoutException:")
    assert json.loads(body)["message"]


def test_unknown_error_name_is_refused(emulator):
    with pytest.raises(ValueError):
        emulator.inject("NoSuchException")


def test_retry_quota_is_per_client(emulator):
    """Fresh clients per test keep retry assertions stable: a new client gets a full quota."""
    emulator.inject("InternalServerException", count=None)
    for _ in range(2):
        client = emulator.client(max_attempts=3)
        with pytest.raises(client.exceptions.InternalServerException) as info:
            client.converse(modelId=SONNET, messages=user("x"))
        assert info.value.response["ResponseMetadata"]["RetryAttempts"] == 2
