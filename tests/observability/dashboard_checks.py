"""Checks on grafana-local.json shared by the tests: PromQL syntax (by promtool) and metric names."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "grafana-local.json"

# Grafana variables become concrete values so promtool can parse the expression.
GRAFANA_VARS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "$role": ".*", "$model": ".*"}

# Metrics of Kong 3.9.3's own prometheus plugin (kong/plugins/prometheus/exporter.lua).
KONG_METRICS = {
    "kong_http_requests_total",
    "kong_nginx_requests_total",
    "kong_nginx_connections_total",
    "kong_node_info",
    "kong_datastore_reachable",
    "kong_bandwidth_bytes",
    "kong_ai_llm_requests_total",
    "kong_ai_llm_cost_total",
    "kong_ai_llm_tokens_total",
    *(
        f"kong_{h}_{s}"
        for h in ("kong_latency_ms", "upstream_latency_ms", "request_latency_ms", "ai_llm_provider_latency_ms")
        for s in ("bucket", "sum", "count")
    ),
}


def load(path: Path = DASHBOARD) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in dashboard.get("panels", []):
        out.append(p)
        out.extend(p.get("panels", []))  # rows
    return out


def expressions(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in panels(dashboard) for t in p.get("targets", []) if t.get("expr")]


def concrete(expr: str) -> str:
    for var, value in GRAFANA_VARS.items():
        expr = expr.replace(var, value)
    return expr


def promtool_check(exprs: list[str], workdir: Path) -> subprocess.CompletedProcess[str]:
    """Every expression as a recording rule, checked by promtool."""
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [{"record": f"dashboard:expr_{i}", "expr": concrete(e)} for i, e in enumerate(exprs)],
            }
        ]
    }
    path = workdir / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump(rules))
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run scripts/bootstrap.sh"
    return subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)


def referenced_metrics(expr: str) -> set[str]:
    return set(re.findall(r"\b(kong_[a-z0-9_]+)\b", expr))


def exported_metrics() -> set[str]:
    """Sample names our plugin servers really export, read from prometheus-client itself."""
    from prometheus_client import REGISTRY

    # Each plugin defines its metrics on import: token-meter through _defs(), guardrails in
    # report.py. No try/except: a moved or renamed module must fail here, not hide a metric.
    from kong_plugins.ecommerce_guardrails import report  # noqa: F401
    from kong_plugins.token_meter import prometheus as tm_prometheus

    tm_prometheus._defs()
    names: set[str] = set()
    for family in REGISTRY.collect():
        if not family.name.startswith("kong_"):
            continue
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names.update(family.name + s for s in ("_bucket", "_sum", "_count"))
        else:
            names.add(family.name)
    return names
