"""A second real client: the anthropic SDK's AnthropicBedrock (own httpx transport, signing and
event-stream decoder) against the emulator's InvokeModel and InvokeModelWithResponseStream."""

from __future__ import annotations

import anthropic
import pytest
from anthropic import AnthropicBedrock

from kong_plugins.testing.bedrock_emulator import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY

from .helpers import SONNET

# anthropic 2.14 fills `anthropic_version` with its own API date; Bedrock's documented value
# is bedrock-2023-05-31 and the emulator insists on it (decision 0028).
BEDROCK_VERSION = {"anthropic_version": "bedrock-2023-05-31"}


def _client(emulator, secret=TEST_SECRET_ACCESS_KEY):
    return AnthropicBedrock(
        aws_access_key=TEST_ACCESS_KEY_ID,
        aws_secret_key=secret,
        aws_region="us-east-1",
        base_url=emulator.url,
        max_retries=0,
    )


def test_messages_create(emulator):
    msg = _client(emulator).messages.create(
        model=SONNET, max_tokens=100, messages=[{"role": "user", "content": "hi MARK-sdk"}], extra_body=BEDROCK_VERSION
    )
    assert SONNET in msg.content[0].text and "MARK-sdk" in msg.content[0].text
    assert msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0
    assert emulator.calls()[0]["operation"] == "InvokeModel"


def test_messages_stream(emulator):
    with _client(emulator).messages.stream(
        model=SONNET, max_tokens=100, messages=[{"role": "user", "content": "hi MARK-st"}], extra_body=BEDROCK_VERSION
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text.endswith("MARK-st") and final.usage.output_tokens > 0
    assert emulator.calls()[0]["operation"] == "InvokeModelWithResponseStream"


def test_sdk_default_version_is_refused_like_a_schema_violation(emulator):
    with pytest.raises(anthropic.BadRequestError, match="anthropic_version"):
        _client(emulator).messages.create(model=SONNET, max_tokens=10, messages=[{"role": "user", "content": "x"}])


def test_wrong_secret_is_403(emulator):
    with pytest.raises(anthropic.PermissionDeniedError):
        _client(emulator, secret="wrong").messages.create(
            model=SONNET, max_tokens=10, messages=[{"role": "user", "content": "x"}], extra_body=BEDROCK_VERSION
        )
