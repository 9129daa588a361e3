"""The HTTP client Kong's proxy uses to reach a service: real sockets, the service's
connect/read timeouts, TLS for https, and host overrides for tests (like /etc/hosts plus a
scheme: `{"bedrock-runtime.us-east-1.amazonaws.com": "http://127.0.0.1:4010"}`).
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from kong_plugins.testing.kong.request import UpstreamRequest

# Hop-by-hop headers nginx does not pass on (plus the ones it sets itself).
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


class UpstreamTimeout(Exception):
    """Connect or read timed out: Kong answers 504."""


class UpstreamUnavailable(Exception):
    """Refused, reset or an invalid answer: Kong answers 502."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int


def resolve(req: UpstreamRequest, overrides: Mapping[str, str]) -> Target:
    override = overrides.get(req.host) or overrides.get(f"{req.host}:{req.port}")
    if override:
        url = urlsplit(override if "://" in override else f"http://{override}")
        scheme = url.scheme or "http"
        return Target(scheme, url.hostname or "127.0.0.1", url.port or (443 if scheme == "https" else 80))
    return Target(req.scheme, req.host, req.port)


class UpstreamResponse:
    """A started upstream answer: status and headers now, the body buffered or streamed."""

    def __init__(self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse) -> None:
        self._conn = conn
        self._resp = resp
        self.status = resp.status
        self.headers: list[tuple[str, str]] = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]

    def read_all(self) -> bytes:
        try:
            return self._resp.read()
        except TimeoutError as exc:
            raise UpstreamTimeout(str(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise UpstreamUnavailable(str(exc)) from exc
        finally:
            self.close()

    def iter_chunks(self, size: int = 65536) -> Iterator[bytes]:
        """Chunks as they arrive (read1 returns what is available, so SSE flows through)."""
        try:
            while True:
                chunk = self._resp.read1(size)
                if not chunk:
                    return
                yield chunk
        except TimeoutError as exc:
            raise UpstreamTimeout(str(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise UpstreamUnavailable(str(exc)) from exc
        finally:
            self.close()

    def close(self) -> None:
        self._conn.close()


def send(
    req: UpstreamRequest,
    *,
    connect_timeout: float,
    read_timeout: float,
    overrides: Mapping[str, str] | None = None,
    tls_verify: bool = True,
) -> UpstreamResponse:
    """Send the request; raises UpstreamTimeout / UpstreamUnavailable like nginx's failures."""
    target = resolve(req, overrides or {})
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        ctx = ssl.create_default_context()
        if not tls_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(target.host, target.port, timeout=connect_timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=connect_timeout)
    try:
        conn.connect()
    except TimeoutError as exc:
        conn.close()
        raise UpstreamTimeout(f"connect to {target.host}:{target.port} timed out") from exc
    except OSError as exc:
        conn.close()
        raise UpstreamUnavailable(f"connect to {target.host}:{target.port} failed: {exc}") from exc
    if conn.sock is not None:
        conn.sock.settimeout(read_timeout)
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    target_uri = req.path + (f"?{req.query}" if req.query else "")
    try:
        conn.putrequest(req.method, target_uri, skip_host=True, skip_accept_encoding=True)
        host_header = req.host_header or _host_header(req)
        conn.putheader("Host", host_header)
        for name, values in req.headers.items():
            if name in HOP_BY_HOP or name == "host":
                continue
            for value in values:
                conn.putheader(name, value)
        if req.body or req.method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
            conn.putheader("Content-Length", str(len(req.body)))
        conn.endheaders(req.body or None)
        resp = conn.getresponse()
    except TimeoutError as exc:
        conn.close()
        raise UpstreamTimeout("upstream timed out") from exc
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        raise UpstreamUnavailable(f"upstream failed: {exc}") from exc
    return UpstreamResponse(conn, resp)


def _host_header(req: UpstreamRequest) -> str:
    default = 443 if req.scheme == "https" else 80
    return req.host if req.port == default else f"{req.host}:{req.port}"
