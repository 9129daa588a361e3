"""CloudWatch alarms of the bedrock Terraform module (alarms.tf): HCL parses, every metric is
one Bedrock publishes or one token-meter really writes, and the checks fail on seeded breakage."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from kong_plugins.core.usage import Usage
from kong_plugins.testing.validate import terraform as tfcheck
from kong_plugins.token_meter.cloudwatch import EmfSettings, EmfWriter
from kong_plugins.token_meter.metering import Record
from kong_plugins.token_meter.schema import SCHEMA as TOKEN_METER_SCHEMA

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "infra" / "terraform" / "modules" / "bedrock"
ALARMS = MODULE / "alarms.tf"
ALARM_FILES = (ALARMS, MODULE / "alarms_variables.tf")
RUNBOOK = ROOT / "docs" / "runbooks" / "incident-response.md"

# What Bedrock publishes in AWS/Bedrock, dimension ModelId (shared/reference/bedrock-gemini-api.md, 7.1).
BEDROCK_METRICS = frozenset(
    {
        "Invocations",
        "InvocationLatency",
        "InvocationClientErrors",
        "InvocationServerErrors",
        "InvocationThrottles",
        "InputTokenCount",
        "OutputTokenCount",
        "LegacyModelInvocations",
        "OutputImageCount",
        "ModelInvocationLogsCloudWatchDeliverySuccess",
        "ModelInvocationLogsCloudWatchDeliveryFailure",
        "ModelInvocationLogsS3DeliverySuccess",
        "ModelInvocationLogsS3DeliveryFailure",
        "TimeToFirstToken",
        "EstimatedTPMQuotaUsage",
    }
)
OUR_NAMESPACE = "${var.cloudwatch_namespace}"  # the namespace the module's IAM policy allows
MI_QUERY = re.compile(
    r'^SELECT (?P<fn>AVG|SUM|MIN|MAX|COUNT)\((?P<metric>\w+)\) FROM SCHEMA\("(?P<ns>[^"]+)", (?P<dims>[\w, ]+)\)'
    r"(?: GROUP BY (?P<group>\w+)(?: ORDER BY \w+\(\) (?:ASC|DESC))?)?$"
)


def our_metrics() -> tuple[frozenset[str], frozenset[str]]:
    """(metric names, dimension names) of an EMF line that token-meter writes for a request."""
    rec = Record(role="guest", status=200, model="m", usage=Usage(input_tokens=1, output_tokens=1), duration_s=0.1)
    directive = json.loads(EmfWriter(EmfSettings()).line(rec))["_aws"]["CloudWatchMetrics"][0]
    dims = {d for dimset in directive["Dimensions"] for d in dimset}
    return frozenset(m["Name"] for m in directive["Metrics"]), frozenset(dims)


def _s(value: Any) -> str:
    return tfcheck._s(value)


def alarms(text: str) -> dict[str, dict[str, Any]]:
    doc = hcl2.loads(text)
    out = {}
    for block in doc.get("resource", []):
        for kind, named in block.items():
            if kind.strip('"') != "aws_cloudwatch_metric_alarm":
                continue
            for name, body in named.items():
                if name != "__is_block__":
                    out[name.strip('"')] = body
    return out


def locals_of(text: str) -> dict[str, str]:
    doc = hcl2.loads(text)
    return {k: _s(v) for block in doc.get("locals", []) for k, v in block.items() if k != "__is_block__"}


def metric_refs(body: dict[str, Any], local_values: dict[str, str]) -> list[tuple[str, str, set[str]]]:
    """(namespace, metric name, dimension names) of every metric an alarm reads."""
    refs: list[tuple[str, str, set[str]]] = []
    if "metric_name" in body:
        refs.append((_s(body["namespace"]), _s(body["metric_name"]), set(body.get("dimensions", {}))))
    for query in body.get("metric_query", []):
        for metric in query.get("metric", []):
            refs.append((_s(metric["namespace"]), _s(metric["metric_name"]), set(metric.get("dimensions", {}))))
        expr = _s(query.get("expression", ""))
        if expr.upper().startswith("SELECT"):
            for name, value in local_values.items():
                expr = expr.replace("${local." + name + "}", value)
            expr = expr.replace('\\"', '"')
            m = MI_QUERY.match(expr)
            if not m:
                refs.append(("?", f"unparsable Metrics Insights query: {expr}", set()))
                continue
            dims = {d.strip() for d in m["dims"].split(",")}
            refs.append((m["ns"], m["metric"], dims))
            if m["group"] and m["group"] not in dims:
                refs.append(("?", f"GROUP BY {m['group']} is not a dimension of the schema", set()))
    return refs


def each_values(body: dict[str, Any]) -> list[str]:
    """The literal strings of `for_each = toset([...])`; other for_each values are not expanded."""
    m = re.fullmatch(r"\$\{toset\(\[(.*)\]\)\}", str(body.get("for_each", "")))
    return re.findall(r'"([^"]*)"', m.group(1)) if m else []


def all_refs(body: dict[str, Any], local_values: dict[str, str]) -> list[tuple[str, str, set[str]]]:
    values = each_values(body)
    if not values:
        return metric_refs(body, local_values)
    return [
        r for v in values for r in metric_refs(json.loads(json.dumps(body).replace("${each.value}", v)), local_values)
    ]


def problems(text: str) -> list[str]:
    names, dims = our_metrics()
    found = alarms(text)
    out = [] if found else ["no aws_cloudwatch_metric_alarm"]
    local_values = locals_of(text)
    runbook = RUNBOOK.read_text().lower().replace("`", "")
    for alarm, body in found.items():
        refs = all_refs(body, local_values)
        if not refs:
            out.append(f"{alarm}: reads no metric")
        for ns, metric, used_dims in refs:
            if ns == "AWS/Bedrock":
                if metric not in BEDROCK_METRICS:
                    out.append(f"{alarm}: {metric} is not a metric Bedrock publishes")
                if used_dims != {"ModelId"}:
                    out.append(f"{alarm}: AWS/Bedrock dimensions {sorted(used_dims)} != ['ModelId']")
            elif ns == OUR_NAMESPACE:
                if metric not in names:
                    out.append(f"{alarm}: token-meter publishes no {metric} (it publishes {sorted(names)})")
                if used_dims != dims:
                    out.append(f"{alarm}: dimensions {sorted(used_dims)} != token-meter's {sorted(dims)}")
            else:
                out.append(f"{alarm}: namespace {ns} / {metric}: neither AWS/Bedrock nor {OUR_NAMESPACE}")
        for key in ("comparison_operator", "threshold", "evaluation_periods", "alarm_actions"):
            if key not in body:
                out.append(f"{alarm}: no {key}")
        anchor = re.search(r"#([a-z0-9-]+)", _s(body.get("alarm_description", "")))
        if not anchor or f"## {anchor.group(1)}\n" not in runbook:
            out.append(f"{alarm}: alarm_description does not link to a runbook section")
    return out


def test_alarm_files_parse_and_follow_the_module_conventions():
    for path in ALARM_FILES:
        doc, errors = tfcheck.parse(path)
        assert not errors and doc is not None
        assert not tfcheck.check_structure(path, doc)
        assert not tfcheck.fmt_problems(path, path.read_text())


def test_every_alarm_reads_a_metric_that_exists():
    assert problems(ALARMS.read_text()) == []


def test_alarms_cover_bedrock_and_the_gateway():
    found = alarms(ALARMS.read_text())
    local_values = locals_of(ALARMS.read_text())
    read = {(ns, metric) for body in found.values() for ns, metric, _ in all_refs(body, local_values)}
    for metric in ("InvocationThrottles", "InvocationServerErrors", "InvocationLatency"):
        assert ("AWS/Bedrock", metric) in read, metric
    assert {m for ns, m in read if ns == OUR_NAMESPACE} >= {"Errors", "InputTokens", "OutputTokens"}


def test_the_namespace_matches_what_production_token_meter_writes():
    """The env root passes its cloudwatch_namespace to the module (IAM + alarms); kong-prod.yaml's
    token-meter (or its schema default) must write to that same namespace."""
    env = hcl2.loads((ROOT / "infra" / "terraform" / "envs" / "prod" / "variables.tf").read_text())
    variables = {_s(k): v for block in env["variable"] for k, v in block.items() if k != "__is_block__"}
    tf_ns = _s(variables["cloudwatch_namespace"]["default"])
    default = next(f["cloudwatch_namespace"]["default"] for f in TOKEN_METER_SCHEMA if "cloudwatch_namespace" in f)
    prod = yaml.safe_load((ROOT / "kong-prod.yaml").read_text())
    plugins = [*prod.get("plugins", []), *(p for s in prod.get("services", []) for p in s.get("plugins", []))]
    meter = next(p for p in plugins if p["name"] == "token-meter")
    assert (meter.get("config") or {}).get("cloudwatch_namespace", default) == tf_ns


# -- seeded breakage ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('"InvocationThrottles"', '"InvocationThrottle"', "not a metric Bedrock publishes"),
        ('"AWS/Bedrock"', '"AWS/BedrockRuntime"', "neither AWS/Bedrock"),
        ("SELECT AVG(Errors)", "SELECT AVG(ErrorCount)", "token-meter publishes no ErrorCount"),
        ('\\", Model, Role)', '\\", ModelId, Role)', "dimensions ['ModelId', 'Role']"),
        ("GROUP BY Role", "GROUP BY Consumer", "GROUP BY Consumer is not a dimension"),
        ("dimensions          = { ModelId", "dimensions          = { Model", "AWS/Bedrock dimensions ['Model']"),
        ("#llmgatewayhighlatencyp99", "#p99", "does not link to a runbook section"),
    ],
)
def test_a_seeded_breakage_is_caught(old, new, needle):
    text = ALARMS.read_text()
    assert old in text
    found = problems(text.replace(old, new, 1))
    assert any(needle in p for p in found), found


def test_broken_hcl_fails(tmp_path):
    path = tmp_path / "alarms.tf"
    path.write_text(ALARMS.read_text().replace("metric_query {", "metric_query {{", 1))
    doc, errors = tfcheck.parse(path)
    assert doc is None and errors and "HCL parse error" in errors[0]
