"""SigV4 verification against the raw path, auth failures as AWS answers them, bearer auth, redaction."""

from __future__ import annotations

import datetime
import json

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from kong_plugins.testing.bedrock_emulator import TEST_ACCESS_KEY_ID, TEST_BEARER_TOKEN, TEST_SECRET_ACCESS_KEY

from .helpers import SONNET, model_path, raw_post, signed_post, user


def _client(emulator, akid=TEST_ACCESS_KEY_ID, secret=TEST_SECRET_ACCESS_KEY, token=None, region="us-east-1"):
    return boto3.client(
        "bedrock-runtime",
        region_name=region,
        endpoint_url=emulator.url,
        aws_access_key_id=akid,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
    )


def test_model_id_colon_is_double_encoded_and_verified(emulator):
    _client(emulator).converse(modelId=SONNET, messages=user("x"))
    assert emulator.calls()[0]["path"] == "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
    assert emulator.calls()[0]["status"] == 200


def test_wrong_secret_rejected(emulator):
    client = _client(emulator, secret="not-the-secret")
    with pytest.raises(client.exceptions.ClientError) as info:
        client.converse(modelId=SONNET, messages=user("x"))
    err = info.value.response
    assert err["Error"]["Code"] == "InvalidSignatureException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "signature we calculated does not match" in err["Error"]["Message"]
    assert len(emulator.calls()) == 1  # 403 is not retried


def test_unknown_key_rejected(emulator):
    client = _client(emulator, akid="AKIAUNKNOWNKEY000000")
    with pytest.raises(client.exceptions.ClientError) as info:
        client.converse(modelId=SONNET, messages=user("x"))
    assert info.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert info.value.response["Error"]["Message"] == "The security token included in the request is invalid."


def test_missing_auth_rejected(emulator):
    client = boto3.client(
        "bedrock-runtime", region_name="us-east-1", endpoint_url=emulator.url, config=Config(signature_version=UNSIGNED)
    )
    with pytest.raises(client.exceptions.ClientError) as info:
        client.converse(modelId=SONNET, messages=user("x"))
    assert info.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_stale_date_rejected(emulator):
    when = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    status, headers, body = signed_post(
        emulator.url, model_path(SONNET, "converse"), {"messages": user("x")}, when=when
    )
    assert status == 403
    assert headers["x-amzn-errortype"].startswith("InvalidSignatureException")
    assert json.loads(body)["message"].startswith("Signature expired")


def test_tampered_body_rejected(emulator):
    path = model_path(SONNET, "converse")
    status, headers, _ = signed_post(emulator.url, path, {"messages": user("x")})
    assert status == 200
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(
        method="POST", url=emulator.url + path, data=b'{"messages":[]}', headers={"Content-Type": "application/json"}
    )
    SigV4Auth(Credentials(TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY), "bedrock", "us-east-1").add_auth(req)
    status, headers, _ = raw_post(
        emulator.url, path, json.dumps({"messages": user("changed")}).encode(), dict(req.headers.items())
    )
    assert status == 403 and headers["x-amzn-errortype"].startswith("InvalidSignatureException")


def test_wrong_signing_service_rejected(emulator):
    status, _, body = signed_post(
        emulator.url, model_path(SONNET, "converse"), {"messages": user("x")}, service="bedrock-runtime"
    )
    assert status == 403 and b"scoped to correct service: 'bedrock'" in body


def test_decoded_path_fails_signature(emulator):
    """Signing `%3A` but sending `:` (or the reverse) is a real gateway bug; the emulator catches it."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    encoded = model_path(SONNET, "converse")
    raw = json.dumps({"messages": user("x")}).encode()
    req = AWSRequest(method="POST", url=emulator.url + encoded, data=raw, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY), "bedrock", "us-east-1").add_auth(req)
    status, _, _ = raw_post(emulator.url, f"/model/{SONNET}/converse", raw, dict(req.headers.items()))
    assert status == 403


def test_session_token_and_any_region_accepted_and_redacted(emulator):
    _client(emulator, token="session-token-secret", region="eu-west-1").converse(
        modelId="eu." + SONNET[3:], messages=user("x")
    )
    headers = emulator.calls()[0]["headers"]
    assert headers["x-amz-security-token"] == "REDACTED"
    assert headers["authorization"] == "REDACTED"
    assert "session-token-secret" not in json.dumps(emulator.calls())


def test_bearer_token(emulator):
    path = model_path(SONNET, "converse")
    body = json.dumps({"messages": user("x")}).encode()
    ok = raw_post(
        emulator.url, path, body, {"Authorization": f"Bearer {TEST_BEARER_TOKEN}", "Content-Type": "application/json"}
    )
    assert ok[0] == 200
    bad = raw_post(emulator.url, path, body, {"Authorization": "Bearer ABSKwrong", "Content-Type": "application/json"})
    assert bad[0] == 403 and bad[1]["x-amzn-errortype"].startswith("UnrecognizedClientException")
    assert emulator.calls()[0]["headers"]["authorization"] == "REDACTED"


def test_expired_session_token(emulator):
    client = _client(emulator, token="EXPIRED-session")
    with pytest.raises(client.exceptions.ClientError) as info:
        client.converse(modelId=SONNET, messages=user("x"))
    assert info.value.response["Error"]["Code"] == "ExpiredTokenException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_missing_date_header(emulator):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    path = model_path(SONNET, "converse")
    raw = json.dumps({"messages": user("x")}).encode()
    req = AWSRequest(method="POST", url=emulator.url + path, data=raw, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY), "bedrock", "us-east-1").add_auth(req)
    headers = {k: v for k, v in req.headers.items() if k.lower() != "x-amz-date"}
    status, resp_headers, body = raw_post(emulator.url, path, raw, headers)
    assert status == 403 and resp_headers["x-amzn-errortype"].startswith("IncompleteSignatureException")
