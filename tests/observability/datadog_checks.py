"""Checks on infra/datadog/: a JSON schema for monitors and the dashboard, query sanity, and
metric names taken from what token-meter's DogStatsD sink really sends over UDP."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from kong_plugins.core.usage import Usage
from kong_plugins.token_meter.dogstatsd import DogStatsdSettings, DogStatsdSink
from kong_plugins.token_meter.metering import Record

ROOT = Path(__file__).resolve().parents[2]
DATADOG = ROOT / "infra" / "datadog"
MONITORS = DATADOG / "monitors.json"
DASHBOARD = DATADOG / "dashboard.json"
AGENT_VALUES = DATADOG / "agent-values.yaml"

# What the Datadog agent makes of a DogStatsD histogram (`h`) without extra config:
# histogram_aggregates max, median, avg, count and histogram_percentiles 0.95.
AGENT_DEFAULT_AGGREGATES = ("avg", "count", "median", "max")

MONITOR_TYPES = ("query alert", "metric alert")

# Monitor body of Datadog's "Create a monitor" API (v1), as far as we use it.
MONITOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "type", "query", "message", "tags", "priority", "options"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "type": {"enum": list(MONITOR_TYPES)},
        "query": {"type": "string", "minLength": 1},
        "message": {"type": "string", "pattern": r"docs/runbooks/incident-response\.md#[a-z0-9-]+"},
        "tags": {"type": "array", "items": {"type": "string", "pattern": r"^[a-z0-9_./-]+:[A-Za-z0-9_./-]+$"}},
        "priority": {"type": "integer", "minimum": 1, "maximum": 5},
        "options": {
            "type": "object",
            "required": ["thresholds", "notify_no_data", "require_full_window"],
            "properties": {
                "thresholds": {
                    "type": "object",
                    "required": ["critical"],
                    "additionalProperties": False,
                    "properties": {
                        "critical": {"type": "number"},
                        "warning": {"type": "number"},
                        "critical_recovery": {"type": "number"},
                        "warning_recovery": {"type": "number"},
                    },
                },
                "notify_no_data": {"type": "boolean"},
                "require_full_window": {"type": "boolean"},
                "evaluation_delay": {"type": "integer", "minimum": 0},
                "renotify_interval": {"type": "integer", "minimum": 0},
                "include_tags": {"type": "boolean"},
                "new_group_delay": {"type": "integer", "minimum": 0},
            },
        },
    },
}

_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["queries", "formulas", "response_format"],
    "properties": {
        "response_format": {"enum": ["timeseries", "scalar"]},
        "queries": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["data_source", "name", "query"],
                "properties": {
                    "data_source": {"const": "metrics"},
                    "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                    "query": {"type": "string"},
                },
            },
        },
        "formulas": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "object", "required": ["formula"], "properties": {"formula": {"type": "string"}}},
        },
    },
}

DASHBOARD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["title", "layout_type", "widgets", "template_variables", "description"],
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "layout_type": {"enum": ["ordered", "free"]},
        "description": {"type": "string"},
        "template_variables": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "prefix", "default"],
                "properties": {"name": {"type": "string"}, "prefix": {"type": "string"}},
            },
        },
        "widgets": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/widget"}},
    },
    "$defs": {
        "widget": {
            "type": "object",
            "required": ["definition"],
            "properties": {
                "definition": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {"enum": ["timeseries", "query_value", "toplist", "note", "group"]},
                        "title": {"type": "string", "minLength": 1},
                        "requests": {"type": "array", "minItems": 1, "items": _REQUEST},
                        "widgets": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/widget"}},
                    },
                    "allOf": [
                        {
                            "if": {"properties": {"type": {"const": "note"}}},
                            "then": {"required": ["content"]},
                            "else": {"required": ["title"]},
                        },
                        {
                            "if": {"properties": {"type": {"enum": ["timeseries", "query_value", "toplist"]}}},
                            "then": {"required": ["requests"]},
                        },
                        {"if": {"properties": {"type": {"const": "group"}}}, "then": {"required": ["widgets"]}},
                    ],
                }
            },
        },
    },
}

# `<window>(last_<n><unit>):<metric query> <op> <number>`
MONITOR_QUERY = re.compile(
    r"^(?P<agg>avg|sum|min|max|change|pct_change)\(last_(?P<n>\d+)(?P<unit>[mhdw])\):"
    r"(?P<expr>.+?)\s*(?P<op>>=|<=|>|<)\s*(?P<threshold>-?\d+(?:\.\d+)?)$"
)
# `<space aggregator>:<metric>{<scope>}[ by {<tags>}]`
METRIC_TERM = re.compile(
    r"(?P<agg>avg|sum|min|max):(?P<metric>[a-z][a-z0-9_.]*)\{(?P<scope>[^}]*)\}(?:\s*by\s*\{(?P<by>[^}]*)\})?"
)


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def schema_errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(instance)]


def _balanced(expr: str) -> bool:
    depth = 0
    for ch in expr:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def monitor_problems(monitor: dict[str, Any]) -> list[str]:
    """Schema, query syntax, and the query's threshold against options.thresholds."""
    name = monitor.get("name", "?") if isinstance(monitor, dict) else "?"
    problems = [f"{name}: {e}" for e in schema_errors(monitor, MONITOR_SCHEMA)]
    if problems:
        return problems
    m = MONITOR_QUERY.match(monitor["query"])
    if not m:
        return [f"{name}: query is not `<agg>(last_<n><m|h|d|w>):<metric query> <op> <threshold>`"]
    if not _balanced(m["expr"]) or not METRIC_TERM.search(m["expr"]):
        problems.append(f"{name}: metric query is malformed: {m['expr']}")
    thresholds = monitor["options"]["thresholds"]
    critical = float(m["threshold"])
    if thresholds["critical"] != critical:
        problems.append(f"{name}: query threshold {critical} != options.thresholds.critical {thresholds['critical']}")
    warning = thresholds.get("warning")
    if warning is not None:
        above = m["op"] in (">", ">=")
        if (above and warning >= critical) or (not above and warning <= critical):
            problems.append(f"{name}: warning {warning} is not on the safe side of critical {critical}")
    return problems


def metric_terms(query: str) -> list[re.Match[str]]:
    return list(METRIC_TERM.finditer(query))


def monitor_queries(monitors: list[dict[str, Any]]) -> list[str]:
    return [m["query"] for m in monitors]


def dashboard_queries(dashboard: dict[str, Any]) -> list[str]:
    out: list[str] = []

    def walk(widgets: list[dict[str, Any]]) -> None:
        for w in widgets:
            d = w.get("definition", {})
            for r in d.get("requests", []):
                out.extend(q["query"] for q in r.get("queries", []))
            walk(d.get("widgets", []))

    walk(dashboard.get("widgets", []))
    return out


# -- what the code emits ------------------------------------------------------------------


def _sample_records() -> list[Record]:
    ok = Record(
        role="developer",
        status=200,
        model="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        consumer="dev-user-1",
        usage=Usage(input_tokens=12, output_tokens=7),
        cost_usd=0.0001,
        duration_s=0.8,
    )
    failed = Record(role="guest", status=429, error_type="ThrottlingException", duration_s=0.1)
    return [ok, failed]


def emitted_dogstatsd(timeout: float = 5.0) -> dict[str, tuple[str, frozenset[str]]]:
    """{metric name: (DogStatsD type, tag keys)} as DogStatsdSink sends them to a real UDP socket."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(timeout)
    try:
        port = sock.getsockname()[1]
        sink = DogStatsdSink(DogStatsdSettings(host="127.0.0.1", port=port, flush_seconds=0.05))
        for rec in _sample_records():
            sink.record(rec)
        sink.rate_limited("guest-user", "guest")
        sink.degraded("access")
        sink.flush()
        seen: dict[str, tuple[str, set[str]]] = {}
        # rate_limited and degraded are the last two calls: wait until both arrived.
        while not {"kong_bedrock.rate_limited", "kong_bedrock.ratelimit.degraded"} <= seen.keys():
            data, _ = sock.recvfrom(65535)
            for line in data.decode().splitlines():
                name, rest = line.split(":", 1)
                fields = rest.split("|")
                tags = next((f[1:].split(",") for f in fields if f.startswith("#")), [])
                kind, keys = seen.setdefault(name, (fields[1], set()))
                keys.update(t.split(":", 1)[0] for t in tags)
        sink.client.close_socket()
        return {n: (k, frozenset(t)) for n, (k, t) in seen.items()}
    finally:
        sock.close()


def agent_percentiles(path: Path = AGENT_VALUES) -> list[str]:
    """histogram_percentiles of our Datadog agent values (DD_HISTOGRAM_PERCENTILES)."""
    values = yaml.safe_load(path.read_text())
    env = {e["name"]: e["value"] for e in values["datadog"]["env"]}
    return env["DD_HISTOGRAM_PERCENTILES"].split()


def queryable_metrics(
    emitted: dict[str, tuple[str, frozenset[str]]], percentiles: list[str]
) -> dict[str, frozenset[str]]:
    """Names a Datadog query can use, with their tag keys: counters as sent, histograms as
    the agent's aggregates (`.avg`, `.max`, `.95percentile`, ...)."""
    out: dict[str, frozenset[str]] = {}
    suffixes = [*AGENT_DEFAULT_AGGREGATES, *(f"{round(float(p) * 100)}percentile" for p in percentiles)]
    for name, (kind, tags) in emitted.items():
        if kind in ("h", "ms"):
            out.update({f"{name}.{s}": tags for s in suffixes})
        else:
            out[name] = tags
    return out


def unknown_metric_problems(queries: list[str], known: dict[str, frozenset[str]]) -> list[str]:
    """Metrics the code does not emit, and tags a metric does not carry (scope and `by`)."""
    problems: list[str] = []
    for query in queries:
        terms = metric_terms(query)
        if not terms:
            problems.append(f"no metric in {query!r}")
        for t in terms:
            metric = t["metric"]
            if metric not in known:
                problems.append(f"unknown metric {metric} in {query!r}")
                continue
            used = {s.split(":", 1)[0].lstrip("!") for s in t["scope"].split(",") if s.strip() not in ("*", "")}
            used |= {b.strip() for b in (t["by"] or "").split(",") if b.strip()}
            used = {u for u in used if not u.startswith("$")}
            extra = used - known[metric] - {"env", "service", "host", "kube_namespace", "pod_name"}
            if extra:
                problems.append(f"{metric} has no tag {sorted(extra)} in {query!r}")
    return problems
