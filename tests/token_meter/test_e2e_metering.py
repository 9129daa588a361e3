"""Metering end to end: /metrics, CloudWatch (moto's real server), DogStatsD (UDP) and the log
line after known requests; canaries in prompts, headers and keys never reach any of them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from tests.token_meter.test_e2e_limits import PROMPT, chat
from tests.token_meter.test_e2e_redis import metric
from tests.token_meter.test_sinks import UdpListener, parse

SONNET = "anthropic.claude-sonnet-4-6"  # the developer's model, as the model label shows it
CANARY = "CANARY-5e1f0b7d"
CANARY_KEY = "CANARY-KEY-7f3a9c"


@pytest.fixture(scope="module")
def moto_url():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_metrics_show_the_right_values_after_known_requests(meter_gateway):
    gw, metrics_url = meter_gateway()
    responses = [chat(gw, "dev-key", content=PROMPT[: 100 * (i + 1)]) for i in range(3)]
    assert all(r.status_code == 200 for r in responses)
    gw.wait_idle()
    # PDK calls: token-meter runs first here (no guardrails on the route), so it resolves the
    # identity itself (4 calls); behind guardrails that is 1 (see kong-local.yaml, 0057)
    stats = gw.rpc_stats()["plugins"]["token-meter"]
    assert stats["pdk_calls"] / 3 == 6  # access: identity 4 + set_headers 1; log: 1 ctx read (result + identity)
    assert stats["by_pdk_method"]["kong.response.set_headers"] == 3
    assert "kong.log.serialize" not in stats["by_pdk_method"]  # bedrock-proxy shared its LlmResult
    labels = {"model": SONNET, "role": "developer"}
    inp = sum(int(r.headers["X-LLM-Input-Tokens"]) for r in responses)
    out = sum(int(r.headers["X-LLM-Output-Tokens"]) for r in responses)
    cost = sum(float(r.headers["X-LLM-Cost-USD"]) for r in responses)
    assert metric(metrics_url, "kong_bedrock_tokens_input_total", **labels) == inp
    assert metric(metrics_url, "kong_bedrock_tokens_output_total", **labels) == out
    assert metric(metrics_url, "kong_bedrock_requests_total", status_class="2xx", **labels) == 3
    assert metric(metrics_url, "kong_bedrock_cost_estimate_dollars", **labels) == pytest.approx(cost, abs=1e-5)
    assert metric(metrics_url, "kong_bedrock_request_duration_seconds_count", **labels) == 3
    assert metric(metrics_url, "kong_bedrock_request_duration_seconds_bucket", le="120.0", **labels) == 3
    # a refused request: rate-limited counter by consumer, a 4xx with model "none"
    for _ in range(10):
        if chat(gw, "guest-key", content=PROMPT * 2).status_code == 429:
            break
        gw.wait_idle()
    gw.wait_idle()
    assert metric(metrics_url, "kong_bedrock_rate_limited_total", consumer="guest-user", role="guest") == 1
    assert metric(metrics_url, "kong_bedrock_requests_total", model="none", role="guest", status_class="4xx") == 1
    assert metric(metrics_url, "kong_bedrock_errors_total", type="rate_limited") == 1
    line = [json.loads(x[x.index("{") :]) for x in gw.error_log() if '"event":"llm_request"' in x][0]
    assert line["input_tokens"] == int(responses[0].headers["X-LLM-Input-Tokens"])
    assert line["role"] == "developer" and line["consumer"] == "dev-user-1" and line["status"] == 200
    assert line["latency_ms"] >= 0 and line["model"].endswith(SONNET)


def test_cloudwatch_and_dogstatsd_receive_the_right_datapoints(meter_gateway, moto_url, tmp_path):
    """EMF and DogStatsD right away; PutMetricData from the flusher, here at shutdown (the
    periodic flush is covered in test_sinks.py)."""
    udp = UdpListener()
    namespace = f"E2E{time.time_ns()}"
    emf = tmp_path / "emf.log"
    gw, _ = meter_gateway(
        cw_put="true",
        cw_url=moto_url,
        cw_namespace=namespace,
        cw_flush=3600,
        emf_path=str(emf),
        dogstatsd_host="127.0.0.1",
        dogstatsd_port=udp.port,
    )
    responses = [chat(gw, "dev-key") for _ in range(2)]
    gw.wait_idle()
    inp = sum(int(r.headers["X-LLM-Input-Tokens"]) for r in responses)
    cw = boto3.client(
        "cloudwatch", region_name="us-east-1", endpoint_url=moto_url, aws_access_key_id="x", aws_secret_access_key="x"
    )
    assert cw.list_metrics(Namespace=namespace)["Metrics"] == []  # nothing sent yet: hourly flush
    gw.stop()  # SIGTERM to the plugin servers, as Kong and Kubernetes stop them
    model = responses[0].headers["X-LLM-Model"]
    now = datetime.now(UTC)
    stats = cw.get_metric_statistics(
        Namespace=namespace,
        MetricName="InputTokens",
        Dimensions=[{"Name": "Model", "Value": model}, {"Name": "Role", "Value": "developer"}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=5),
        Period=300,
        Statistics=["Sum", "SampleCount"],
    )["Datapoints"]
    assert sum(d["Sum"] for d in stats) == inp
    assert sum(d["SampleCount"] for d in stats) == 2
    lines = [json.loads(x) for x in emf.read_text().splitlines()]
    assert [x["InputTokens"] for x in lines] == [int(r.headers["X-LLM-Input-Tokens"]) for r in responses]
    assert all(x["_aws"]["CloudWatchMetrics"][0]["Namespace"] == namespace for x in lines)
    packets = [parse(x) for x in udp.lines(want=8)]
    tokens = [(v, tags) for name, v, _, tags in packets if name == "kong_bedrock.tokens.input"]
    assert sum(v for v, _ in tokens) == inp
    assert all({"role:developer", f"model:{model}", "status:200"} <= tags for _, tags in tokens)


def test_canaries_never_reach_logs_metrics_or_exported_datapoints(meter_gateway, moto_url, tmp_path):
    udp = UdpListener()
    emf = tmp_path / "emf.log"
    gw, metrics_url = meter_gateway(
        cw_put="true",
        cw_url=moto_url,
        cw_namespace="Canary",
        emf_path=str(emf),
        dogstatsd_host="127.0.0.1",
        dogstatsd_port=udp.port,
        reservation="true",
    )
    for key, path in (
        (CANARY_KEY, "/v1/chat/completions"),
        (CANARY_KEY, "/v1/messages"),
        ("guest-key", "/v1/chat/completions"),
    ):
        for _ in range(4):  # the guest reaches its limit: the 429 path is covered too
            chat(
                gw,
                key,
                content=f"My card is {CANARY} and my secret is {CANARY}. " + PROMPT,
                path=path,
                headers={"X-Debug-Note": CANARY, "User-Agent": CANARY},
                max_tokens=50,
            )
            gw.wait_idle()
    time.sleep(0.5)
    packets = "\n".join(udp.lines(until=1.0, want=1000))
    cw = boto3.client(
        "cloudwatch", region_name="us-east-1", endpoint_url=moto_url, aws_access_key_id="x", aws_secret_access_key="x"
    )
    exported = json.dumps(cw.list_metrics(Namespace="Canary")["Metrics"])
    sinks = {
        "error log": "\n".join(gw.error_log()),
        "metrics": requests.get(metrics_url, timeout=5).text,
        "emf": emf.read_text(),
        "dogstatsd": packets,
        "cloudwatch": exported,
    }
    assert "kong_bedrock_tokens_input_total" in sinks["metrics"] and packets and exported != "[]"
    for name, text in sinks.items():
        assert CANARY not in text, name
        assert CANARY_KEY not in text, name
        assert "card is" not in text and "order history" not in text, name


def test_openai_sdk_streams_are_metered_and_limited(meter_gateway):
    import openai

    gw, metrics_url = meter_gateway()
    client = openai.OpenAI(
        base_url=gw.url + "/v1", api_key="unused", default_headers={"X-API-Key": "guest-key"}, max_retries=0
    )
    streamed = 0
    with pytest.raises(openai.RateLimitError) as info:
        for _ in range(20):
            stream = client.chat.completions.create(
                model="us.anthropic.claude-haiku-4-5-20251001-v1:0",
                messages=[{"role": "user", "content": PROMPT}],
                stream=True,
                stream_options={"include_usage": True},
            )
            for chunk in stream:
                if chunk.usage:
                    streamed += chunk.usage.total_tokens
            gw.wait_idle()
    assert info.value.status_code == 429 and info.value.response.headers["retry-after"]
    labels = {"model": "anthropic.claude-haiku-4-5-20251001-v1:0", "role": "guest"}
    metered = metric(metrics_url, "kong_bedrock_tokens_input_total", **labels) + metric(
        metrics_url, "kong_bedrock_tokens_output_total", **labels
    )
    assert streamed >= 500 and metered == streamed
