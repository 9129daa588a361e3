"""The HTTP/1.1 front of the harness: a threaded server on 127.0.0.1 that turns each client
request into a KongRequest, hands it to the gateway and writes what the gateway answers.

It is deliberately strict and never lets a traceback out: malformed requests get Kong's 400,
bodies over the limit Kong's 413, and any failure inside the gateway Kong's 500 JSON body.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kong_plugins.testing.kong.bundled.base import KONG_VERSION
from kong_plugins.testing.kong.pdk_api import kong_error_body
from kong_plugins.testing.kong.request import KongRequest

MAX_HEADER_LINE = 65536


class BodyTooLarge(Exception):
    pass


class BadRequest(Exception):
    pass


class ResponseWriter:
    """How the gateway answers: head once, then body chunks (streamed or whole)."""

    def __init__(self, handler: BaseHTTPRequestHandler, head_only: bool) -> None:
        self._h = handler
        self._head_only = head_only
        self._chunked = False
        self.started = False
        self.status = 0
        self.bytes_sent = 0

    def send_head(self, status: int, headers: list[tuple[str, str]], length: int | None) -> None:
        """`length` None means a streamed body (chunked transfer coding)."""
        self.started = True
        self.status = status
        h = self._h
        h.send_response_only(status)
        for name, value in headers:
            h.send_header(name, value)
        if not any(name.lower() == "date" for name, _ in headers):
            h.send_header("Date", h.date_time_string())  # nginx always sends one
        if status in (204, 304) or (100 <= status < 200):
            pass
        elif length is None:
            self._chunked = True
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Content-Length", str(length))
        h.end_headers()
        h.wfile.flush()

    def write(self, data: bytes) -> None:
        if not data or self._head_only:
            return
        if self._chunked:
            self._h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self._h.wfile.write(data)
        self._h.wfile.flush()
        self.bytes_sent += len(data)

    def finish(self) -> None:
        if self._chunked and not self._head_only:
            self._h.wfile.write(b"0\r\n\r\n")
            self._h.wfile.flush()


Handler = Callable[[KongRequest, ResponseWriter], None]


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # head and body go out as separate writes
    server_version = f"kong/{KONG_VERSION}"
    sys_version = ""
    server: FrontServer

    # BaseHTTPRequestHandler calls do_<METHOD>; every method goes to the same place.
    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # the gateway writes its own access log

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed request lines/headers: Kong's error body instead of the stdlib's HTML page."""
        if code in (431, 501):
            code = 400  # Kong turns nginx's 494 into 400; nginx accepts any method token
        self._plain_error(code)

    def _plain_error(self, status: int, request_id: str | None = None) -> None:
        rid = request_id or uuid.uuid4().hex
        accept = self.headers.get("Accept") if getattr(self, "headers", None) is not None else None
        body, ctype = kong_error_body(status, None, rid, accept)
        if not str(getattr(self, "request_version", "")).startswith("HTTP/1."):
            self.request_version = "HTTP/1.1"  # never an HTTP/0.9 answer without a status line
        try:
            self.send_response_only(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Server", f"kong/{KONG_VERSION}")
            self.send_header("X-Kong-Request-Id", rid)
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True

    def _read_body(self) -> bytes:
        limit = self.server.max_body_size
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if te and te != "identity":
            if te != "chunked":
                raise BadRequest("unsupported transfer coding")
            return self._read_chunked(limit)
        raw_len = self.headers.get("Content-Length")
        if raw_len is None:
            return b""
        if len(self.headers.get_all("Content-Length") or []) > 1 or not raw_len.strip().isdigit():
            raise BadRequest("invalid Content-Length")
        n = int(raw_len)
        if limit and n > limit:
            raise BodyTooLarge()
        return self._read_exact(n)

    def _read_exact(self, n: int) -> bytes:
        data = self.rfile.read(n)
        if len(data) != n:
            raise BadRequest("body shorter than Content-Length")
        return data

    def _read_chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(MAX_HEADER_LINE)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise BadRequest("bad chunk size") from exc
            if size == 0:
                while self.rfile.readline(MAX_HEADER_LINE) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if limit and total > limit:
                raise BodyTooLarge()
            parts.append(self._read_exact(size))
            if self.rfile.readline(MAX_HEADER_LINE) not in (b"\r\n", b"\n"):
                raise BadRequest("bad chunk terminator")

    def _handle(self) -> None:
        rid = uuid.uuid4().hex
        start = time.time()
        try:
            body = self._read_body()
        except BodyTooLarge:
            self.server.on_rejected(self.command, 413)
            self._plain_error(413, rid)
            return
        except (BadRequest, OSError, ValueError):
            self.server.on_rejected(self.command, 400)
            self._plain_error(400, rid)
            return
        target = self.path
        if target.startswith(("http://", "https://")):
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        path, _, query = target.partition("?")
        if not path.startswith("/"):
            self._plain_error(400, rid)
            return
        host_header = self.headers.get("Host") or ""
        server_host, server_port = self.server.server_address[:2]
        req = KongRequest(
            method=self.command,
            path=path,
            raw_query=query,
            headers=_lower(self.headers.items()),
            body=body,
            client_ip=self.client_address[0],
            client_port=self.client_address[1],
            host=host_header.split(":")[0] or str(server_host),
            port=int(server_port),
            http_version=1.1 if self.request_version == "HTTP/1.1" else 1.0,
            start_time=start,
            request_id=rid,
            request_uri=target,
        )
        writer = ResponseWriter(self, head_only=self.command == "HEAD")
        try:
            self.server.handler(req, writer)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - never a traceback to the client
            self.server.on_crash(req, exc)
            if not writer.started:
                self._plain_error(500, rid)
            else:
                self.close_connection = True


def _lower(items: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in items:
        out.setdefault(name.lower(), []).append(value)
    return out


class FrontServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        host: str,
        port: int,
        handler: Handler,
        *,
        max_body_size: int,
        on_crash: Callable[[KongRequest, BaseException], None],
        on_rejected: Callable[[str, int], None],
        idle_timeout: float = 60.0,
    ) -> None:
        self.handler = handler
        self.max_body_size = max_body_size
        self.on_crash = on_crash
        self.on_rejected = on_rejected
        self.idle_timeout = idle_timeout
        super().__init__((host, port), _RequestHandler)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        conn.settimeout(self.idle_timeout)  # a client that stalls cannot hold a thread forever
        return conn, addr


class Front:
    """The running front: `start()` binds (port 0 = a free port), `stop()` closes."""

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> None:
        self.server = FrontServer(host, port, handler, **kwargs)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Front:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
