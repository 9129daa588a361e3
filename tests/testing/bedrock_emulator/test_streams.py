"""ConverseStream and InvokeModelWithResponseStream: event types, usage, framing, mid-stream errors."""

from __future__ import annotations

import json
import socket

import pytest
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import EventStreamError

from .helpers import HAIKU, SONNET, anthropic_body, model_path, signed_post, user
from .test_converse import WEATHER_TOOL


def _event_names(events):
    return [next(iter(e)) for e in events]


def test_converse_stream_text_events_and_usage(emulator):
    resp = emulator.client().converse_stream(modelId=SONNET, messages=user("hello MARK-s1"))
    events = list(resp["stream"])
    names = _event_names(events)
    assert names[0] == "messageStart" and names[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    assert names.count("contentBlockDelta") > 3  # the reply arrives in several deltas
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert SONNET in text and text.endswith("MARK-s1")
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"
    usage = events[-1]["metadata"]["usage"]
    plain = emulator.client().converse(modelId=SONNET, messages=user("hello MARK-s1"))["usage"]
    assert usage == plain  # same counts as the non-streaming answer
    assert "latencyMs" in events[-1]["metadata"]["metrics"]


def test_converse_stream_tool_use_events(emulator):
    resp = emulator.client().converse_stream(modelId=SONNET, messages=user("weather?"), toolConfig=WEATHER_TOOL)
    events = list(resp["stream"])
    names = _event_names(events)
    assert names[:2] == ["messageStart", "contentBlockStart"]
    start = events[1]["contentBlockStart"]["start"]["toolUse"]
    assert start["name"] == "get_weather" and start["toolUseId"].startswith("tooluse_")
    partial = "".join(e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events if "contentBlockDelta" in e)
    assert json.loads(partial) == {"city": "example-city", "unit": "C"}
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"


def test_invoke_stream_chunks_and_invocation_metrics(emulator):
    resp = emulator.client().invoke_model_with_response_stream(modelId=HAIKU, body=anthropic_body("hi MARK-x"))
    assert resp["contentType"] == "application/json"
    chunks = [json.loads(e["chunk"]["bytes"]) for e in resp["body"]]
    types = [c["type"] for c in chunks]
    assert types[:2] == ["message_start", "content_block_start"]
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert types.count("content_block_delta") > 3
    text = "".join(c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta")
    assert HAIKU in text and "MARK-x" in text
    assert chunks[0]["message"]["model"] == "claude-haiku-4-5-20251001"
    metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["outputTokenCount"] == chunks[-2]["usage"]["output_tokens"]
    assert metrics["inputTokenCount"] == chunks[0]["message"]["usage"]["input_tokens"]
    assert {"invocationLatency", "firstByteLatency"} <= metrics.keys()
    headers = resp["ResponseMetadata"]["HTTPHeaders"]
    assert "x-amzn-bedrock-input-token-count" not in headers  # streams carry usage in the body only


def test_invoke_stream_tool_use(emulator):
    tools = [
        {
            "name": "lookup",
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
        }
    ]
    resp = emulator.client().invoke_model_with_response_stream(modelId=HAIKU, body=anthropic_body("find", tools=tools))
    chunks = [json.loads(e["chunk"]["bytes"]) for e in resp["body"]]
    assert chunks[1]["content_block"]["type"] == "tool_use" and chunks[1]["content_block"]["name"] == "lookup"
    partial = "".join(c["delta"]["partial_json"] for c in chunks if c["type"] == "content_block_delta")
    assert json.loads(partial) == {"q": "example-q"}
    assert chunks[-2]["delta"]["stop_reason"] == "tool_use"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ("ThrottlingException", "throttlingException"),
        ("ModelStreamErrorException", "modelStreamErrorException"),
        ("ServiceUnavailableException", "serviceUnavailableException"),
        ("InternalServerException", "internalServerException"),
        ("ValidationException", "validationException"),
    ],
)
def test_converse_stream_mid_stream_error(emulator, error, code):
    emulator.inject(error, mid_stream=True)
    resp = emulator.client().converse_stream(modelId=SONNET, messages=user("hello"))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    seen = []
    with pytest.raises(EventStreamError) as info:
        for event in resp["stream"]:
            seen.append(next(iter(event)))
    assert info.value.response["Error"]["Code"] == code
    assert seen[:2] == ["messageStart", "contentBlockDelta"]
    assert len(emulator.calls()) == 1  # never retried
    assert emulator.calls()[0]["stream_error"] == error


def test_invoke_stream_mid_stream_model_timeout(emulator):
    emulator.inject("ModelTimeoutException", mid_stream=True, operation="InvokeModelWithResponseStream")
    resp = emulator.client().invoke_model_with_response_stream(modelId=HAIKU, body=anthropic_body())
    with pytest.raises(EventStreamError) as info:
        list(resp["body"])
    assert info.value.response["Error"]["Code"] == "modelTimeoutException"


def test_mid_stream_error_by_model_id_marker(emulator):
    resp = emulator.client().converse_stream(
        modelId="us.anthropic.claude-sonnet-4-6-midstream-error-model-stream-error", messages=user("x")
    )
    with pytest.raises(EventStreamError) as info:
        list(resp["stream"])
    assert info.value.response["Error"]["Code"] == "modelStreamErrorException"


def _read_chunked(url: str, path: str, raw: bytes, headers: dict[str, str]) -> list[bytes]:
    """Send a request over a socket and return the HTTP chunks of the response body."""
    host, port = url.removeprefix("http://").split(":")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {len(raw)}\r\n{head}\r\n".encode() + raw
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while not data.endswith(b"0\r\n\r\n"):
            part = sock.recv(65536)
            assert part
            data += part
    head_part, _, body = data.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head_part.lower()
    assert b"content-type: application/vnd.amazon.eventstream" in head_part.lower()
    chunks = []
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return chunks
        chunks.append(body[:size])
        body = body[size + 2 :]


def test_stream_is_chunked_one_event_per_chunk_with_valid_crcs(emulator):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from kong_plugins.testing.bedrock_emulator import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY

    path = model_path(SONNET, "converse-stream")
    raw = json.dumps({"messages": user("hi")}).encode()
    req = AWSRequest(method="POST", url=emulator.url + path, data=raw, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY), "bedrock", "us-east-1").add_auth(req)
    chunks = _read_chunked(emulator.url, path, raw, dict(req.headers.items()))
    assert len(chunks) > 5
    types = []
    for chunk in chunks:
        buf = EventStreamBuffer()
        buf.add_data(chunk)
        messages = list(buf)  # validates prelude and message CRCs
        assert len(messages) == 1
        types.append(messages[0].headers[":event-type"])
        payload = json.loads(messages[0].payload)
        assert "p" in payload  # Bedrock's unmodeled padding field
    assert types[0] == "messageStart" and types[-1] == "metadata"


def test_stream_error_before_stream_is_plain_http_error(emulator):
    status, headers, body = signed_post(
        emulator.url,
        model_path(SONNET, "converse-stream"),
        {"messages": user("x")},
        headers={"X-Emulator-Error": "Throttling"},
    )
    assert status == 429 and headers["x-amzn-errortype"].startswith("ThrottlingException:")
