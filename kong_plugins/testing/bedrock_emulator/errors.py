"""Bedrock and Gemini error shapes: status codes, x-amzn-ErrorType, messages, stream exceptions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

CORAL = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
CORAL_AUTH = ":http://internal.amazon.com/coral/com.amazon.coral.service/"


@dataclass(frozen=True)
class ErrorType:
    code: str
    status: int
    message: str
    extra: dict[str, Any] = field(default_factory=dict)


# Section 3.1 of the reference: the ten modeled error types plus the stream-only one.
BEDROCK_ERRORS: dict[str, ErrorType] = {
    e.code: e
    for e in (
        ErrorType("ThrottlingException", 429, "Too many requests, please wait before trying again."),
        ErrorType("ValidationException", 400, "Malformed input request, please reformat your input and try again."),
        ErrorType("AccessDeniedException", 403, "You don't have access to the model with the specified model ID."),
        ErrorType(
            "ModelTimeoutException", 408, "Model has timed out in processing the request. Try your request again."
        ),
        ErrorType("ModelNotReadyException", 429, "Model is not ready for inference. Wait and try your request again."),
        ErrorType("ServiceUnavailableException", 503, "Bedrock is unable to process your request."),
        ErrorType(
            "ServiceQuotaExceededException",
            400,
            "Your request exceeded the service quota for your account. Try again after the quota resets.",
        ),
        ErrorType(
            "ModelErrorException",
            424,
            "The model produced an error while processing the request.",
            {"originalStatusCode": 500},
        ),
        ErrorType(
            "InternalServerException",
            500,
            "The system encountered an unexpected error during processing. Try your request again.",
        ),
        ErrorType("ResourceNotFoundException", 404, "The specified resource was not found."),
        ErrorType(
            "ModelStreamErrorException",
            424,
            "The model produced an error while streaming the response.",
            {"originalStatusCode": 500, "originalMessage": "Internal server error"},
        ),
    )
}

# Members of the stream unions; other codes mid-stream go out as unmodeled `error` messages.
CONVERSE_STREAM_EXCEPTIONS = {
    "InternalServerException",
    "ModelStreamErrorException",
    "ValidationException",
    "ThrottlingException",
    "ServiceUnavailableException",
}
INVOKE_STREAM_EXCEPTIONS = CONVERSE_STREAM_EXCEPTIONS | {"ModelTimeoutException"}

# Bedrock error -> Google status, for injected errors on Gemini calls.
GOOGLE_FOR_BEDROCK = {
    "ThrottlingException": "RESOURCE_EXHAUSTED",
    "ServiceQuotaExceededException": "RESOURCE_EXHAUSTED",
    "ValidationException": "INVALID_ARGUMENT",
    "AccessDeniedException": "PERMISSION_DENIED",
    "ResourceNotFoundException": "NOT_FOUND",
    "ModelTimeoutException": "DEADLINE_EXCEEDED",
    "ServiceUnavailableException": "UNAVAILABLE",
    "ModelNotReadyException": "UNAVAILABLE",
    "InternalServerException": "INTERNAL",
    "ModelErrorException": "INTERNAL",
    "ModelStreamErrorException": "INTERNAL",
}

GOOGLE_ERRORS: dict[str, tuple[int, str]] = {
    "INVALID_ARGUMENT": (400, "Request contains an invalid argument."),
    "FAILED_PRECONDITION": (400, "User location is not supported for the API use."),
    "PERMISSION_DENIED": (403, "The caller does not have permission"),
    "NOT_FOUND": (404, "Requested entity was not found."),
    "RESOURCE_EXHAUSTED": (
        429,
        "You exceeded your current quota, please check your plan and billing details. For more information on "
        "this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
    ),
    "CANCELLED": (499, "The operation was cancelled."),
    "INTERNAL": (
        500,
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    ),
    "UNAVAILABLE": (503, "The model is overloaded. Please try again later."),
    "DEADLINE_EXCEEDED": (504, "The request timed out. Please try again."),
}

# Bedrock auth failures (AWS front end).
AUTH_MESSAGES = {
    "UnrecognizedClientException": "The security token included in the request is invalid.",
    "InvalidSignatureException": (
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
        "Access Key and signing method. Consult the service documentation for details."
    ),
    "MissingAuthenticationTokenException": "Missing Authentication Token",
    "ExpiredTokenException": "The security token included in the request is expired",
    "IncompleteSignatureException": "Authorization header requires 'Credential' parameter. Authorization header "
    "requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.",
}


@dataclass
class BedrockError(Exception):
    """Raised by the operations; rendered as Bedrock's JSON error."""

    code: str
    message: str = ""
    status: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        known = BEDROCK_ERRORS.get(self.code)
        if known is not None:
            self.status = self.status or known.status
            self.message = self.message or known.message
            self.extra = {**known.extra, **self.extra}
        self.status = self.status or 400

    def body(self) -> bytes:
        return json.dumps({"message": self.message, **self.extra}).encode()

    def headers(self) -> list[tuple[str, str]]:
        suffix = CORAL_AUTH if self.code in AUTH_MESSAGES else CORAL
        return [("Content-Type", "application/json"), ("x-amzn-ErrorType", self.code + suffix)]

    def stream_frame_body(self) -> dict[str, Any]:
        return {"message": self.message, **self.extra}


def auth_error(code: str, message: str | None = None) -> BedrockError:
    return BedrockError(code, message or AUTH_MESSAGES[code], 403)


def lower_camel(code: str) -> str:
    return code[0].lower() + code[1:]


QUOTA_METRIC = "generativelanguage.googleapis.com/generate_content_paid_tier_input_token_count"


@dataclass
class GoogleError(Exception):
    status_name: str
    message: str = ""
    details: list[dict[str, Any]] = field(default_factory=list)
    code: int = 0

    def __post_init__(self) -> None:
        code, message = GOOGLE_ERRORS.get(self.status_name, (500, "Internal error"))
        self.code = self.code or code
        self.message = self.message or message
        if self.status_name == "RESOURCE_EXHAUSTED" and not self.details:
            self.details = [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": QUOTA_METRIC,
                            "quotaId": "GenerateContentPaidTierInputTokensPerModelPerMinute",
                        }
                    ],
                },
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13s"},
            ]

    def payload(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status_name}
        if self.details:
            err["details"] = self.details
        return {"error": err}

    def body(self) -> bytes:
        return json.dumps(self.payload()).encode()


_ALIASES: dict[str, str] = {}
for _code in BEDROCK_ERRORS:
    _short = _code.removesuffix("Exception")
    for _alias in (_code, _short, _code.lower(), _short.lower(), lower_camel(_code)):
        _ALIASES[_alias.lower()] = _code
    # kebab form used in model-ID markers: error-service-quota-exceeded
    _kebab = "".join("-" + c.lower() if c.isupper() else c for c in _short).lstrip("-")
    _ALIASES[_kebab] = _code
KEBAB_MARKERS = sorted(
    ((k, v) for k, v in _ALIASES.items() if "-" in k or k == v.removesuffix("Exception").lower()),
    key=lambda kv: -len(kv[0]),
)


def normalize(name: str) -> str:
    """Accept ThrottlingException, Throttling, throttlingException, throttling or a Google status."""
    if name.upper() in GOOGLE_ERRORS:
        return name.upper()
    code = _ALIASES.get(name.strip().lower())
    if code is None:
        raise ValueError(f"unknown error type {name!r}; known: {sorted(BEDROCK_ERRORS)} or {sorted(GOOGLE_ERRORS)}")
    return code


def bedrock_for(name: str) -> str:
    """An injected Google status on a Bedrock call maps back to the nearest Bedrock error."""
    if name in BEDROCK_ERRORS:
        return name
    for bedrock, google in GOOGLE_FOR_BEDROCK.items():
        if google == name:
            return bedrock
    return "InternalServerException"


def google_for(name: str) -> str:
    return name if name in GOOGLE_ERRORS else GOOGLE_FOR_BEDROCK.get(name, "INTERNAL")
