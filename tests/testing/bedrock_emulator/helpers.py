"""Helpers for emulator tests: raw signed HTTP (for what boto3 cannot send) and common bodies."""

from __future__ import annotations

import datetime
import http.client
import json
from typing import Any
from unittest import mock
from urllib.parse import quote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from kong_plugins.testing.bedrock_emulator import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
OPUS = "global.anthropic.claude-opus-4-6-v1"


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def anthropic_body(text: str = "hello", **extra: Any) -> str:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": text}],
    }
    body.update(extra)
    return json.dumps(body)


def signed_post(
    url: str,
    path: str,
    body: bytes | dict[str, Any],
    akid: str = TEST_ACCESS_KEY_ID,
    secret: str = TEST_SECRET_ACCESS_KEY,
    service: str = "bedrock",
    when: datetime.datetime | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """POST `path` (already %-encoded) signed like botocore, sent byte-for-byte with http.client."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = AWSRequest(
        method="POST", url=url + path, data=raw, headers={"Content-Type": "application/json", **(headers or {})}
    )
    signer = SigV4Auth(Credentials(akid, secret), service, "us-east-1")
    if when is None:
        signer.add_auth(req)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(req)
    return raw_post(url, path, raw, dict(req.headers.items()))


def raw_post(url: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def model_path(model_id: str, op: str) -> str:
    return f"/model/{quote(model_id, safe='')}/{op}"
