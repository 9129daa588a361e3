"""CloudWatch, off the request path: Embedded Metric Format lines and/or batched PutMetricData.

EMF: one JSON line per request to a file (or stdout/stderr) that the CloudWatch agent or
Fluent Bit ships to CloudWatch Logs, where the metrics are extracted; no API call at all.
Prefer a file: the plugin server's stdout reaches Kong's error log with a prefix.

PutMetricData: the log phase only adds to an in-memory aggregate (per metric and dimension
set: sum, count, min, max); a background thread sends it every `flush_seconds`, at most
1,000 datums per call, and once more when the process exits.

Dimensions are Role and Model (the metrics' cost grows with every combination); Consumer is
an extra dimension set only when configured.
"""

from __future__ import annotations

import atexit
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from kong_plugins.core.logging import log_event
from kong_plugins.token_meter.metering import Record
from kong_plugins.token_meter.per_process import PerProcess

MAX_DATUMS_PER_CALL = 1000
MAX_SERIES = 20_000  # aggregate bound between flushes; beyond it new series are dropped


def _values(rec: Record) -> list[tuple[str, str, float]]:
    """(metric name, unit, value) for one request."""
    out = [
        ("Requests", "Count", 1.0),
        ("InputTokens", "Count", float(rec.input_tokens)),
        ("OutputTokens", "Count", float(rec.usage.output_tokens)),
        ("CostUSD", "None", rec.cost_usd),
        ("Errors", "Count", 1.0 if rec.error_label else 0.0),
    ]
    if rec.duration_s is not None:
        out.append(("Duration", "Milliseconds", round(rec.duration_s * 1000, 3)))
    return out


def _dimension_sets(rec: Record, consumer: bool) -> list[dict[str, str]]:
    sets = [{"Role": rec.role, "Model": rec.model}]
    if consumer and rec.consumer:
        sets.append({"Consumer": rec.consumer})
    return sets


@dataclass(frozen=True)
class EmfSettings:
    namespace: str = "KongBedrockGateway"
    target: str = "stderr"  # stdout | stderr | a file path
    consumer_dimension: bool = False


class EmfWriter:
    def __init__(self, settings: EmfSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._file: TextIO | None = None

    def _stream(self) -> TextIO:
        target = self.settings.target
        if target == "stdout":
            return sys.stdout
        if target == "stderr":
            return sys.stderr
        if self._file is None:
            self._file = open(target, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the process
        return self._file

    def line(self, rec: Record) -> str:
        values = _values(rec)
        dims = _dimension_sets(rec, self.settings.consumer_dimension)
        doc: dict[str, Any] = {
            "_aws": {
                "Timestamp": int(self.clock() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.settings.namespace,
                        "Dimensions": [sorted(d) for d in dims],
                        "Metrics": [{"Name": name, "Unit": unit} for name, unit, _ in values],
                    }
                ],
            },
        }
        for d in dims:
            doc.update(d)
        doc.update({name: value for name, _, value in values})
        doc["Status"] = rec.status  # a searchable field, not a dimension
        return json.dumps(doc, separators=(",", ":"))

    def record(self, rec: Record) -> None:
        text = self.line(rec) + "\n"
        with self._lock:
            try:
                stream = self._stream()
                stream.write(text)
                stream.flush()
            except OSError as exc:
                log_event("emf_write_failed", level="warn", error_class=type(exc).__name__)


@dataclass(frozen=True)
class PutSettings:
    namespace: str = "KongBedrockGateway"
    region: str | None = None
    endpoint_url: str | None = None
    flush_seconds: float = 60.0
    consumer_dimension: bool = False


class _Stat:
    __slots__ = ("unit", "count", "total", "low", "high")

    def __init__(self, unit: str) -> None:
        self.unit, self.count, self.total, self.low, self.high = unit, 0, 0.0, float("inf"), float("-inf")

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)


class CloudWatchPublisher:
    """Aggregates datapoints in memory; a daemon thread sends them with PutMetricData."""

    def __init__(self, settings: PutSettings, client: Any = None) -> None:
        self.settings = settings
        self._client = client
        self._lock = threading.Lock()
        self._series: dict[tuple[str, tuple[tuple[str, str], ...]], _Stat] = {}
        self._wake = threading.Event()
        self._stopped = False
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="cloudwatch-flush", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def record(self, rec: Record) -> None:
        with self._lock:
            for dims in _dimension_sets(rec, self.settings.consumer_dimension):
                key_dims = tuple(sorted(dims.items()))
                for name, unit, value in _values(rec):
                    stat = self._series.get((name, key_dims))
                    if stat is None:
                        if len(self._series) >= MAX_SERIES:
                            self.dropped += 1
                            continue
                        stat = self._series[(name, key_dims)] = _Stat(unit)
                    stat.add(value)

    def flush(self) -> int:
        """Send what has been aggregated; returns the number of PutMetricData calls."""
        with self._lock:
            series, self._series = self._series, {}
        if not series:
            return 0
        now = time.time()
        datums = [
            {
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
                "Timestamp": now,
                "Unit": stat.unit,
                "StatisticValues": {
                    "SampleCount": float(stat.count),
                    "Sum": stat.total,
                    "Minimum": stat.low,
                    "Maximum": stat.high,
                },
            }
            for (name, dims), stat in series.items()
        ]
        calls = 0
        for start in range(0, len(datums), MAX_DATUMS_PER_CALL):
            try:
                self.client().put_metric_data(
                    Namespace=self.settings.namespace, MetricData=datums[start : start + MAX_DATUMS_PER_CALL]
                )
                calls += 1
            except Exception as exc:  # noqa: BLE001 - a lost batch must not kill the flusher
                log_event("cloudwatch_put_failed", level="warn", error_class=type(exc).__name__)
        return calls

    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "cloudwatch", region_name=self.settings.region, endpoint_url=self.settings.endpoint_url
            )
        return self._client

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self.settings.flush_seconds)
            self._wake.clear()
            self.flush()

    def close(self) -> None:
        """Stop the thread and send what is left (called at exit)."""
        if self._stopped:
            return
        self._stopped = True
        self._wake.set()
        self._thread.join(timeout=10)
        self.flush()


# One publisher thread and one EMF writer per settings per process (per_process.py).
shared_publisher: PerProcess[PutSettings, CloudWatchPublisher] = PerProcess(CloudWatchPublisher)
shared_emf_writer: PerProcess[EmfSettings, EmfWriter] = PerProcess(EmfWriter)
