"""application/vnd.amazon.eventstream encoder (botocore only ships a decoder).

Frame: total_len u32 | headers_len u32 | prelude_crc u32 | headers | payload | message_crc u32,
all big-endian, CRC32 as in zlib. Bedrock only uses string-typed (7) headers.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from typing import Any

_PAD_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _header(name: str, value: str) -> bytes:
    n, v = name.encode(), value.encode()
    return struct.pack("!B", len(n)) + n + b"\x07" + struct.pack("!H", len(v)) + v


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    hb = b"".join(_header(k, v) for k, v in headers.items())
    prelude = struct.pack("!II", 16 + len(hb) + len(payload), len(hb))
    prelude += struct.pack("!I", binascii.crc32(prelude) & 0xFFFFFFFF)
    msg = prelude + hb + payload
    return msg + struct.pack("!I", binascii.crc32(msg) & 0xFFFFFFFF)


def padding(payload_len: int) -> str:
    """Real Bedrock events carry an unmodeled `p` field of varying length; botocore ignores it."""
    return _PAD_ALPHABET[: 1 + (payload_len * 7) % len(_PAD_ALPHABET)]


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def event(event_type: str, body: dict[str, Any]) -> bytes:
    """A modeled event, with the `p` padding Bedrock adds."""
    payload = dict(body)
    payload["p"] = padding(len(event_type) + len(body))
    return encode_message(
        {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
        _json(payload),
    )


def chunk(anthropic_event: dict[str, Any]) -> bytes:
    """InvokeModelWithResponseStream: a PayloadPart whose `bytes` blob is base64 JSON."""
    raw = _json(anthropic_event)
    return event("chunk", {"bytes": base64.b64encode(raw).decode()})


def exception(exception_type: str, body: dict[str, Any]) -> bytes:
    """A modeled stream exception; botocore raises EventStreamError with this (lowerCamel) code."""
    return encode_message(
        {":exception-type": exception_type, ":content-type": "application/json", ":message-type": "exception"},
        _json(body),
    )


def error(code: str, message: str) -> bytes:
    """An unmodeled stream error (no payload)."""
    return encode_message({":message-type": "error", ":error-code": code, ":error-message": message}, b"")
