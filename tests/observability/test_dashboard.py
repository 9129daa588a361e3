"""grafana-local.json: valid PromQL, real metric names, datasource variable, and the checks bite."""

import copy

import pytest

from tests.observability import dashboard_checks as dc


@pytest.fixture(scope="module")
def dashboard():
    return dc.load()


def test_uses_a_datasource_variable_and_a_current_schema(dashboard):
    assert dashboard["schemaVersion"] >= 39
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    for p in dc.panels(dashboard):
        assert p["datasource"]["uid"] == "${datasource}", p["title"]
        for t in p.get("targets", []):
            assert t["datasource"]["uid"] == "${datasource}"


def test_covers_what_operators_look_at(dashboard):
    titles = " | ".join(p["title"].lower() for p in dc.panels(dashboard))
    for needle in (
        "input tokens",
        "output tokens",
        "errors by type",
        "error rate",
        "p99",
        "cost per hour",
        "last 24 hours",
        "rate-limit hits by consumer",
        "guardrail decisions",
        "kong requests",
    ):
        assert needle in titles, needle


def test_every_expression_is_valid_promql(dashboard, tmp_path):
    exprs = dc.expressions(dashboard)
    assert len(exprs) >= 15
    r = dc.promtool_check(exprs, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_metric_is_exported_by_the_code_or_by_kong(dashboard):
    known = dc.exported_metrics() | dc.KONG_METRICS
    for expr in dc.expressions(dashboard):
        unknown = dc.referenced_metrics(expr) - known
        assert not unknown, f"{unknown} in {expr}"


def test_promql_check_fails_on_a_broken_expression(dashboard, tmp_path):
    exprs = dc.expressions(dashboard)
    exprs[0] = exprs[0].replace("rate(", "rate((", 1)
    assert dc.promtool_check(exprs, tmp_path).returncode != 0


def test_metric_check_fails_on_an_unknown_metric(dashboard):
    broken = copy.deepcopy(dashboard)
    broken["panels"][0]["targets"][0]["expr"] = "sum(rate(kong_bedrock_tokens_in_total[5m]))"
    known = dc.exported_metrics() | dc.KONG_METRICS
    unknown = set().union(*(dc.referenced_metrics(e) - known for e in dc.expressions(broken)))
    assert unknown == {"kong_bedrock_tokens_in_total"}
