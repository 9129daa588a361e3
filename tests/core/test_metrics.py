"""core.metrics: get-or-create, bounded labels, and one endpoint that aggregates processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import urllib.request

from kong_plugins.core import metrics


def test_same_metric_twice_is_the_same_object():
    a = metrics.counter("test_core_metrics_twice", "doc", ["role"])
    b = metrics.counter("test_core_metrics_twice", "doc", ["role"])
    assert a is b


def test_bounded_label_keeps_first_values_then_other():
    label = metrics.BoundedLabel(2)
    assert [label("a"), label("b"), label("c"), label("a"), label(None)] == ["a", "b", "other", "a", "other"]
    allowed = metrics.BoundedLabel(10, allowed=["x"])
    assert (allowed("x"), allowed("y")) == ("x", "other")


WRITER = textwrap.dedent(
    """
    import sys
    from kong_plugins.core import metrics
    c = metrics.counter("kong_bedrock_guardrail_decisions", "doc", ["category", "action", "role"])
    c.labels("pii.card", "block", "guest").inc(int(sys.argv[1]))
    """
)

SERVER = textwrap.dedent(
    """
    import sys, time
    from kong_plugins.core import metrics
    metrics.counter("kong_bedrock_tokens_input", "doc", ["model", "role"]).labels("m", "guest").inc(7)
    port = metrics.start_metrics_server(0, "127.0.0.1")
    print(port, flush=True)
    sys.stdin.read()
    """
)


def test_multiprocess_endpoint_aggregates_other_processes(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")}
    for n in (2, 3):  # two other processes, like the guardrails server restarted once
        subprocess.run([sys.executable, "-c", WRITER, str(n)], env=env, check=True, timeout=60)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline())
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    assert 'kong_bedrock_guardrail_decisions_total{action="block",category="pii.card",role="guest"} 5.0' in body
    assert 'kong_bedrock_tokens_input_total{model="m",role="guest"} 7.0' in body
    assert "_created" not in body
