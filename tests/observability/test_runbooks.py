"""The runbooks name real things: their PromQL parses (promtool) and uses exported metrics and
labels, their jq filters use logged fields, their links resolve; and these checks bite."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kong_plugins.core.logging import ALLOWED_FIELDS
from tests.observability import dashboard_checks as dc

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "docs" / "runbooks"
INCIDENT = RUNBOOKS / "incident-response.md"
DOCS = [INCIDENT, RUNBOOKS / "deployment.md", ROOT / "docs" / "examples.md"]


def promql(text: str) -> list[str]:
    spans = re.findall(r"`([^`\n]+)`", text)
    return [s for s in spans if "kong_" in s and "(" in s and not re.search(r"kubectl|curl|jq|docker|sed", s)]


def metric_labels() -> dict[str, set[str]]:
    """Label names per exported sample name, from prometheus-client's registry."""
    from prometheus_client import REGISTRY

    dc.exported_metrics()  # defines every plugin's metrics
    out: dict[str, set[str]] = {}
    for family in REGISTRY.collect():
        if not family.name.startswith("kong_"):
            continue
        labels = set(getattr(REGISTRY._names_to_collectors.get(family.name), "_labelnames", ()))
        if family.type == "counter":
            out[family.name + "_total"] = labels
        elif family.type == "histogram":
            out.update({family.name + s: labels | {"le"} for s in ("_bucket", "_sum", "_count")})
        else:
            out[family.name] = labels
    return out


def label_problems(expr: str, labels: dict[str, set[str]]) -> list[str]:
    used = {name.strip() for group in re.findall(r"by \(([^)]*)\)", expr) for name in group.split(",")}
    ours = [m for m in dc.referenced_metrics(expr) if m in labels]
    if not ours:
        return []
    available = set().union(*(labels[m] for m in ours))
    return [f"{expr}: no label {sorted(used - available)}"] if used - available else []


def jq_fields(text: str) -> set[str]:
    """Fields read by the jq filters `[.a,.b]` and `{a,b}` in the runbook's commands."""
    fields: set[str] = set()
    for program in re.findall(r"jq -[rc] '([^']+)'", text):
        fields.update(re.findall(r"\.([a-z_]+)", program))
        for group in re.findall(r"\{([a-z_,]+)\}", program):
            fields.update(group.split(","))
    return fields


def link_problems(path: Path) -> list[str]:
    problems = []
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
        if target.startswith("http"):
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            problems.append(f"{path.name}: {target}: no such file")
        elif anchor and anchor not in {_anchor(h) for h in re.findall(r"(?m)^#+ (.+)$", dest.read_text())}:
            problems.append(f"{path.name}: {target}: no such section")
    return problems


def _anchor(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_runbook_promql_is_valid(tmp_path):
    exprs = promql(INCIDENT.read_text())
    assert len(exprs) >= 8
    r = dc.promtool_check(exprs, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_runbook_metrics_and_labels_exist():
    labels = metric_labels()
    known = set(labels) | dc.KONG_METRICS
    for expr in promql(INCIDENT.read_text()):
        assert not dc.referenced_metrics(expr) - known, expr
        assert not label_problems(expr, labels)


def test_runbook_log_filters_use_logged_fields():
    fields = jq_fields(INCIDENT.read_text())
    assert {"consumer", "role", "total_tokens", "error_type", "model", "attempts"} <= fields
    assert fields <= ALLOWED_FIELDS, fields - ALLOWED_FIELDS


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_links_resolve(path):
    assert not link_problems(path)


# -- seeded breakage ------------------------------------------------------------------------


def test_a_wrong_metric_a_wrong_label_and_a_wrong_field_are_caught(tmp_path):
    text = INCIDENT.read_text()
    labels = metric_labels()
    broken = text.replace("kong_bedrock_rate_limited_total", "kong_bedrock_ratelimited_total", 1)
    assert any("kong_bedrock_ratelimited_total" in dc.referenced_metrics(e) - set(labels) for e in promql(broken))
    broken = text.replace("sum by (type)", "sum by (error_type)", 1)
    assert any(label_problems(e, labels) for e in promql(broken))
    broken = text.replace("{model,error_type,status}", "{model,error,status}", 1)
    assert "error" in jq_fields(broken) - ALLOWED_FIELDS
    broken_exprs = promql(text.replace("[5m]))", "[5m])))", 1))
    assert dc.promtool_check(broken_exprs, tmp_path).returncode != 0


def test_a_broken_link_is_caught(tmp_path):
    copy = tmp_path / "runbooks" / "deployment.md"
    copy.parent.mkdir()
    copy.write_text("[x](../deployment.md#no-such-section) [y](missing.md)")
    (tmp_path / "deployment.md").write_text("# Title\n")
    assert len(link_problems(copy)) == 2
