"""A small HTTP/1.1 server on asyncio.Protocol: keep-alive, pipelining, chunked streams, raw paths.

http.server is too slow for the 2,000 req/s target and frameworks decode `%3A` in paths, which
breaks SigV4 verification; this parser keeps the request target byte-for-byte.
"""

from __future__ import annotations

import asyncio
import json
import time
import traceback
from email.utils import formatdate

from .app import EmulatorApp, Request
from .common import Response, StreamResponse

MAX_HEAD = 64 * 1024
MAX_BODY = 30 * 1024 * 1024  # InvokeModel allows 25 MB
REASONS = {
    100: "Continue",
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    413: "Payload Too Large",
    424: "Failed Dependency",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    499: "Client Closed Request",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


def _chunked_body(buf: bytearray, start: int) -> tuple[bytes, int] | None:
    """Decode a chunked body starting at `start`; None until it is complete."""
    body = bytearray()
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        try:
            size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
        except ValueError:
            raise BadRequest(400, "bad chunk size") from None
        if size == 0:
            end = buf.find(b"\r\n\r\n", eol)
            if end < 0:
                return None
            return bytes(body), end + 4
        if len(body) + size > MAX_BODY:
            raise BadRequest(413, "body too large")
        if len(buf) < eol + 2 + size + 2:
            return None
        body += buf[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2


def parse_request(buf: bytearray) -> tuple[Request, int, bool] | None:
    """(request, bytes consumed, keep_alive) or None when more bytes are needed."""
    head_end = buf.find(b"\r\n\r\n")
    if head_end < 0:
        if len(buf) > MAX_HEAD:
            raise BadRequest(431, "headers too large")
        return None
    lines = bytes(buf[:head_end]).decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ")
    except ValueError:
        raise BadRequest(400, "bad request line") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest(400, "bad header line")
        name = name.strip().lower()
        value = value.strip()
        headers[name] = headers[name] + "," + value if name in headers else value
    body_start = head_end + 4
    if "chunked" in headers.get("transfer-encoding", "").lower():
        decoded = _chunked_body(buf, body_start)
        if decoded is None:
            return None
        body, end = decoded
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise BadRequest(400, "bad content-length") from None
        if length > MAX_BODY:
            raise BadRequest(413, "body too large")
        end = body_start + length
        if len(buf) < end:
            return None
        body = bytes(buf[body_start:end])
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    return Request(method, target, headers, body), end, keep_alive


def _head(status: int, headers: list[tuple[str, str]], extra: str) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append("Date: " + http_date())
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode("latin-1")


class HttpProtocol(asyncio.Protocol):
    def __init__(self, app: EmulatorApp, connections: set[HttpProtocol]) -> None:
        self.app = app
        self.connections = connections
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.task: asyncio.Task[None] | None = None
        self.closed = False
        self.continued = False  # "100 Continue" already sent for the request being received

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.connections.discard(self)
        if self.task is not None:
            self.task.cancel()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.task is None:
            self._process()

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()

    def _process(self) -> None:
        """Answer every complete request in the buffer, in order; slow answers continue in a task."""
        transport = self.transport
        assert transport is not None
        while self.buf and not self.closed:
            try:
                parsed = parse_request(self.buf)
            except BadRequest as exc:
                transport.write(_head(exc.status, [("Content-Length", "0"), ("Connection", "close")], ""))
                transport.close()
                return
            if parsed is None:
                if not self.continued and b"expect: 100-continue" in self.buf[:MAX_HEAD].lower():
                    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    self.continued = True
                return
            request, consumed, keep_alive = parsed
            del self.buf[:consumed]
            self.continued = False
            try:
                response = self.app.handle(request)
            except Exception as exc:  # an emulator bug must surface as an answer, never a hang
                traceback.print_exc()
                body = json.dumps({"message": f"emulator bug: {exc!r}"}).encode()
                response = Response(
                    500, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "InternalServerException")], body
                )
            if isinstance(response, Response) and response.delay_s <= 0:
                self._write_response(response, keep_alive)
                if not keep_alive:
                    return
                continue
            self.task = asyncio.get_running_loop().create_task(self._send_later(response, keep_alive))
            return

    def _write_response(self, response: Response, keep_alive: bool) -> None:
        assert self.transport is not None
        conn = "" if keep_alive else "Connection: close\r\n"
        extra = f"Content-Length: {len(response.body)}\r\n{conn}"
        self.transport.write(_head(response.status, response.headers, extra) + response.body)
        if not keep_alive:
            self.transport.close()

    async def _send_later(self, response: Response | StreamResponse, keep_alive: bool) -> None:
        try:
            if response.delay_s > 0:
                await asyncio.sleep(response.delay_s)
            if isinstance(response, Response):
                self._write_response(response, keep_alive)
            else:
                await self._stream(response, keep_alive)
        except asyncio.CancelledError:
            return
        self.task = None
        if keep_alive and not self.closed:
            self._process()

    async def _stream(self, response: StreamResponse, keep_alive: bool) -> None:
        transport = self.transport
        assert transport is not None
        conn = "" if keep_alive else "Connection: close\r\n"
        transport.write(_head(response.status, response.headers, f"Transfer-Encoding: chunked\r\n{conn}"))
        for delay, frame in response.frames:
            if delay > 0:
                await asyncio.sleep(delay)
            if self.closed:
                return
            transport.write(b"%x\r\n%b\r\n" % (len(frame), frame))
        transport.write(b"0\r\n\r\n")
        if not keep_alive:
            transport.close()


class Server:
    """Owns the listening socket and open connections on the current event loop."""

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self.connections: set[HttpProtocol] = set()
        self._server: asyncio.base_events.Server | None = None

    async def start(self, host: str, port: int) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: HttpProtocol(self.app, self.connections), host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for conn in list(self.connections):
                conn.close()
            await self._server.wait_closed()
