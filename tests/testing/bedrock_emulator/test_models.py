"""Model catalog answers: current IDs and profiles, Legacy and EOL Claude 3.x, unknown IDs."""

from __future__ import annotations

import json

import pytest

from .helpers import anthropic_body, user

ACTIVE = [
    "anthropic.claude-sonnet-4-6",
    "global.anthropic.claude-sonnet-4-6",
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "jp.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
    "anthropic.claude-opus-4-6-v1",
    "apac.anthropic.claude-opus-4-6-v1",
    "global.anthropic.claude-opus-4-5-20251101-v1:0",
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-6",
    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0",
]


@pytest.mark.parametrize("model_id", ACTIVE)
def test_current_ids_answer_and_are_named(emulator, model_id):
    text = emulator.client().converse(modelId=model_id, messages=user("x"))["output"]["message"]["content"][0]["text"]
    assert f"Hello from {model_id}." in text


@pytest.mark.parametrize(
    ("model_id", "error", "status", "message"),
    [
        ("anthropic.claude-3-haiku-20240307-v1:0", "ResourceNotFoundException", 404, "marked by provider as Legacy"),
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "ResourceNotFoundException", 404, "reached the end of its life"),
        ("anthropic.claude-3-sonnet-20240229-v1:0", "ResourceNotFoundException", 404, "reached the end of its life"),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", "ResourceNotFoundException", 404, "reached the end of its life"),
        (
            "anthropic.claude-3-opus-20240229-v1:0",
            "ValidationException",
            400,
            "The provided model identifier is invalid.",
        ),
        ("apac.anthropic.claude-sonnet-4-6", "ValidationException", 400, "The provided model identifier is invalid."),
        ("anthropic.claude-unknown", "ValidationException", 400, "The provided model identifier is invalid."),
    ],
)
def test_retired_and_unknown_models(emulator, model_id, error, status, message):
    client = emulator.client()
    for call in (
        lambda: client.converse(modelId=model_id, messages=user("x")),
        lambda: client.invoke_model(modelId=model_id, body=anthropic_body()),
    ):
        with pytest.raises(getattr(client.exceptions, error)) as info:
            call()
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
        assert message in info.value.response["Error"]["Message"]


def test_output_limits_differ_by_model(emulator):
    client = emulator.client()
    client.converse(modelId="anthropic.claude-opus-4-6-v1", messages=user("x"), inferenceConfig={"maxTokens": 128000})
    with pytest.raises(client.exceptions.ValidationException, match="model limit of 64000"):
        client.converse(
            modelId="anthropic.claude-sonnet-4-6", messages=user("x"), inferenceConfig={"maxTokens": 128000}
        )
    body = json.loads(anthropic_body(max_tokens=128000))
    client.invoke_model(modelId="anthropic.claude-opus-4-6-v1", body=json.dumps(body))
