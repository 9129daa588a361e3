"""token-meter's core: admission in access, accounting in log. No PDK here.

Built once per plugin instance from its config. What must outlive an instance (Kong renews
them on every config change) is shared per process: the local buckets, the Redis client,
the metric objects, the CloudWatch flusher and the DogStatsD client.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kong_plugins.core.errors import GatewayError
from kong_plugins.core.identity import Identity, IdentitySettings
from kong_plugins.core.logging import log_event
from kong_plugins.core.shared import resolved_at
from kong_plugins.core.usage import LlmResult
from kong_plugins.token_meter import cloudwatch, dogstatsd
from kong_plugins.token_meter.estimate import estimate_tokens
from kong_plugins.token_meter.headers import RETRY_AFTER, degraded_headers, rate_limit_headers
from kong_plugins.token_meter.limiter import Decision, LimiterUnavailable, LocalLimiter
from kong_plugins.token_meter.limits import Limit, LimitPolicy
from kong_plugins.token_meter.metering import Record, record_from_result, record_from_serialized
from kong_plugins.token_meter.prometheus import PrometheusSink
from kong_plugins.token_meter.redis_limiter import RedisSettings, shared_redis_limiter

PLUGIN = "token-meter"
METRICS_PORT_ENV = "TOKEN_METER_METRICS_PORT"
METER_KEY = "token_meter"  # kong.ctx.shared: identity + reservation, only when reservation is on

_local_limiter = LocalLimiter()  # node-wide: one plugin server per Kong node


class Throttle:
    """At most one event per `interval` seconds; counts the ones skipped in between."""

    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval, self.clock = interval, clock
        self._next, self._skipped = 0.0, 0
        self._lock = threading.Lock()

    def due(self) -> int | None:
        """The number skipped since the last due event, or None when not due yet."""
        with self._lock:
            now = self.clock()
            if now < self._next:
                self._skipped += 1
                return None
            skipped, self._skipped, self._next = self._skipped, 0, now + self.interval
            return skipped


_degraded_warnings = Throttle()


class Limiter(Protocol):
    def check(self, key: str, limits: tuple[Limit, ...], need: int) -> Decision: ...
    def charge(self, key: str, limits: tuple[Limit, ...], amount: int) -> None: ...


class Sink(Protocol):
    def record(self, rec: Record) -> None: ...


@dataclass(frozen=True)
class Admission:
    headers: dict[str, str] = field(default_factory=dict)
    error: GatewayError | None = None
    shared: dict[str, Any] | None = None  # what log needs to settle a reservation


class TokenMeter:
    def __init__(self, conf: Mapping[str, Any], limiter: Limiter | None = None) -> None:
        self.identity_settings = IdentitySettings.from_config(conf)
        self.policy = LimitPolicy.from_config(conf)
        self.namespace = str(conf.get("namespace") or "llm")
        self.reserves = bool(conf.get("reservation", False))
        self.default_max_tokens = int(conf.get("reservation_default_max_tokens") or 0)
        self.fault_tolerant = bool(conf.get("fault_tolerant", True))
        self.policy_name = str(conf.get("policy") or "local")
        self.limiter: Limiter = limiter or (
            shared_redis_limiter(redis_settings(conf)) if self.policy_name == "redis" else _local_limiter
        )
        self.pricing = _pricing(conf.get("pricing"))
        consumer_limit = int(conf.get("metric_consumer_limit") or 200)
        self.prometheus = PrometheusSink(_strings(conf.get("metric_models")), consumer_limit)
        self.sinks: list[Any] = [self.prometheus, *_sinks(conf)]

    # access ---------------------------------------------------------------------------

    def limits(self, identity: Identity) -> tuple[Limit, ...]:
        return self.policy.limits_for(identity)

    def admit(self, identity: Identity, limits: tuple[Limit, ...], body: bytes | None = None) -> Admission:
        need = estimate_tokens(body, self.default_max_tokens) if self.reserves else 0
        try:
            decision = self.limiter.check(self._key(identity), limits, need)
        except LimiterUnavailable as exc:
            return self._degraded(identity, limits, exc)
        headers = rate_limit_headers(decision)
        if not decision.admitted:
            self._emit("rate_limited", identity.consumer_username or identity.consumer_id, identity.role)
            log_event(
                "rate_limited",
                plugin=PLUGIN,
                phase="access",
                role=identity.role,
                consumer_id=identity.consumer_id,
                reserved=need,
                limit=min(lim.tokens for lim in limits),
                policy=self.policy_name,
            )
            message = f"Token rate limit exceeded; retry after {decision.retry_after} seconds."
            return Admission(headers, GatewayError("rate_limited", message, code="token_rate_limited", headers=headers))
        if not decision.reserved:
            return Admission(headers)
        shared = {**identity.to_shared(), "reserved": decision.reserved, "resolved_at": round(time.time(), 3)}
        return Admission(headers, shared=shared)

    def _degraded(self, identity: Identity, limits: tuple[Limit, ...], exc: Exception) -> Admission:
        self._emit("degraded", "access")
        suppressed = _degraded_warnings.due()
        if suppressed is not None:  # one line per second during an outage, not one per request
            log_event(
                "ratelimit_degraded",
                level="warn",
                plugin=PLUGIN,
                phase="access",
                dependency="redis",
                error_class=str(exc)[:60],
                decision="allow" if self.fault_tolerant else "deny",
                count=suppressed + 1,
            )
        headers = degraded_headers(limits)
        if self.fault_tolerant:
            return Admission(headers)
        err = GatewayError(
            "service_unavailable",
            "Token rate limiting is temporarily unavailable; retry shortly.",
            code="rate_limiter_unavailable",
            headers={**headers, RETRY_AFTER: "1"},
        )
        return Admission(headers, err)

    # log ------------------------------------------------------------------------------

    def account(
        self,
        shared_identity: Any,
        result: LlmResult | None,
        serialized: Any = None,
        now: Callable[[], float] = time.time,
    ) -> Record:
        """Settle the subject's bucket with the real usage, then meter and log the request."""
        who = shared_identity if isinstance(shared_identity, Mapping) else None
        if result is not None:
            started = resolved_at(dict(who)) if who else None
            duration = max(0.0, now() - started) if started else None
            rec = record_from_result(result, who, duration, self.pricing)
        else:
            rec = record_from_serialized(serialized, who, self.pricing)
        reserved = _int(who.get("reserved")) if who else 0
        identity = Identity.from_shared(who)
        degraded = False
        if identity is not None and (rec.usage.total_tokens or reserved):
            limits = self.limits(identity)
            if limits:
                try:
                    self.limiter.charge(self._key(identity), limits, rec.usage.total_tokens - reserved)
                except LimiterUnavailable:
                    degraded = True
                    self._emit("degraded", "log")
        for sink in self.sinks:
            try:
                sink.record(rec)
            except Exception as exc:  # noqa: BLE001 - one broken sink must not stop the others
                log_event("meter_sink_failed", level="warn", plugin=PLUGIN, error_class=type(exc).__name__)
        log_event(
            "llm_request",
            plugin=PLUGIN,
            phase="log",
            role=rec.role,
            consumer=rec.consumer,
            consumer_id=rec.consumer_id,
            model=rec.model,
            provider=rec.provider,
            client_api=rec.client_api,
            status=rec.status,
            latency_ms=round(rec.duration_s * 1000) if rec.duration_s is not None else None,
            upstream_latency_ms=rec.upstream_latency_ms,
            input_tokens=rec.input_tokens,
            output_tokens=rec.usage.output_tokens,
            cache_read_tokens=rec.usage.cache_read_tokens or None,
            cache_write_tokens=rec.usage.cache_write_tokens or None,
            total_tokens=rec.usage.total_tokens,
            cost_usd=round(rec.cost_usd, 8),
            error_type=rec.error_label,
            reserved=reserved or None,
            degraded=degraded or None,
        )
        return rec

    def _key(self, identity: Identity) -> str:
        return f"{self.namespace}:{identity.subject}"

    def _emit(self, what: str, *args: Any) -> None:
        for sink in self.sinks:
            fn = getattr(sink, what, None)
            if fn is not None:
                try:
                    fn(*args)
                except Exception as exc:  # noqa: BLE001
                    log_event("meter_sink_failed", level="warn", plugin=PLUGIN, error_class=type(exc).__name__)


def metrics_endpoint(conf: Mapping[str, Any]) -> tuple[int, str]:
    """Where this server serves /metrics; TOKEN_METER_METRICS_PORT overrides the config (two
    gateways on one host, or 0 to serve nothing)."""
    env = os.environ.get(METRICS_PORT_ENV, "")
    port = int(env) if env.isdigit() else int(conf.get("metrics_port") or 0)
    return port, str(conf.get("metrics_address") or "0.0.0.0")


def redis_settings(conf: Mapping[str, Any]) -> RedisSettings:
    return RedisSettings(
        host=str(conf.get("redis_host") or "127.0.0.1"),
        port=int(conf.get("redis_port") or 6379),
        database=int(conf.get("redis_database") or 0),
        username=conf.get("redis_username") or None,
        password=conf.get("redis_password") or None,
        ssl=bool(conf.get("redis_ssl", False)),
        ssl_verify=bool(conf.get("redis_ssl_verify", True)),
        ssl_ca_file=conf.get("redis_ssl_ca_file") or None,
        timeout_ms=int(conf.get("redis_timeout_ms") or 200),
        key_prefix=str(conf.get("redis_key_prefix") or "kong_tm:"),
        cluster=bool(conf.get("redis_cluster", False)),
    )


def _sinks(conf: Mapping[str, Any]) -> list[Any]:
    sinks: list[Any] = []
    namespace = str(conf.get("cloudwatch_namespace") or "KongBedrockGateway")
    consumer_dim = bool(conf.get("cloudwatch_consumer_dimension", False))
    emf = str(conf.get("cloudwatch_emf") or "off")
    if emf != "off":
        sinks.append(cloudwatch.shared_emf_writer(cloudwatch.EmfSettings(namespace, emf, consumer_dim)))
    if conf.get("cloudwatch_put_metrics"):
        put = cloudwatch.PutSettings(
            namespace=namespace,
            region=conf.get("cloudwatch_region") or None,
            endpoint_url=conf.get("cloudwatch_endpoint_url") or None,
            flush_seconds=float(conf.get("cloudwatch_flush_seconds") or 60),
            consumer_dimension=consumer_dim,
        )
        sinks.append(cloudwatch.shared_publisher(put))
    if conf.get("dogstatsd_host"):
        dd = dogstatsd.DogStatsdSettings(
            host=str(conf["dogstatsd_host"]),
            port=int(conf.get("dogstatsd_port") or 8125),
            namespace=str(conf.get("dogstatsd_namespace") or "kong_bedrock"),
            tags=tuple(_strings(conf.get("dogstatsd_tags"))),
        )
        sinks.append(dogstatsd.shared_dogstatsd(dd))
    return sinks


def _pricing(value: Any) -> dict[str, dict[str, float]] | None:
    if not isinstance(value, Mapping) or not value:
        return None
    out: dict[str, dict[str, float]] = {}
    for model, price in value.items():
        if isinstance(price, Mapping):
            out[str(model)] = {k: float(v) for k, v in price.items() if isinstance(v, int | float)}
    return out or None


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else []


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0
