"""infra/datadog: monitors and dashboard pass a schema, their queries are sane, every metric is
one token-meter really sends over DogStatsD, and each check fails on a seeded breakage."""

import copy
import json
import re

import pytest

from tests.observability import datadog_checks as dd

PROMETHEUS_ALERTS = ("llmgatewayhightokenusage", "llmgatewayratelimithits", "llmgatewaybedrockerrors",
                     "llmgatewayhighlatencyp99")  # fmt: skip


@pytest.fixture(scope="module")
def monitors():
    return dd.load(dd.MONITORS)


@pytest.fixture(scope="module")
def dashboard():
    return dd.load(dd.DASHBOARD)


@pytest.fixture(scope="module")
def known():
    """Queryable names with their tag keys, from a real DogStatsdSink sending to a UDP socket."""
    return dd.queryable_metrics(dd.emitted_dogstatsd(), dd.agent_percentiles())


def test_the_code_emits_what_the_monitors_rely_on(known):
    # A sanity check of the derivation itself (not of the monitors): the sink's real names.
    assert {
        "kong_bedrock.requests",
        "kong_bedrock.tokens.input",
        "kong_bedrock.errors",
        "kong_bedrock.rate_limited",
    } <= set(known)
    assert "kong_bedrock.request.duration.99percentile" in known
    assert "kong_bedrock.request.duration" not in known  # a histogram is only queryable through its aggregates
    assert {"role", "model", "status"} <= known["kong_bedrock.requests"]
    assert "type" in known["kong_bedrock.errors"]
    assert "consumer" in known["kong_bedrock.rate_limited"]


def test_monitors_pass_the_schema_and_query_checks(monitors):
    assert isinstance(monitors, list) and len(monitors) == 4
    problems = [p for m in monitors for p in dd.monitor_problems(m)]
    assert not problems, problems


def test_one_monitor_per_prometheus_alert_with_same_threshold_and_severity(monitors):
    by_alert = {next(t.split(":", 1)[1] for t in m["tags"] if t.startswith("alert:")): m for m in monitors}
    assert set(by_alert) == set(PROMETHEUS_ALERTS)
    expected = {  # alert -> (critical threshold, severity), as in deploy/prometheus/alerts.yml
        "llmgatewayhightokenusage": (100000, "warning"),
        "llmgatewayratelimithits": (10, "warning"),
        "llmgatewaybedrockerrors": (0.05, "critical"),
        "llmgatewayhighlatencyp99": (30, "warning"),
    }
    for alert, (threshold, severity) in expected.items():
        m = by_alert[alert]
        assert m["options"]["thresholds"]["critical"] == threshold, alert
        assert f"severity:{severity}" in m["tags"], alert


def test_each_monitor_links_to_its_runbook_section(monitors):
    runbook = (dd.ROOT / "docs" / "runbooks" / "incident-response.md").read_text().lower().replace("`", "")
    for m in monitors:
        anchor = re.search(r"incident-response\.md#([a-z0-9-]+)", m["message"]).group(1)
        assert f"## {anchor}\n" in runbook, anchor


def test_every_monitor_metric_is_emitted_by_the_code(monitors, known):
    assert not dd.unknown_metric_problems(dd.monitor_queries(monitors), known)


def test_dashboard_passes_the_schema(dashboard):
    assert not dd.schema_errors(dashboard, dd.DASHBOARD_SCHEMA)


def test_every_dashboard_metric_is_emitted_by_the_code(dashboard, known):
    queries = dd.dashboard_queries(dashboard)
    assert len(queries) >= 15
    assert not dd.unknown_metric_problems(queries, known)


def test_dashboard_covers_what_operators_look_at(dashboard):
    text = json.dumps(dashboard).lower()
    for needle in ("input tokens", "output tokens", "errors by type", "error rate", "p99", "cost per hour",
                   "last 24 hours", "rate-limit hits by consumer"):  # fmt: skip
        assert needle in text, needle


# -- seeded breakage: each check must bite ------------------------------------------------


def test_unknown_metric_fails(monitors, known):
    broken = copy.deepcopy(monitors)
    broken[0]["query"] = broken[0]["query"].replace("kong_bedrock.tokens.input", "kong_bedrock.tokens.in")
    assert dd.unknown_metric_problems(dd.monitor_queries(broken), known) == [
        f"unknown metric kong_bedrock.tokens.in in {broken[0]['query']!r}"
    ]


def test_histogram_without_agent_percentile_fails(monitors, known):
    """p99 exists only because agent-values.yaml asks the agent for it."""
    without_p99 = dd.queryable_metrics(dd.emitted_dogstatsd(), ["0.95"])
    problems = dd.unknown_metric_problems(dd.monitor_queries(monitors), without_p99)
    assert any("request.duration.99percentile" in p for p in problems)


def test_tag_the_metric_does_not_carry_fails(monitors, known):
    broken = copy.deepcopy(monitors)
    broken[1]["query"] = broken[1]["query"].replace("by {consumer}", "by {route}")
    assert any("has no tag ['route']" in p for p in dd.unknown_metric_problems(dd.monitor_queries(broken), known))


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        (("options", "thresholds", "critical"), 120000, "!= options.thresholds.critical"),
        (("options", "thresholds", "warning"), 150000, "not on the safe side"),
        (("query",), "sum:kong_bedrock.tokens.input{*} > 100000", "is not `<agg>(last_"),
        (("query",), "sum(last_1h):sum:kong_bedrock.tokens.input{*}.as_count() >", "is not `<agg>(last_"),
        (("query",), "sum(last_1h):(sum:kong_bedrock.tokens.input{*}.as_count() > 100000", "malformed"),
        (("type",), "log alert", "is not one of"),
        (("message",), "no runbook here", "does not match"),
    ],
)
def test_monitor_check_fails_on_a_seeded_breakage(monitors, field, value, needle):
    broken = copy.deepcopy(monitors[0])
    target = broken
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    problems = dd.monitor_problems(broken)
    assert any(needle in p for p in problems), problems


def test_missing_required_field_fails(monitors):
    broken = copy.deepcopy(monitors[2])
    del broken["options"]["thresholds"]
    assert any("'thresholds' is a required property" in p for p in dd.monitor_problems(broken))


def test_broken_json_fails(tmp_path):
    path = tmp_path / "monitors.json"
    path.write_text(dd.MONITORS.read_text().replace('"priority": 3,', '"priority": 3', 1))
    with pytest.raises(json.JSONDecodeError):
        dd.load(path)


def test_dashboard_schema_fails_on_a_widget_without_queries(dashboard):
    broken = copy.deepcopy(dashboard)
    broken["widgets"][1]["definition"]["widgets"][0]["definition"]["requests"][0]["queries"] = []
    assert dd.schema_errors(broken, dd.DASHBOARD_SCHEMA)
