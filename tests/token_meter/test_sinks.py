"""CloudWatch (moto's real server), EMF shape and DogStatsD (a real UDP listener)."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto.server import ThreadedMotoServer

from kong_plugins.core.usage import Usage
from kong_plugins.token_meter.cloudwatch import CloudWatchPublisher, EmfSettings, EmfWriter, PutSettings
from kong_plugins.token_meter.dogstatsd import DogStatsdSettings, DogStatsdSink
from kong_plugins.token_meter.metering import Record

MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def rec(role="developer", inp=100, out=20, status=200, consumer="dev-user-1", error_type=None):
    return Record(
        role=role,
        status=status,
        model=MODEL,
        consumer=consumer,
        usage=Usage(inp, out),
        cost_usd=0.0006,
        duration_s=1.5,
        error_type=error_type,
    )


@pytest.fixture(scope="module")
def moto_url():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_put_metric_data_batches_and_reads_back_from_moto(moto_url, aws_env):
    namespace = f"Test{time.time_ns()}"
    settings = PutSettings(namespace=namespace, region="us-east-1", endpoint_url=moto_url, flush_seconds=3600)
    pub = CloudWatchPublisher(settings)
    for _ in range(3):
        pub.record(rec())
    pub.record(rec(role="guest", inp=7, out=1))
    assert pub.flush() == 1  # one PutMetricData call for everything aggregated
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto_url)
    listed = cw.list_metrics(Namespace=namespace)["Metrics"]
    names = {m["MetricName"] for m in listed}
    assert {"Requests", "InputTokens", "OutputTokens", "CostUSD", "Duration", "Errors"} <= names
    dims = {tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])) for m in listed}
    assert dims == {(("Model", MODEL), ("Role", "developer")), (("Model", MODEL), ("Role", "guest"))}
    now = datetime.now(UTC)
    data = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "tokens",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": "InputTokens",
                        # in the order sent: moto's Dimension.__lt__ is broken, so its sort does not normalise
                        "Dimensions": [{"Name": "Model", "Value": MODEL}, {"Name": "Role", "Value": "developer"}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=5),
    )["MetricDataResults"][0]
    assert sum(data["Values"]) == 300
    pub.close()


def test_more_than_1000_series_are_split_into_calls(moto_url, aws_env):
    settings = PutSettings(
        namespace=f"Split{time.time_ns()}",
        region="us-east-1",
        endpoint_url=moto_url,
        flush_seconds=3600,
        consumer_dimension=True,
    )
    pub = CloudWatchPublisher(settings)
    for i in range(200):  # 200 consumers x 6 metrics + 1 role/model set x 6 = 1206 datums
        pub.record(rec(consumer=f"c{i}"))
    assert pub.flush() == 2
    pub.close()


def test_the_flusher_thread_sends_periodically(moto_url, aws_env):
    namespace = f"Periodic{time.time_ns()}"
    pub = CloudWatchPublisher(
        PutSettings(namespace=namespace, region="us-east-1", endpoint_url=moto_url, flush_seconds=0.1)
    )
    pub.record(rec())
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto_url)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not cw.list_metrics(Namespace=namespace)["Metrics"]:
        time.sleep(0.05)
    assert cw.list_metrics(Namespace=namespace)["Metrics"]
    pub.close()


def test_close_flushes_what_is_left(moto_url, aws_env):
    namespace = f"Close{time.time_ns()}"
    pub = CloudWatchPublisher(PutSettings(namespace=namespace, region="us-east-1", endpoint_url=moto_url))
    pub.record(rec())
    pub.close()
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto_url)
    assert cw.list_metrics(Namespace=namespace)["Metrics"]


def test_emf_line_shape(tmp_path):
    path = tmp_path / "emf.log"
    writer = EmfWriter(
        EmfSettings("KongBedrockGateway", str(path), consumer_dimension=True), clock=lambda: 1764342000.0
    )
    writer.record(rec())
    (line,) = path.read_text().splitlines()
    doc = json.loads(line)
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert doc["_aws"]["Timestamp"] == 1764342000000
    assert directive["Namespace"] == "KongBedrockGateway"
    assert directive["Dimensions"] == [["Model", "Role"], ["Consumer"]]
    # every referenced dimension and metric is a root member (the EMF rule)
    for dim_set in directive["Dimensions"]:
        assert all(isinstance(doc[d], str) for d in dim_set)
    for metric in directive["Metrics"]:
        assert isinstance(doc[metric["Name"]], int | float)
        assert metric["Unit"] in ("Count", "None", "Milliseconds")
    assert (doc["Role"], doc["Model"], doc["InputTokens"], doc["OutputTokens"]) == ("developer", MODEL, 100, 20)
    assert doc["Duration"] == 1500 and doc["Requests"] == 1


class UdpListener:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]

    def lines(self, until: float = 5.0, want: int = 1) -> list[str]:
        out: list[str] = []
        deadline = time.monotonic() + until
        while time.monotonic() < deadline and len(out) < want:
            try:
                data, _ = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            out += [x for x in data.decode().split("\n") if x]
        return out


def parse(line: str) -> tuple[str, float, str, set[str]]:
    """DogStatsD line protocol: <name>:<value>|<type>[|@rate][|#tag,tag]."""
    head, *sections = line.split("|")
    name, value = head.rsplit(":", 1)
    tags = next((set(s[1:].split(",")) for s in sections if s.startswith("#")), set())
    return name, float(value), sections[0], tags


def test_dogstatsd_sends_tagged_metrics_over_udp():
    listener = UdpListener()
    sink = DogStatsdSink(DogStatsdSettings(port=listener.port, tags=("env:test",), flush_seconds=0.05))
    sink.record(rec(error_type="ThrottlingException", status=429))
    sink.rate_limited("guest-user", "guest")
    sink.flush()
    metrics = [parse(x) for x in listener.lines(want=7)]
    by_name = {name: (value, kind, tags) for name, value, kind, tags in metrics}
    tags = {"role:developer", f"model:{MODEL}", "status:429", "status_class:4xx", "env:test"}
    assert by_name["kong_bedrock.requests"] == (1.0, "c", tags)
    assert by_name["kong_bedrock.tokens.input"][:2] == (100.0, "c")
    assert by_name["kong_bedrock.tokens.output"][:2] == (20.0, "c")
    assert by_name["kong_bedrock.request.duration"][:2] == (1.5, "h")
    assert by_name["kong_bedrock.errors"][2] >= {"type:throttling"}
    assert by_name["kong_bedrock.rate_limited"] == (1.0, "c", {"role:guest", "consumer:guest-user", "env:test"})
