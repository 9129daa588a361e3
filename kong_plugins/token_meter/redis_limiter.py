"""Cluster-wide limiter: the same buckets as LocalLimiter, kept in Redis.

One round trip per check or charge: a Lua script (EVALSHA) reads, decides and writes every
window of a subject atomically, so concurrent gateways cannot both take the last tokens.
Keys are `<prefix>{<hash of subject>}:<window>`: the hash tag puts all windows of a subject in
one Redis Cluster slot (a script may only touch one slot), and the subject itself (a consumer
id or a JWT `sub`, maybe an e-mail) never reaches Redis. Every key expires when its bucket
has drained. Time comes from Redis TIME, one clock for all gateways; tests may pass `now`.
Failures and timeouts raise LimiterUnavailable; after one, Redis is not asked again for
`backoff` seconds, so an outage costs each request nothing instead of a timeout.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from kong_plugins.token_meter.limiter import Decision, LimiterUnavailable
from kong_plugins.token_meter.limits import Limit

# KEYS: one per window. ARGV: now_ms (0 = Redis TIME), mode (check|charge), amount, then
# limit and window_ms per key. Returns {admitted, wait_ms, level...} as strings (Lua numbers
# would be truncated to integers).
LUA = """
local now = tonumber(ARGV[1])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local mode, amount = ARGV[2], tonumber(ARGV[3])
local levels, rates = {}, {}
local admitted, wait = 1, 0
for i = 1, #KEYS do
  local limit, win = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  local rate = limit / win
  local v = redis.call('HMGET', KEYS[i], 'l', 't')
  local level = tonumber(v[1]) or 0
  local last = tonumber(v[2]) or now
  level = math.max(0, level - math.max(0, now - last) * rate)
  levels[i], rates[i] = level, rate
  if mode == 'check' then
    local room = math.min(amount, limit)
    if level >= limit or level + room > limit then
      admitted = 0
      wait = math.max(wait, (level + room - limit) / rate)
    end
  end
end
if admitted == 1 and amount ~= 0 then
  for i = 1, #KEYS do
    local level = math.max(0, levels[i] + amount)
    levels[i] = level
    if level > 0 then
      redis.call('HSET', KEYS[i], 'l', string.format('%.6f', level), 't', now)
      redis.call('PEXPIRE', KEYS[i], math.ceil(level / rates[i]) + 1000)
    else
      redis.call('DEL', KEYS[i])
    end
  end
end
local out = {tostring(admitted), string.format('%.3f', wait)}
for i = 1, #KEYS do out[#out + 1] = string.format('%.6f', levels[i]) end
return out
"""


@dataclass(frozen=True)
class RedisSettings:
    host: str = "127.0.0.1"
    port: int = 6379
    database: int = 0
    username: str | None = None
    password: str | None = None
    ssl: bool = False
    ssl_verify: bool = True
    ssl_ca_file: str | None = None  # PEM bundle of a private CA; default: the system's CAs
    timeout_ms: int = 200
    key_prefix: str = "kong_tm:"
    cluster: bool = False


def make_client(s: RedisSettings) -> Any:
    timeout = s.timeout_ms / 1000
    common: dict[str, Any] = {
        "host": s.host,
        "port": s.port,
        "username": s.username or None,
        "password": s.password or None,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "ssl": s.ssl,
    }
    if s.ssl:
        common["ssl_cert_reqs"] = "required" if s.ssl_verify else "none"
        common["ssl_check_hostname"] = s.ssl_verify  # against redis_host (redis-py sets no other SNI)
        if s.ssl_ca_file:
            common["ssl_ca_certs"] = s.ssl_ca_file
    if s.cluster:
        from redis.cluster import RedisCluster

        return RedisCluster(**common, retry=Retry(NoBackoff(), 0))
    # No retries: a retry doubles the worst-case wait the timeout promises.
    return redis.Redis(**common, db=s.database, retry=Retry(NoBackoff(), 0), health_check_interval=0)


def subject_tag(subject: str) -> str:
    return hashlib.blake2b(subject.encode(), digest_size=10).hexdigest()


class RedisLimiter:
    def __init__(
        self,
        settings: RedisSettings,
        backoff: float = 1.0,
        client: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.client = client if client is not None else make_client(settings)
        self._script = self.client.register_script(LUA)
        self.backoff = backoff
        self._clock = clock
        self._down_until = 0.0
        self._lock = threading.Lock()

    def keys(self, key: str, limits: Sequence[Limit]) -> list[str]:
        tag = subject_tag(key)
        return [f"{self.settings.key_prefix}{{{tag}}}:{lim.window}" for lim in limits]

    def check(self, key: str, limits: Sequence[Limit], need: int, now_ms: int = 0) -> Decision:
        reply = self._run(key, limits, "check", need, now_ms)
        admitted, wait = reply[0] == "1", float(reply[1]) / 1000
        return Decision.of(limits, [float(x) for x in reply[2:]], admitted, wait, need)

    def charge(self, key: str, limits: Sequence[Limit], amount: int, now_ms: int = 0) -> None:
        if amount:
            self._run(key, limits, "charge", amount, now_ms)

    def _run(self, key: str, limits: Sequence[Limit], mode: str, amount: int, now_ms: int) -> list[str]:
        if self._clock() < self._down_until:
            raise LimiterUnavailable("redis marked down")
        args: list[Any] = [now_ms, mode, amount]
        for lim in limits:
            args += [lim.tokens, int(lim.seconds * 1000)]
        try:
            reply = self._script(keys=self.keys(key, limits), args=args)
        except (redis.RedisError, OSError) as exc:
            with self._lock:
                self._down_until = self._clock() + self.backoff
            raise LimiterUnavailable(type(exc).__name__) from exc
        return [x.decode() if isinstance(x, bytes) else str(x) for x in reply]


_limiters: dict[RedisSettings, RedisLimiter] = {}
_limiters_lock = threading.Lock()


def shared_redis_limiter(settings: RedisSettings) -> RedisLimiter:
    """One client (and connection pool) per Redis config per process: Kong renews plugin
    instances on every config change, the pool must outlive them."""
    with _limiters_lock:
        limiter = _limiters.get(settings)
        if limiter is None:
            limiter = _limiters[settings] = RedisLimiter(settings)
        return limiter
