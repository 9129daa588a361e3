"""Pytest plugin: a real redis-server on a free port in a temp dir (`redis_server` fixture).

redis-server is installed by scripts/bootstrap.sh; a test never skips for a missing server,
it fails with a clear message. `stop()` then `start()` restarts it on the same port, for the
Redis-down tests.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

REDIS_BINARIES = ("/usr/bin/redis-server", "/usr/local/bin/redis-server")


def _binary() -> str:
    for path in (os.environ.get("REDIS_SERVER"), *REDIS_BINARIES, shutil.which("redis-server")):
        if path and os.access(path, os.X_OK):
            return path
    raise RuntimeError("redis-server not found: run scripts/bootstrap.sh (make test does)")


def free_port(below: int = 65536) -> int:
    """A free port on 127.0.0.1 under `below`. Cluster nodes need room for their bus port
    (port + 10000), so they ask for one under 55536; the kernel's ephemeral range goes higher."""
    for _ in range(200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", 0 if below > 65535 else random.randrange(20000, below)))
            except OSError:
                continue  # taken: try another
            port = int(s.getsockname()[1])
        if port < below:
            return port
    raise RuntimeError(f"no free port under {below}")


class RedisServer:
    host = "127.0.0.1"

    def __init__(
        self, directory: str, port: int | None = None, password: str | None = None, extra_args: tuple[str, ...] = ()
    ) -> None:
        self.dir = directory
        cluster = "--cluster-enabled" in extra_args
        self.port = port or free_port(below=55536 if cluster else 65536)
        self.password = password
        self.extra_args = extra_args
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        if self._proc is not None:
            return
        args = [_binary(), "--port", str(self.port), "--bind", self.host, "--dir", self.dir]
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"]
        if self.password:
            args += ["--requirepass", self.password]
        args += list(self.extra_args)
        log = open(os.path.join(self.dir, "redis.log"), "ab")  # noqa: SIM115 - owned by the process
        self._proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self._proc.returncode}; see {self.dir}/redis.log")
            if self.ping():
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout}s")

    def ping(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as s:
                if self.password:
                    s.sendall(f"AUTH {self.password}\r\n".encode())
                    s.recv(64)
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with tempfile.TemporaryDirectory(prefix="redis-") as directory:
        server = RedisServer(directory)
        server.start()
        try:
            yield server
        finally:
            server.stop()
