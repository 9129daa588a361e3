"""Helpers for token-meter's end-to-end tests: a config from the template, free ports."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from kong_plugins.testing.kong.fixtures import offline_env
from kong_plugins.testing.redis_server import free_port

TEMPLATE = Path(__file__).parent / "configs" / "meter.yaml.tmpl"

DEFAULTS = {
    "policy": "local",
    "redis_port": 6379,
    "fault_tolerant": "true",
    "reservation": "false",
    "developer_limit": 10000,
    "emf_path": "off",
    "window_scale": 1,
    "cw_put": "false",
    "cw_url": "null",
    "cw_namespace": "KongBedrockGateway",
    "cw_flush": 0.2,
    "dogstatsd_host": "null",
    "dogstatsd_port": 8125,
}


def write_config(path: Path, **options) -> Path:
    values = {**DEFAULTS, "metrics_port": free_port(), **options}
    path.write_text(string.Template(TEMPLATE.read_text()).substitute(values))
    return path


@pytest.fixture
def meter_gateway(gateway_factory, emulator, tmp_path):
    """Start a gateway (its own plugin servers) with token-meter options; returns (gw, metrics_url).
    Each gateway gets its own Prometheus multiprocess directory, as two Kong nodes would."""
    count = 0

    def start(**options):
        nonlocal count
        count += 1
        values = {**DEFAULTS, "metrics_port": free_port(), **options}
        path = tmp_path / f"meter-{count}.yaml"
        path.write_text(string.Template(TEMPLATE.read_text()).substitute(values))
        env = {**offline_env(emulator.url), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"prom-{count}")}
        gw = gateway_factory(path, env=env, plugin_scripts=("token-meter", "bedrock-proxy"))
        return gw, f"http://127.0.0.1:{values['metrics_port']}/metrics"

    return start
