"""Prometheus metrics shared by the plugin servers: one registry, one /metrics endpoint.

Each plugin server is its own process. To get every plugin's metrics on one endpoint,
run all servers with the same `PROMETHEUS_MULTIPROC_DIR` (an empty directory, wiped before
Kong starts): prometheus-client then keeps every value in a per-process mmap file there, and
the endpoint that token-meter serves aggregates all files of the directory, so it shows the
guardrails server's counters too. The variable must be set before prometheus_client is
imported (the plugin servers inherit it from Kong's environment).

Without the variable each process has its own in-memory registry; a metric then appears
only on an endpoint served by the process that defined it.

Metrics are defined through `counter`/`gauge`/`histogram`, which return the existing object
on a second call: Kong renews plugin instances on every config change, and a second
registration of the same name would raise.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import disable_created_metrics as _disable_created
from prometheus_client.exposition import generate_latest, start_http_server

from kong_plugins.core.logging import log_event

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
DEFAULT_PORT = 9542
OTHER = "other"

# `_created` series are not produced in multiprocess mode; drop them in both modes so the
# output does not depend on how the server runs.
_disable_created()

_lock = threading.Lock()
_metrics: dict[str, Any] = {}
_server: dict[str, Any] = {}


def multiprocess_dir() -> str | None:
    path = os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower())
    if path:
        os.makedirs(path, exist_ok=True)
    return path or None


def _get_or_create(kind: type, name: str, documentation: str, labelnames: Sequence[str], **kwargs: Any) -> Any:
    with _lock:
        metric = _metrics.get(name)
        if metric is None:
            multiprocess_dir()  # the mmap files go there; the directory must exist
            metric = kind(name, documentation, labelnames=list(labelnames), registry=REGISTRY, **kwargs)
            _metrics[name] = metric
        return metric


def counter(name: str, documentation: str, labelnames: Sequence[str] = ()) -> Counter:
    """A counter; prometheus-client exposes it as `<name>` with a `_total` suffix."""
    metric: Counter = _get_or_create(Counter, name, documentation, labelnames)
    return metric


def gauge(name: str, documentation: str, labelnames: Sequence[str] = (), multiprocess_mode: str = "sum") -> Gauge:
    """A gauge. In multiprocess mode the values of all processes are summed by default."""
    metric: Gauge = _get_or_create(Gauge, name, documentation, labelnames, multiprocess_mode=multiprocess_mode)
    return metric


def histogram(name: str, documentation: str, labelnames: Sequence[str], buckets: Sequence[float]) -> Histogram:
    metric: Histogram = _get_or_create(Histogram, name, documentation, labelnames, buckets=tuple(buckets))
    return metric


def exposition_registry() -> CollectorRegistry:
    """What /metrics shows: every process's files in multiprocess mode, else this process."""
    path = multiprocess_dir()
    if not path:
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=path)
    return registry


def render() -> bytes:
    """The text exposition, as /metrics serves it (tests and benches use it directly)."""
    return generate_latest(exposition_registry())


def start_metrics_server(port: int = DEFAULT_PORT, addr: str = "0.0.0.0") -> int | None:
    """Serve /metrics from this process, once. Returns the bound port (useful with port 0),
    or None when the port could not be bound (logged; metering goes on without it)."""
    with _lock:
        if "port" in _server:
            bound: int | None = _server["port"]
            return bound
        try:
            httpd, _thread = start_http_server(port, addr=addr, registry=exposition_registry())
        except OSError as exc:
            log_event("metrics_server_failed", level="warn", error_class=type(exc).__name__)
            _server["port"] = None
            return None
        _server["port"] = httpd.server_address[1]
        _server["httpd"] = httpd
        return int(_server["port"])


class BoundedLabel:
    """Label values seen first are kept, up to `limit` distinct values; later ones become
    "other". Keeps a label fed by config entities (consumer names) from exploding."""

    def __init__(self, limit: int, allowed: Sequence[str] | None = None) -> None:
        self.limit = limit
        self.allowed = frozenset(allowed) if allowed is not None else None
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str | None) -> str:
        if not value:
            return OTHER
        if self.allowed is not None:
            return value if value in self.allowed else OTHER
        if value in self._seen:
            return value
        with self._lock:
            if len(self._seen) >= self.limit:
                return OTHER
            self._seen.add(value)
        return value
