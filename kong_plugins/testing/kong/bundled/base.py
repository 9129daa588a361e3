"""What every bundled (Lua in real Kong) plugin of the harness shares.

A bundled plugin is a Python re-implementation of the Kong 3.9.3 Lua plugin, working
directly on the KongRequest: it answers with Kong's status codes and bodies and leaves the
same traces (authenticated consumer, upstream X-Consumer-* headers, kong.ctx.shared).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from kong_plugins.testing.kong.pdk_api import exit_response, kong_error_body
from kong_plugins.testing.kong.request import KongRequest

if TYPE_CHECKING:
    from kong_plugins.testing.kong.declarative import Config

KONG_VERSION = "3.9.3"

HEADER_CONSUMER_ID = "X-Consumer-ID"
HEADER_CONSUMER_CUSTOM_ID = "X-Consumer-Custom-ID"
HEADER_CONSUMER_USERNAME = "X-Consumer-Username"
HEADER_CREDENTIAL_IDENTIFIER = "X-Credential-Identifier"
HEADER_ANONYMOUS = "X-Anonymous-Consumer"
HEADER_CONSUMER_GROUPS = "X-Consumer-Groups"
HEADER_AUTHENTICATED_GROUPS = "X-Authenticated-Groups"


def kong_error(
    req: KongRequest, status: int, message: str | None = None, headers: dict[str, str] | None = None
) -> None:
    """kong.response.error: Kong's error body (content type from Accept, as Kong negotiates it),
    and the request ends: later plugins are skipped."""
    body, ctype = kong_error_body(status, message, req.request_id, req.header("accept"))
    exit_response(req, status, body, {"Content-Type": ctype, **(headers or {})})


def kong_exit(req: KongRequest, status: int, body: Any = b"", headers: dict[str, str] | None = None) -> None:
    """kong.response.exit: a table body is JSON-encoded with application/json."""
    exit_response(req, status, body, headers)


def set_upstream_header(req: KongRequest, name: str, value: str | None) -> None:
    """kong.service.request.set_header / clear_header (value None).

    In nginx the service request *is* the client request, so later plugins see the change
    through kong.request.get_header too (that is how X-Consumer-Groups reaches them)."""
    targets = [req.headers] + ([req.upstream.headers] if req.upstream is not None else [])
    for headers in targets:
        if value is None:
            headers.pop(name.lower(), None)
        else:
            headers[name.lower()] = [value]


def authenticate(
    req: KongRequest,
    consumer: dict[str, Any] | None,
    credential: dict[str, Any] | None,
    credential_identifier: str | None,
) -> None:
    """kong.client.authenticate plus the X-Consumer-* headers key-auth and jwt set."""
    req.consumer = consumer
    req.credential = credential
    c = consumer or {}
    set_upstream_header(req, HEADER_CONSUMER_ID, c.get("id"))
    set_upstream_header(req, HEADER_CONSUMER_CUSTOM_ID, c.get("custom_id"))
    set_upstream_header(req, HEADER_CONSUMER_USERNAME, c.get("username"))
    set_upstream_header(req, HEADER_CREDENTIAL_IDENTIFIER, credential_identifier)
    set_upstream_header(req, HEADER_ANONYMOUS, None if credential else "true")


@dataclass
class BundledPlugin:
    """One bundled plugin type; `run` gets the resolved config of this request."""

    name: ClassVar[str]
    priority: ClassVar[int]
    phases: ClassVar[tuple[str, ...]] = ("access",)
    schema: ClassVar[list[dict[str, Any]]]
    no_consumer: ClassVar[bool] = False  # Kong's typedefs.no_consumer: cannot be consumer-scoped

    db: Config

    @classmethod
    def entity_check(cls, config: dict[str, Any]) -> str | None:
        """Kong's entity_checks of the plugin schema; None when fine."""
        return None

    def run(self, phase: str, req: KongRequest, config: dict[str, Any]) -> None:
        raise NotImplementedError
