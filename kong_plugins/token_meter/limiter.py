"""The limiting algorithm: GCRA on tokens, written as a leaky bucket (docs/decisions/0050).

Each (subject, window) has a bucket holding `level` tokens that drains continuously at
`limit / window` tokens per second. A request is admitted while the bucket has room for what
it needs (nothing, or its reservation); the real usage is poured in afterwards (log phase).
State is two numbers per window, refunds are exact, and there is no window edge where the
budget doubles. The Redis Lua script in redis_limiter.py is a line-by-line port of `evaluate`
and `pour`; tests run both against the same cases.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kong_plugins.token_meter.limits import Limit


class LimiterUnavailable(Exception):
    """The shared store (Redis) could not answer within its timeout."""


def drain(level: float, last: float, now: float, rate: float) -> float:
    """Tokens left in a bucket at `now` that held `level` at `last`."""
    return max(0.0, level - max(0.0, now - last) * rate)


def evaluate(limits: Sequence[Limit], levels: Sequence[float], need: int) -> tuple[bool, float]:
    """(admitted, seconds to wait) for a request that needs `need` tokens of room.

    need = 0 (no reservation) asks only that the bucket is not full. A need above a window's
    limit asks for the whole window, so a big request is admitted when the bucket is empty.
    """
    admitted, wait = True, 0.0
    for limit, level in zip(limits, levels, strict=True):
        room = min(need, limit.tokens)
        if level >= limit.tokens or level + room > limit.tokens:
            admitted = False
            wait = max(wait, (level + room - limit.tokens) / limit.rate)
    return admitted, wait


def pour(level: float, amount: float) -> float:
    """Add usage (or refund, when negative) to a bucket."""
    return max(0.0, level + amount)


@dataclass(frozen=True)
class WindowState:
    limit: Limit
    level: float  # tokens in the bucket after this request's reservation

    @property
    def remaining(self) -> int:
        return max(0, math.floor(self.limit.tokens - self.level + 1e-9))

    @property
    def reset_seconds(self) -> int:
        """Seconds until the bucket is empty again (all of the limit available)."""
        return math.ceil(self.level / self.limit.rate - 1e-9) if self.level > 0 else 0


@dataclass(frozen=True)
class Decision:
    admitted: bool
    windows: tuple[WindowState, ...] = ()
    retry_after: int = 0  # whole seconds, >= 1 when rejected
    reserved: int = 0
    degraded: bool = False  # the store was unreachable; nothing was checked

    @classmethod
    def of(cls, limits: Sequence[Limit], levels: Sequence[float], admitted: bool, wait: float, need: int) -> Decision:
        states = tuple(WindowState(lim, lvl) for lim, lvl in zip(limits, levels, strict=True))
        retry = 0 if admitted else max(1, math.ceil(wait - 1e-9))
        return cls(admitted, states, retry, need if admitted else 0)


@dataclass
class _Bucket:
    level: float
    last: float
    rate: float


@dataclass
class LocalLimiter:
    """Buckets in this process: node-wide, because Kong runs one plugin server per node."""

    clock: Callable[[], float] = time.monotonic  # immune to wall-clock steps
    max_keys: int = 200_000
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, key: str, limits: Sequence[Limit], need: int) -> Decision:
        with self._lock:
            now = self.clock()
            levels = [self._level(key, lim, now) for lim in limits]
            admitted, wait = evaluate(limits, levels, need)
            if admitted and need:
                levels = [self._set(key, lim, pour(lvl, need), now) for lim, lvl in zip(limits, levels, strict=True)]
        return Decision.of(limits, levels, admitted, wait, need)

    def charge(self, key: str, limits: Sequence[Limit], amount: int) -> None:
        if not amount:
            return
        with self._lock:
            now = self.clock()
            for lim in limits:
                self._set(key, lim, pour(self._level(key, lim, now), amount), now)

    def _level(self, key: str, limit: Limit, now: float) -> float:
        bucket = self._buckets.get((key, limit.window))
        return drain(bucket.level, bucket.last, now, limit.rate) if bucket else 0.0

    def _set(self, key: str, limit: Limit, level: float, now: float) -> float:
        if level <= 0:
            self._buckets.pop((key, limit.window), None)
            return 0.0
        if len(self._buckets) >= self.max_keys:
            self._prune(now)
        self._buckets[(key, limit.window)] = _Bucket(level, now, limit.rate)
        return level

    def _prune(self, now: float) -> None:
        """Drop drained buckets; if all are busy, forget them rather than grow without end."""
        for k, b in list(self._buckets.items()):
            if drain(b.level, b.last, now, b.rate) <= 0:
                del self._buckets[k]
        if len(self._buckets) >= self.max_keys:
            self._buckets.clear()
