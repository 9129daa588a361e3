"""Every Bedrock and Gemini error type -> the client's status, message and Retry-After."""

import json

import pytest

from kong_plugins.bedrock_proxy import bedrock_errors as be
from kong_plugins.core.client_api import ClientApi
from kong_plugins.core.errors import render_error

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


def bedrock(status, code, message="boom"):
    header = f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/"
    return be.map_bedrock_error(status, header, json.dumps({"message": message}).encode(), MODEL)


@pytest.mark.parametrize(
    ("status", "code", "client_status", "error_class", "retry_after"),
    [
        (429, "ThrottlingException", 429, be.THROTTLING, "2"),
        (400, "ServiceQuotaExceededException", 429, be.QUOTA, "30"),
        (429, "ModelNotReadyException", 503, be.NOT_READY, "5"),
        (408, "ModelTimeoutException", 504, be.TIMEOUT, None),
        (400, "ValidationException", 400, be.VALIDATION, None),
        (424, "ModelErrorException", 502, be.MODEL_ERROR, None),
        (403, "AccessDeniedException", 502, be.ACCESS, None),
        (403, "UnrecognizedClientException", 502, be.ACCESS, None),
        (403, "InvalidSignatureException", 502, be.ACCESS, None),
        (404, "ResourceNotFoundException", 502, be.NOT_FOUND, None),
        (500, "InternalServerException", 502, be.SERVER, None),
        (503, "ServiceUnavailableException", 503, be.UNAVAILABLE, "5"),
        (418, "SomethingNewException", 502, be.UNKNOWN, None),
    ],
)
def test_bedrock_error_table(status, code, client_status, error_class, retry_after):
    err = bedrock(status, code)
    assert err.error_class == error_class
    assert err.error.http_status == client_status
    assert err.error.headers.get("Retry-After") == retry_after


def test_validation_reason_reaches_the_client():
    err = bedrock(400, "ValidationException", "Malformed input request: 2 schema violations found")
    assert "Malformed input request" in err.error.message


def test_access_denied_never_leaks_account_details():
    msg = (
        "User: arn:aws:sts::123456789012:assumed-role/gw/i-0abc is not authorized to perform: "
        "bedrock:InvokeModel on resource: arn:aws:bedrock:us-east-1::foundation-model/x"
    )
    err = bedrock(403, "AccessDeniedException", msg)
    for api in ClientApi:
        _, body, headers = render_error(api, err.error)
        text = body.decode() + json.dumps(headers)
        assert "123456789012" not in text and "arn:" not in text and "assumed-role" not in text


def test_scrub_removes_arns_accounts_and_keys():
    out = be.scrub("arn:aws:iam::123456789012:role/x account 210987654321 key AIzaSyA1234567890abcdefghijklmn")
    assert "arn:" not in out and "123456789012" not in out and "210987654321" not in out and "AIza" not in out


def test_resource_not_found_is_404_only_for_a_model_the_client_named():
    header = "ResourceNotFoundException:"
    assert be.map_bedrock_error(404, header, b"{}", "x", chosen_by_client=True).error.http_status == 404
    assert be.map_bedrock_error(404, header, b"{}", "x", chosen_by_client=False).error.http_status == 502


@pytest.mark.parametrize(("status", "client_status", "cls"), [(502, 502, be.UNREACHABLE), (504, 504, be.TIMEOUT)])
def test_kong_own_upstream_errors(status, client_status, cls):
    body = b'{"message":"An invalid response was received from the upstream server"}'
    err = be.map_bedrock_error(status, None, body, MODEL)
    assert err.error_class == cls and err.error.http_status == client_status


def test_native_clients_keep_the_bedrock_error_code():
    status, _, headers = render_error(ClientApi.BEDROCK, bedrock(429, "ThrottlingException").error)
    assert status == 429 and headers["x-amzn-ErrorType"] == "ThrottlingException"
    _, _, headers = render_error(ClientApi.BEDROCK, bedrock(429, "ModelNotReadyException").error)
    assert headers["x-amzn-ErrorType"] == "ModelNotReadyException"
    _, _, headers = render_error(ClientApi.BEDROCK, bedrock(403, "AccessDeniedException").error)
    assert headers["x-amzn-ErrorType"] == "InternalServerException"  # the gateway's problem, not the caller's


def gemini(status, google_status, details=None, message="m"):
    body = {"error": {"code": status, "message": message, "status": google_status, "details": details or []}}
    return be.map_gemini_error(status, json.dumps(body).encode(), "gemini-3.1-flash-lite")


def test_gemini_resource_exhausted_uses_retry_info():
    details = [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12.2s"},
    ]
    err = gemini(429, "RESOURCE_EXHAUSTED", details)
    assert err.error_class == be.THROTTLING
    assert err.error.http_status == 429 and err.error.headers["Retry-After"] == "13"


@pytest.mark.parametrize(
    ("status", "google_status", "client_status", "cls"),
    [
        (400, "INVALID_ARGUMENT", 400, be.VALIDATION),
        (403, "PERMISSION_DENIED", 502, be.ACCESS),
        (404, "NOT_FOUND", 502, be.NOT_FOUND),
        (500, "INTERNAL", 502, be.SERVER),
        (503, "UNAVAILABLE", 503, be.UNAVAILABLE),
        (504, "DEADLINE_EXCEEDED", 504, be.TIMEOUT),
    ],
)
def test_gemini_error_table(status, google_status, client_status, cls):
    err = gemini(status, google_status)
    assert err.error_class == cls and err.error.http_status == client_status


def test_gemini_bad_api_key_is_the_gateways_problem():
    err = gemini(400, "INVALID_ARGUMENT", [{"reason": "API_KEY_INVALID"}], message="API key not valid")
    assert err.error.http_status == 502 and "API key" not in err.error.message
