"""All three plugins together: the guardrail decisions metric is served on token-meter's
/metrics endpoint (one multiprocess registry), and the PDK calls of a clean request."""

from __future__ import annotations

import json
import socket
from string import Template

import pytest
import requests

from kong_plugins.testing.kong.fixtures import checked_gateway, offline_env

from .helpers import CONFIGS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chain(_bedrock_emulator_session, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("guardrails-chain")
    port = _free_port()
    config = tmp / "kong.yaml"
    config.write_text(Template((CONFIGS / "chain.yaml.tmpl").read_text()).substitute(metrics_port=port))
    env = {**offline_env(_bedrock_emulator_session.url), "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prom")}
    with checked_gateway(config, env=env) as gateway:
        gateway.metrics_url = f"http://127.0.0.1:{port}/metrics"
        yield gateway


def ask(gw, text, key):
    body = json.dumps({"messages": [{"role": "user", "content": text}]})
    return requests.post(gw.url + "/v1/chat", data=body, headers={"X-API-Key": key}, timeout=60)


def test_decisions_metric_on_token_meters_endpoint(chain, emulator):
    assert ask(chain, "hello", "guest-key").status_code == 200  # token-meter serves /metrics once it ran
    assert ask(chain, "card 4526 0181 5908 3012", "guest-key").status_code == 400
    assert ask(chain, "card 4526 0181 5908 3012 and password=Winter#2025x", "ops-key").status_code == 200
    text = requests.get(chain.metrics_url, timeout=10).text
    assert 'kong_bedrock_guardrail_decisions_total{action="block",category="payment_card",role="guest"} 1.0' in text
    assert (
        'kong_bedrock_guardrail_decisions_total{action="mask",category="payment_card",role="ecommerce_ops"} 1.0' in text
    )
    assert (
        'kong_bedrock_guardrail_decisions_total{action="mask",category="credentials",role="ecommerce_ops"} 1.0' in text
    )
    assert "4526" not in text and "Winter" not in text


def test_pdk_calls_of_a_clean_request(chain, emulator):
    ask(chain, "warm up", "guest-key")
    chain.wait_idle()
    before = {k: v["pdk_calls"] for k, v in chain.rpc_stats()["plugins"].items()}
    assert ask(chain, "Can I pay by credit card?", "guest-key").status_code == 200
    chain.wait_idle()
    after = {k: v["pdk_calls"] for k, v in chain.rpc_stats()["plugins"].items()}
    calls = {k: after[k] - before[k] for k in after}
    print(f"\nPDK calls of one clean request: {calls}, total {sum(calls.values())}")
    assert calls["ecommerce-guardrails"] == 4
