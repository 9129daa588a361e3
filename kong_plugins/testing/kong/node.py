"""What one emulated Kong node shares across requests: settings, its error log and the
fidelity violations found while serving (a test must end with none)."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_WS_ID = "00000000-0000-4000-8000-000000000000"  # the harness's one workspace ("default")
LEVELS = ("debug", "info", "notice", "warn", "error", "crit", "alert", "emerg")


@dataclass(frozen=True)
class LogLine:
    level: str
    message: str

    def __str__(self) -> str:
        return f"[{self.level}] {self.message}"


class ErrorLog:
    """Kong's error.log, kept in memory (thread safe) so tests can assert on lines."""

    def __init__(self, *, echo_level: str | None = None, max_lines: int = 20000) -> None:
        self._lines: list[LogLine] = []
        self._lock = threading.Lock()
        self._max = max_lines
        self._echo = LEVELS.index(echo_level) if echo_level else None

    def add(self, level: str, message: str) -> None:
        line = LogLine(level, message)
        with self._lock:
            self._lines.append(line)
            if len(self._lines) > self._max:
                del self._lines[: len(self._lines) - self._max]
        if self._echo is not None and LEVELS.index(level) >= self._echo:
            print(str(line), flush=True)  # noqa: T201 - `make dev` shows the log on the console

    def lines(self, level: str | None = None) -> list[LogLine]:
        with self._lock:
            return [ln for ln in self._lines if level is None or ln.level == level]

    def messages(self, level: str | None = None) -> list[str]:
        return [ln.message for ln in self.lines(level)]

    def find(self, text: str, level: str | None = None) -> list[str]:
        return [m for m in self.messages(level) if text in m]

    def clear(self) -> None:
        with self._lock:
            self._lines.clear()


def _default_env() -> dict[str, str]:
    return dict(os.environ)


@dataclass
class KongNode:
    """Node-wide state. The Gateway owns one and hands it to every step it builds.

    client_body_buffer_size: nginx spills larger request bodies to disk (8k default; our
    kong.conf raises it), which changes what kong.request.get_raw_body() can return.
    vault_env: what `{vault://env/NAME}` references resolve against (Kong's env vault).
    """

    node_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    hostname: str = "kong-harness"
    client_body_buffer_size: int = 8 * 1024
    vault_env: dict[str, str] = field(default_factory=_default_env)
    error_log: ErrorLog = field(default_factory=ErrorLog)
    violations: list[str] = field(default_factory=list)
    # kong.client.load_consumer(id_or_username, by_username) -> consumer dict | None (set by the Gateway)
    consumer_lookup: Callable[[str, bool], dict[str, Any] | None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _seq: int = 0

    def next_seq(self) -> int:
        """Kong's node-wide `plugins_iterator:__seq__` counter: one per plugin config per config load."""
        with self._lock:
            self._seq += 1
            return self._seq

    def violation(self, text: str) -> None:
        """A plugin did something Kong 3.9.3 OSS would not support; the test must fail."""
        with self._lock:
            self.violations.append(text)
        self.error_log.add("error", f"[harness] fidelity violation: {text}")

    def log(self, level: str, message: str) -> None:
        self.error_log.add(level, message)
