"""Kong 3.9.3's MessagePack RPC client (kong/runloop/plugin_servers/rpc/mp_rpc.lua).

Request `[0, msgid, method, [param]]`, response `[1, msgid, err, result]`, over the plugin
server's Unix socket. Like Kong each call checks a connection out of a keepalive pool and
puts it back after a complete answer; a connection that failed or timed out is closed
(nginx closes a cosocket on a read error), so a wedged event never poisons the pool.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import msgpack

KONG_READ_TIMEOUT = 60.0  # nginx lua_socket_read_timeout default
POOL_SIZE = 30  # nginx lua_socket_pool_size default


class RpcError(Exception):
    """The call failed; `str(err)` is the text Kong would log (and match on)."""


class RpcServerError(RpcError):
    """The plugin server answered `[1, id, "<error>", nil]`."""


class RpcTransportError(RpcError):
    """Connect, send or read failed (Kong: "no data" for reads, the socket error otherwise)."""


@dataclass
class RpcStats:
    """Counters for benchmarks and tests: RPC calls by method, PDK calls by name."""

    calls: Counter[str] = field(default_factory=Counter)
    pdk: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_call(self, method: str) -> None:
        with self.lock:
            self.calls[method] += 1

    def count_pdk(self, name: str) -> None:
        with self.lock:
            self.pdk[name] += 1

    def count_event(self, phase: str) -> None:
        with self.lock:
            self.events[phase] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "rpc_calls": sum(self.calls.values()),
                "by_method": dict(self.calls),
                "pdk_calls": sum(self.pdk.values()),
                "by_pdk_method": dict(self.pdk),
                "events": dict(self.events),
            }

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.pdk.clear()
            self.events.clear()


class RpcClient:
    """One per plugin, like Kong's Rpc object (msg ids count per plugin)."""

    def __init__(
        self,
        socket_path: str,
        *,
        timeout: float = KONG_READ_TIMEOUT,
        connect_timeout: float = 5.0,
        keepalive: bool = True,
        stats: RpcStats | None = None,
    ) -> None:
        self.socket_path = socket_path
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.keepalive = keepalive
        self.stats = stats if stats is not None else RpcStats()
        self._msg_id = 0
        self._lock = threading.Lock()
        self._pool: list[socket.socket] = []

    def call(self, method: str, param: Any, *, timeout: float | None = None) -> Any:
        """Send one call and return its result; raise RpcError like Kong's `nil, err`."""
        with self._lock:
            self._msg_id += 1
            msg_id = self._msg_id
        self.stats.count_call(method)
        conn = self._checkout()
        try:
            conn.settimeout(self.timeout if timeout is None else timeout)
            conn.sendall(msgpack.packb([0, msg_id, method, [param]], use_bin_type=True))
            reply = self._read_reply(conn, msg_id)
        except (OSError, ValueError, IndexError, TypeError, msgpack.UnpackException) as exc:
            conn.close()
            raise RpcTransportError("no data") from exc
        except BaseException:
            conn.close()
            raise
        self._checkin(conn)
        err, result = reply
        if err is not None:
            raise RpcServerError(str(err))
        return result

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, []
        for conn in pool:
            conn.close()

    def _checkout(self) -> socket.socket:
        while self.keepalive:
            with self._lock:
                if not self._pool:
                    break
                pooled = self._pool.pop()
            if _alive(pooled):
                return pooled
            pooled.close()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(self.connect_timeout)
        try:
            conn.connect(self.socket_path)
        except OSError as exc:
            conn.close()
            # Kong logs "trying to connect: <err>" and returns the socket error
            raise RpcTransportError(f"trying to connect: {exc.strerror or exc}") from exc
        return conn

    def _checkin(self, conn: socket.socket) -> None:
        if self.keepalive:
            with self._lock:
                if len(self._pool) < POOL_SIZE:
                    self._pool.append(conn)
                    return
        conn.close()

    @staticmethod
    def _read_reply(conn: socket.socket, msg_id: int) -> tuple[Any, Any]:
        unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
        while True:
            for msg in unpacker:
                if not isinstance(msg, list) or not msg:
                    raise ValueError(f"unexpected RPC message {msg!r}")
                if msg[0] == 2:  # notification [2, label, args]; kong-pdk never sends one
                    continue
                if msg[0] != 1 or msg[1] != msg_id:
                    raise ValueError("unexpected RPC response ID from plugin server")
                return msg[2], msg[3]
            chunk = conn.recv(65536)
            if not chunk:
                raise ConnectionResetError("connection closed")
            unpacker.feed(chunk)


def _alive(conn: socket.socket) -> bool:
    """nginx drops idle pooled connections the peer closed; so do we (a restarted server)."""
    try:
        conn.setblocking(False)
        try:
            return conn.recv(1, socket.MSG_PEEK) != b""
        finally:
            conn.setblocking(True)
    except BlockingIOError:
        return True
    except OSError:
        return False
