"""Bedrock, Gemini and Kong upstream errors -> a GatewayError the client understands.

Each upstream error gets an error class, which decides fallbacks (fallback.py), and a
client-facing error (status, message, Retry-After). Messages are scrubbed of ARNs and AWS
account IDs. See docs/decisions/0043-upstream-error-mapping.md for the choices.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from kong_plugins.core.errors import GatewayError

THROTTLE_RETRY_AFTER = "2"
QUOTA_RETRY_AFTER = "30"
NOT_READY_RETRY_AFTER = "5"
UNAVAILABLE_RETRY_AFTER = "5"

# error classes
THROTTLING = "throttling"
QUOTA = "quota"
NOT_READY = "model_not_ready"
SERVER = "server_error"
UNAVAILABLE = "unavailable"
TIMEOUT = "timeout"
MODEL_ERROR = "model_error"
VALIDATION = "validation"
ACCESS = "access"
NOT_FOUND = "not_found"
UNREACHABLE = "unreachable"
UNKNOWN = "unknown"

_ARN = re.compile(r"arn:aws[a-zA-Z-]*:[^\s\"',;)]*")
_ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")
_GOOGLE_KEY = re.compile(r"AIza[0-9A-Za-z_\-]{20,}")


@dataclass(frozen=True)
class UpstreamError:
    error_class: str
    code: str  # the upstream's own name (ThrottlingException, RESOURCE_EXHAUSTED, ...)
    error: GatewayError  # what the client gets
    upstream_status: int


def scrub(message: str, limit: int = 500) -> str:
    """Drop ARNs, 12-digit account IDs and API keys from an upstream message."""
    text = _ARN.sub("<resource>", message)
    text = _ACCOUNT.sub("<account>", text)
    text = _GOOGLE_KEY.sub("<key>", text)
    return "".join(c for c in text[:limit] if c.isprintable())


def error_code(header: str | None) -> str:
    """botocore's rule: cut at the first ':' and after the last '#'."""
    if not header:
        return ""
    return header.split(":", 1)[0].rsplit("#", 1)[-1].strip()


def _message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    if isinstance(data, dict):
        msg = data.get("message", data.get("Message"))
        if isinstance(msg, str):
            return scrub(msg)
    return ""


def map_bedrock_error(
    status: int, error_type: str | None, body: bytes, model: str, *, chosen_by_client: bool = False
) -> UpstreamError:
    code = error_code(error_type)
    if not code:
        return map_gateway_status(status)
    reason = _message(body)

    def err(kind: str, message: str, *, status: int | None = None, retry_after: str | None = None) -> GatewayError:
        headers = {"Retry-After": retry_after} if retry_after else {}
        return GatewayError(kind, message, status=status, code=_snake(code), headers=headers, bedrock_code=code)

    if code in ("ThrottlingException", "TooManyRequestsException"):
        e = err(
            "rate_limited", "The model is receiving too many requests; retry later.", retry_after=THROTTLE_RETRY_AFTER
        )
        return UpstreamError(THROTTLING, code, e, status)
    if code == "ServiceQuotaExceededException":
        e = err("rate_limited", "The gateway's model quota is used up; retry later.", retry_after=QUOTA_RETRY_AFTER)
        return UpstreamError(QUOTA, code, e, status)
    if code == "ModelNotReadyException":
        e = err("service_unavailable", "The model is not ready yet; retry later.", retry_after=NOT_READY_RETRY_AFTER)
        return UpstreamError(NOT_READY, code, e, status)
    if code == "ModelTimeoutException":
        return UpstreamError(TIMEOUT, code, err("upstream_timeout", "The model took too long to answer."), status)
    if code == "ValidationException":
        e = err("invalid_request", f"The model rejected the request: {reason or 'invalid request'}")
        return UpstreamError(VALIDATION, code, e, status)
    if code in ("ModelErrorException", "ModelStreamErrorException"):
        e = err("bad_gateway", "The model failed while processing the request.")
        return UpstreamError(MODEL_ERROR, code, e, status)
    if code == "ResourceNotFoundException":
        if chosen_by_client:
            e = err("not_found", f"Model '{scrub(model, 200)}' was not found in the gateway's region.")
        else:
            e = GatewayError(
                "bad_gateway", "The gateway's configured model is not available.", code="upstream_not_found"
            )
        return UpstreamError(NOT_FOUND, code, e, status)
    if code == "ServiceUnavailableException":
        e = err(
            "service_unavailable", "The model service is unavailable; retry later.", retry_after=UNAVAILABLE_RETRY_AFTER
        )
        return UpstreamError(UNAVAILABLE, code, e, status)
    if code == "InternalServerException":
        return UpstreamError(SERVER, code, err("bad_gateway", "The model service had an internal error."), status)
    if code in _AUTH_CODES:
        # The gateway's own IAM identity was refused: not the client's fault, and nothing about
        # the AWS account goes back to the client.
        e = GatewayError(
            "bad_gateway", "The gateway is not authorised to call the model service.", code="upstream_access"
        )
        return UpstreamError(ACCESS, code, e, status)
    if status >= 500:
        return UpstreamError(SERVER, code, err("bad_gateway", "The model service failed."), status)
    return UpstreamError(UNKNOWN, code, err("bad_gateway", "The model service returned an unexpected error."), status)


_AUTH_CODES = frozenset(
    {
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "MissingAuthenticationTokenException",
        "IncompleteSignatureException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
    }
)


def map_gateway_status(status: int) -> UpstreamError:
    """An error that did not come from the model service (no x-amzn-ErrorType): Kong could not
    connect (502) or timed out (504), or something between answered."""
    if status == 504:
        e = GatewayError("upstream_timeout", "The model service did not answer in time.", code="upstream_timeout")
        return UpstreamError(TIMEOUT, "UpstreamTimeout", e, status)
    if status == 503:
        e = GatewayError(
            "service_unavailable", "The model service is unavailable; retry later.", code="upstream_unavailable"
        )
        return UpstreamError(UNAVAILABLE, "ServiceUnavailable", e, status)
    if status == 429:
        e = GatewayError(
            "rate_limited", "Too many requests; retry later.", headers={"Retry-After": THROTTLE_RETRY_AFTER}
        )
        return UpstreamError(THROTTLING, "TooManyRequests", e, status)
    e = GatewayError("bad_gateway", "The model service could not be reached.", status=502, code="upstream_unreachable")
    return UpstreamError(UNREACHABLE, "UpstreamUnreachable", e, status)


_GOOGLE = {
    "INVALID_ARGUMENT": VALIDATION,
    "FAILED_PRECONDITION": ACCESS,
    "PERMISSION_DENIED": ACCESS,
    "UNAUTHENTICATED": ACCESS,
    "NOT_FOUND": NOT_FOUND,
    "RESOURCE_EXHAUSTED": THROTTLING,
    "INTERNAL": SERVER,
    "UNAVAILABLE": UNAVAILABLE,
    "DEADLINE_EXCEEDED": TIMEOUT,
}


def map_gemini_error(status: int, body: bytes, model: str, *, chosen_by_client: bool = False) -> UpstreamError:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return map_gateway_status(status)
    google_status = str(error.get("status") or "")
    reason = scrub(str(error.get("message") or ""))
    raw_details = error.get("details")
    details: list[Any] = raw_details if isinstance(raw_details, list) else []
    if google_status == "INVALID_ARGUMENT" and _api_key_invalid(details):
        google_status = "PERMISSION_DENIED"  # a bad key is the gateway's problem, not the caller's
    cls = _GOOGLE.get(google_status) or (SERVER if status >= 500 else UNKNOWN)
    code = google_status or str(status)
    if cls == THROTTLING:
        retry = _retry_delay(details) or THROTTLE_RETRY_AFTER
        e = GatewayError(
            "rate_limited",
            "The model is receiving too many requests; retry later.",
            code=code.lower(),
            headers={"Retry-After": retry},
            bedrock_code="ThrottlingException",
        )
    elif cls == VALIDATION:
        e = GatewayError(
            "invalid_request", f"The model rejected the request: {reason or 'invalid request'}", code="invalid_argument"
        )
    elif cls == NOT_FOUND and chosen_by_client:
        e = GatewayError("not_found", f"Model '{scrub(model, 200)}' was not found.", code="not_found")
    elif cls == UNAVAILABLE:
        e = GatewayError(
            "service_unavailable",
            "The model service is unavailable; retry later.",
            code="unavailable",
            headers={"Retry-After": UNAVAILABLE_RETRY_AFTER},
        )
    elif cls == TIMEOUT:
        e = GatewayError("upstream_timeout", "The model took too long to answer.", code="deadline_exceeded")
    elif cls in (ACCESS, NOT_FOUND):
        e = GatewayError(
            "bad_gateway",
            "The gateway is not authorised to call the model service.",
            status=502,
            code="upstream_access",
        )
        if cls == NOT_FOUND:
            e = GatewayError(
                "bad_gateway", "The gateway's configured model is not available.", status=502, code="upstream_not_found"
            )
    else:
        e = GatewayError("bad_gateway", "The model service had an internal error.", code="upstream_error")
    return UpstreamError(cls, code, e, status)


def _api_key_invalid(details: list[Any]) -> bool:
    return any(isinstance(d, dict) and d.get("reason") == "API_KEY_INVALID" for d in details)


def _retry_delay(details: list[Any]) -> str | None:
    """RetryInfo.retryDelay ("13s", "0.5s") as whole seconds for Retry-After."""
    for d in details:
        if isinstance(d, dict) and str(d.get("@type", "")).endswith("google.rpc.RetryInfo"):
            m = re.fullmatch(r"(\d+(?:\.\d+)?)s", str(d.get("retryDelay", "")))
            if m:
                return str(max(1, -(-int(float(m.group(1)) * 1000) // 1000)))
    return None


def _snake(code: str) -> str:
    name = code.removesuffix("Exception")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
