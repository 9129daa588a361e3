"""The event-stream encoder against botocore's decoder."""

from __future__ import annotations

import base64
import json

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from kong_plugins.testing.bedrock_emulator import eventstream


def _decode(data: bytes):
    buf = EventStreamBuffer()
    buf.add_data(data)
    return list(buf)


def test_frame_layout_matches_reference_example():
    frame = eventstream.encode_message(
        {":event-type": "contentBlockStop", ":content-type": "application/json", ":message-type": "event"},
        json.dumps({"contentBlockIndex": 0}).encode(),  # the reference used default separators
    )
    assert frame[:8].hex() == "0000007e" + "00000056"  # 126 bytes total, 86 bytes of headers
    assert len(frame) == 126


def test_event_round_trip_with_padding():
    (msg,) = _decode(eventstream.event("messageStart", {"role": "assistant"}))
    assert msg.headers == {":event-type": "messageStart", ":content-type": "application/json", ":message-type": "event"}
    payload = json.loads(msg.payload)
    assert payload["role"] == "assistant" and payload["p"]


def test_chunk_carries_base64_json():
    (msg,) = _decode(eventstream.chunk({"type": "message_stop"}))
    assert json.loads(base64.b64decode(json.loads(msg.payload)["bytes"])) == {"type": "message_stop"}


def test_exception_and_error_messages():
    (exc,) = _decode(eventstream.exception("throttlingException", {"message": "slow down"}))
    assert exc.headers[":message-type"] == "exception" and exc.headers[":exception-type"] == "throttlingException"
    (err,) = _decode(eventstream.error("AccessDeniedException", "no"))
    assert err.headers[":error-code"] == "AccessDeniedException" and err.payload == b""


def test_crc_is_checked():
    frame = bytearray(eventstream.event("metadata", {"usage": {}}))
    frame[-5] ^= 0xFF
    with pytest.raises(ChecksumMismatch):
        _decode(bytes(frame))
