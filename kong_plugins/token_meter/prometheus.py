"""Prometheus metrics of token-meter (names from the design; labels in docs/metrics.md).

Every label has a bounded set of values: role (the six roles), model (the configured
models, "other", or "none" when no model was called), status_class (2xx..5xx), type (a
fixed list in metering.ERROR_TYPES), consumer (Kong consumers, capped per process).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kong_plugins.core import metrics
from kong_plugins.core.identity import ROLES
from kong_plugins.core.metrics import BoundedLabel
from kong_plugins.core.pricing import PRICES, split_model_id
from kong_plugins.token_meter.metering import NO_MODEL, Record

# LLM calls take seconds, not milliseconds; 30 s is the p99 alert threshold.
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)


def _defs() -> dict[str, Any]:
    return {
        "input": metrics.counter("kong_bedrock_tokens_input", "Prompt tokens, cached included", ["model", "role"]),
        "output": metrics.counter("kong_bedrock_tokens_output", "Completion tokens", ["model", "role"]),
        "duration": metrics.histogram(
            "kong_bedrock_request_duration_seconds",
            "Request duration seen by the gateway",
            ["model", "role"],
            DURATION_BUCKETS,
        ),
        # A gauge so the series carries the design's exact name; it only ever increases.
        "cost": metrics.gauge("kong_bedrock_cost_estimate_dollars", "Estimated cost in USD", ["model", "role"]),
        "requests": metrics.counter("kong_bedrock_requests", "Requests", ["model", "role", "status_class"]),
        "errors": metrics.counter("kong_bedrock_errors", "Failed requests by error type", ["type"]),
        "rate_limited": metrics.counter(
            "kong_bedrock_rate_limited", "Requests refused by the token limit", ["consumer", "role"]
        ),
        "degraded": metrics.counter(
            "kong_bedrock_ratelimit_degraded",
            "Limiter store unreachable: requests let through (or refused when not fault tolerant)",
            ["dependency", "phase"],
        ),
    }


class PrometheusSink:
    def __init__(self, models: Sequence[str] = (), consumer_label_limit: int = 200) -> None:
        self.m = _defs()
        self.models = frozenset(models or PRICES)
        self.consumer_label = BoundedLabel(consumer_label_limit)
        self._children: dict[tuple[str, ...], Any] = {}  # bounded: every label is bounded

    def model_label(self, model: str) -> str:
        if model == NO_MODEL or model in self.models:
            return model
        base, _ = split_model_id(model)
        return base if base in self.models else metrics.OTHER

    def child(self, metric: str, *labels: str) -> Any:
        """The labelled child, cached: labels() takes a lock and builds a key every call."""
        key = (metric, *labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = self.m[metric].labels(*labels)
        return found

    def record(self, rec: Record) -> None:
        model, role = self.model_label(rec.model), _role(rec.role)
        if rec.input_tokens:
            self.child("input", model, role).inc(rec.input_tokens)
        if rec.usage.output_tokens:
            self.child("output", model, role).inc(rec.usage.output_tokens)
        if rec.cost_usd > 0:
            self.child("cost", model, role).inc(rec.cost_usd)
        if rec.duration_s is not None:
            self.child("duration", model, role).observe(rec.duration_s)
        self.child("requests", model, role, rec.status_class).inc()
        if rec.error_label:
            self.child("errors", rec.error_label).inc()

    def rate_limited(self, consumer: str | None, role: str) -> None:
        self.child("rate_limited", self.consumer_label(consumer), _role(role)).inc()

    def degraded(self, phase: str, dependency: str = "redis") -> None:
        self.child("degraded", dependency, phase).inc()


def _role(role: str) -> str:
    return role if role in ROLES else metrics.OTHER
