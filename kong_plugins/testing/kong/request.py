"""What Kong knows about one request while it runs the phases: the shared state of the harness.

The HTTP front fills the client side, the router and the bundled plugins (key-auth, jwt,
acl) fill routing and auth, the PDK responder serves plugin calls from it and records their
effects, and the proxy step sends `upstream` and fills `service_response`.
Header names are stored lower-case; values are lists, as Kong's multi-map getters return them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


def lower_headers(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name.lower(), []).append(value)
    return out


@dataclass
class UpstreamRequest:
    """What Kong will send to the service; plugins change it through kong.service.request.*."""

    scheme: str
    host: str
    port: int
    method: str
    path: str  # already percent-encoded, sent as is
    query: str  # raw query string without '?'
    headers: dict[str, list[str]]
    body: bytes
    host_header: str | None = None  # kong.service.request.set_header("host", ...) sets this


@dataclass
class ServiceResponse:
    """What the upstream answered (buffered mode), for kong.service.response.*."""

    status: int
    headers: dict[str, list[str]]
    body: bytes


@dataclass
class ClientResponse:
    """What the client will receive; kong.response.* read and change it."""

    status: int = 200
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""
    source: str = "service"  # service | exit | error


@dataclass
class KongRequest:
    # client side
    method: str
    path: str  # raw path as the client sent it (percent-encoding kept), no query
    raw_query: str
    headers: dict[str, list[str]]
    body: bytes
    client_ip: str = "127.0.0.1"
    client_port: int = 0
    scheme: str = "http"
    host: str = "localhost"
    port: int = 8000
    http_version: float = 1.1
    start_time: float = field(default_factory=time.time)  # seconds, like ngx.req.start_time()
    request_id: str = ""
    request_uri: str = ""  # nginx $request_uri: as received, query included; plugins never change it

    # routing (Kong entities as dicts, like kong.router.get_route/get_service return them)
    route: dict[str, Any] | None = None
    service: dict[str, Any] | None = None
    uri_captures: dict[str, Any] = field(default_factory=lambda: {"unnamed": [], "named": {}})

    # auth results
    consumer: dict[str, Any] | None = None
    credential: dict[str, Any] | None = None

    # kong.ctx.shared and raw ngx.ctx (kong.nginx.get_ctx/set_ctx)
    ctx_shared: dict[str, Any] = field(default_factory=dict)
    ngx_ctx: dict[str, Any] = field(default_factory=dict)

    # effects
    upstream: UpstreamRequest | None = None
    buffered: bool = False  # Kong's ctx.buffered_proxying
    service_response: ServiceResponse | None = None
    response: ClientResponse = field(default_factory=ClientResponse)
    exited: bool = False  # kong.response.exit/error was called
    serialize_values: dict[str, Any] = field(default_factory=dict)  # kong.log.set_serialize_value tree
    latencies: dict[str, int] = field(default_factory=dict)  # kong, proxy, request, receive (ms)
    # set by the PDK responder (additive; the proxy step may honour them)
    serialize_ops: list[tuple[str, Any, str]] = field(default_factory=list)  # (key, value, mode) in call order
    service_options: dict[str, Any] = field(default_factory=dict)  # timeouts, retries, upstream, tls_verify
    plugin_error: bool = False  # a plugin threw in access/rewrite/response (Kong's KONG_UNEXPECTED)
    body_in_memory: bool = False  # kong.service.request.set_raw_body replaced a (maybe spilled) body

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None
