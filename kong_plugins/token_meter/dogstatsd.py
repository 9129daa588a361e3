"""Datadog through DogStatsD (UDP): the same numbers as Prometheus, tagged role, model, status.

The client buffers metrics and flushes them from its own thread, so a request costs no
syscall; UDP never blocks the log phase even when no agent listens.
"""

from __future__ import annotations

import atexit
from collections.abc import Sequence
from dataclasses import dataclass

from kong_plugins.token_meter.metering import Record
from kong_plugins.token_meter.per_process import PerProcess


@dataclass(frozen=True)
class DogStatsdSettings:
    host: str = "127.0.0.1"
    port: int = 8125
    namespace: str = "kong_bedrock"
    tags: tuple[str, ...] = ()
    flush_seconds: float = 1.0


class DogStatsdSink:
    def __init__(self, settings: DogStatsdSettings) -> None:
        from datadog.dogstatsd.base import DogStatsd  # only when configured: a 60 ms import

        self.client = DogStatsd(
            host=settings.host,
            port=settings.port,
            namespace=settings.namespace,
            constant_tags=list(settings.tags),
            disable_buffering=False,
            flush_interval=settings.flush_seconds,
            disable_telemetry=True,
        )

    def record(self, rec: Record) -> None:
        tags = [f"role:{rec.role}", f"model:{rec.model}", f"status:{rec.status}", f"status_class:{rec.status_class}"]
        c = self.client
        c.increment("requests", 1, tags=tags)
        if rec.input_tokens:
            c.increment("tokens.input", rec.input_tokens, tags=tags)
        if rec.usage.output_tokens:
            c.increment("tokens.output", rec.usage.output_tokens, tags=tags)
        if rec.cost_usd > 0:
            c.increment("cost_estimate_dollars", rec.cost_usd, tags=tags)
        if rec.duration_s is not None:
            c.histogram("request.duration", rec.duration_s, tags=tags)
        if rec.error_label:
            c.increment("errors", 1, tags=[*tags, f"type:{rec.error_label}"])

    def rate_limited(self, consumer: str | None, role: str) -> None:
        self.client.increment("rate_limited", 1, tags=[f"role:{role}", f"consumer:{consumer or 'other'}"])

    def degraded(self, phase: str, dependency: str = "redis") -> None:
        self.client.increment("ratelimit.degraded", 1, tags=[f"dependency:{dependency}", f"phase:{phase}"])

    def flush(self) -> None:
        self.client.flush()


def _new_sink(settings: DogStatsdSettings) -> DogStatsdSink:
    sink = DogStatsdSink(settings)
    atexit.register(sink.flush)  # the buffer would be lost on SIGTERM otherwise
    return sink


shared_dogstatsd: PerProcess[DogStatsdSettings, DogStatsdSink] = PerProcess(_new_sink)


def tags_of(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in values if v)
