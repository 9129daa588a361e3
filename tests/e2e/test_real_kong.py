"""The image built from Dockerfile.kong, run like `make local/up OFFLINE=1`: Kong DB-less on
kong-local.yaml, the Bedrock emulator and Redis on one Docker network. Runs the shared
scenarios (tests/scenarios.py) that the harness suite also runs, then checks what only real
Kong can show: the plugin servers started by Kong itself from the image's KONG_* settings,
the status API metrics and token-meter's metrics port.

Skips cleanly without a Docker engine (`pytest -m e2e_docker tests/e2e`, `make local/test`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import docker_engine_problem
from tests.scenarios import SCENARIOS, run

pytestmark = pytest.mark.e2e_docker

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "kong-bedrock-gateway:e2e"
_problem = docker_engine_problem()
if _problem is not None:
    if os.environ.get("E2E_REQUIRE_DOCKER") == "1":  # CI's Docker runner: never skip there
        raise RuntimeError(f"E2E_REQUIRE_DOCKER=1 but no Docker engine: {_problem}")
    pytest.skip(f"no Docker engine: {_problem}", allow_module_level=True)


@dataclass
class Stack:
    kong: Any
    proxy: str
    status: str
    metrics: str


def _wait(url: str, ok: Any, timeout: float, headers: dict[str, str] | None = None) -> None:
    deadline, last = time.monotonic() + timeout, "no answer"
    while time.monotonic() < deadline:
        try:
            resp = requests.get(url, headers=headers, timeout=5)
            if ok(resp):
                return
            last = f"{resp.status_code} {resp.text[:200]}"
        except requests.RequestException as exc:
            last = str(exc)
        time.sleep(1)
    raise AssertionError(f"{url} not ready after {timeout}s: {last}")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    import docker
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.network import Network

    from kong_plugins.testing.kong.fixtures import offline_env

    client = docker.from_env()
    client.images.build(path=str(ROOT), dockerfile="Dockerfile.kong", tag=IMAGE, rm=True)
    with Network() as net:
        redis = DockerContainer("redis:7.4-alpine").with_network(net).with_network_aliases("redis")
        emulator = (
            DockerContainer(IMAGE)
            .with_network(net)
            .with_network_aliases("bedrock-emulator")
            .with_kwargs(entrypoint=["/opt/kong-plugins/bin/python", "-m", "kong_plugins.testing.bedrock_emulator"])
            .with_command("--port 4010 --host 0.0.0.0")
        )
        env = {
            **offline_env("http://bedrock-emulator:4010"),
            "KONG_DATABASE": "off",
            "KONG_DECLARATIVE_CONFIG": "/kong/kong.yaml",
            "KONG_PROXY_LISTEN": "0.0.0.0:8000",
            "KONG_ADMIN_LISTEN": "0.0.0.0:8001",
        }
        kong = DockerContainer(IMAGE).with_network(net).with_exposed_ports(8000, 8100, 9542)
        for name, value in env.items():
            kong = kong.with_env(name, value)
        kong = kong.with_volume_mapping(str(ROOT / "kong-local.yaml"), "/kong/kong.yaml", "ro")
        with redis, emulator, kong:
            host = kong.get_container_host_ip()
            stack = Stack(
                kong=kong,
                proxy=f"http://{host}:{kong.get_exposed_port(8000)}",
                status=f"http://{host}:{kong.get_exposed_port(8100)}",
                metrics=f"http://{host}:{kong.get_exposed_port(9542)}",
            )
            _wait(stack.status + "/status/ready", lambda r: r.status_code == 200, 120)
            # The plugin servers start after Kong answers: wait until they serve a request.
            _wait(stack.proxy + "/v1/models", lambda r: r.status_code == 200, 60, {"X-API-Key": "partner-key-123"})
            yield stack


def _logs(stack: Stack) -> str:
    out, err = stack.kong.get_logs()
    return (out or b"").decode(errors="replace") + (err or b"").decode(errors="replace")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_shared_scenario(stack: Stack, scenario) -> None:
    problems = run(stack.proxy, scenario)
    assert not problems, "\n".join(problems)


def test_kong_started_the_three_plugin_servers(stack: Stack) -> None:
    logs = _logs(stack)
    assert "failed decoding plugin info" not in logs
    for name in ("bedrock-proxy", "token-meter", "ecommerce-guardrails"):
        assert f"starting pluginserver process for {name}" in logs, name


def test_status_api_serves_kong_metrics(stack: Stack) -> None:
    resp = requests.get(stack.status + "/metrics", timeout=10)
    assert resp.status_code == 200 and "kong_nginx_requests_total" in resp.text


def test_token_meter_metrics_port(stack: Stack) -> None:
    run(stack.proxy, SCENARIOS[0])
    resp = requests.get(stack.metrics + "/metrics", timeout=10)
    assert resp.status_code == 200 and "kong_bedrock_requests_total" in resp.text


def test_header_keys_never_reach_the_logs(stack: Stack) -> None:
    """hide_credentials removes a header key before Kong's serializer (file-log) sees it, and
    nginx's access log never prints headers."""
    for scenario in SCENARIOS:
        if "apikey=" not in scenario.path:
            run(stack.proxy, scenario)
    logs = _logs(stack)
    for k in ("dev-key-123", "analyst-key-123", "ops-key-123", "partner-key-123"):
        assert k not in logs, k


@pytest.mark.xfail(
    strict=True,
    reason="Kong 3.9.3 serializes request.uri/url from the original request_uri (kong/pdk/log.lua), so a "
    "?apikey= key reaches file-log even with hide_credentials; fix: key_in_query: false (docs/decisions/0079)",
)
def test_query_keys_never_reach_the_logs(stack: Stack) -> None:
    requests.get(stack.proxy + "/v1/models?apikey=guest-key-123", timeout=30)
    assert "guest-key-123" not in _logs(stack)
