"""Gateway errors and how each client API expects to see them.

One table maps an error kind to its status and to the error type names of OpenAI,
Anthropic and Bedrock, so every plugin answers a client in the format it sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import NamedTuple

from kong_plugins.core.client_api import ClientApi


class ErrorKind(NamedTuple):
    status: int
    openai_type: str
    anthropic_type: str
    bedrock_code: str


KINDS: dict[str, ErrorKind] = {
    "invalid_request": ErrorKind(400, "invalid_request_error", "invalid_request_error", "ValidationException"),
    "authentication": ErrorKind(401, "authentication_error", "authentication_error", "UnrecognizedClientException"),
    "permission_denied": ErrorKind(403, "permission_error", "permission_error", "AccessDeniedException"),
    "not_found": ErrorKind(404, "not_found_error", "not_found_error", "ResourceNotFoundException"),
    "method_not_allowed": ErrorKind(405, "invalid_request_error", "invalid_request_error", "ValidationException"),
    "payload_too_large": ErrorKind(413, "invalid_request_error", "request_too_large", "ValidationException"),
    "guardrail_blocked": ErrorKind(400, "invalid_request_error", "invalid_request_error", "ValidationException"),
    "rate_limited": ErrorKind(429, "rate_limit_error", "rate_limit_error", "ThrottlingException"),
    "internal_error": ErrorKind(500, "api_error", "api_error", "InternalServerException"),
    "bad_gateway": ErrorKind(502, "api_error", "api_error", "InternalServerException"),
    "service_unavailable": ErrorKind(503, "api_error", "overloaded_error", "ServiceUnavailableException"),
    "upstream_timeout": ErrorKind(504, "timeout_error", "timeout_error", "ModelTimeoutException"),
}


@dataclass
class GatewayError(Exception):
    """An error our code answers with. `message` reaches the client, so it never holds
    request text, credentials or AWS account details."""

    kind: str
    message: str
    status: int | None = None  # overrides the kind's default status
    code: str | None = None  # machine-readable detail, e.g. "model_not_allowed"
    headers: dict[str, str] = field(default_factory=dict)
    bedrock_code: str | None = None  # overrides the Bedrock exception name

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown error kind {self.kind!r}")
        super().__init__(self.message)

    @property
    def http_status(self) -> int:
        return self.status or KINDS[self.kind].status


def render_error(api: ClientApi, err: GatewayError) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers for `err` in the client's API format."""
    kind = KINDS[err.kind]
    headers = {"Content-Type": "application/json", **err.headers}
    body: dict[str, object]
    if api is ClientApi.ANTHROPIC:
        body = {"type": "error", "error": {"type": kind.anthropic_type, "message": err.message}}
    elif api is ClientApi.BEDROCK:
        body = {"message": err.message}
        headers["x-amzn-ErrorType"] = err.bedrock_code or kind.bedrock_code
    else:
        body = {
            "error": {
                "message": err.message,
                "type": kind.openai_type,
                "param": None,
                "code": err.code or err.kind,
            }
        }
    return err.http_status, json.dumps(body, separators=(",", ":")).encode(), headers
