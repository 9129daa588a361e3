"""The shared HTTP scenarios (tests/scenarios.py) through the harness: real plugin servers,
the Kong-faithful front serving kong-local.yaml, the Bedrock emulator. The real-Kong suite
(tests/e2e) runs the same list against Kong 3.9.3 in Docker."""

from __future__ import annotations

from pathlib import Path

import requests

from kong_plugins.testing.kong.fixtures import offline_env
from tests.scenarios import SCENARIOS, run

ROOT = Path(__file__).resolve().parents[2]


def test_shared_scenarios_on_kong_local_yaml(gateway_factory, emulator):
    gw = gateway_factory(ROOT / "kong-local.yaml", env=offline_env(emulator.url))
    problems = [p for s in SCENARIOS for p in run(gw.url, s)]
    assert not problems, "\n".join(problems)


def test_pdk_calls_of_a_clean_request_on_kong_local_yaml(gateway_factory, emulator):
    """The counts of decision 0093: key-auth only, so guardrails skips the jwt token read."""
    gw = gateway_factory(ROOT / "kong-local.yaml", env=offline_env(emulator.url))
    body = {"messages": [{"role": "user", "content": "Which running shoes suit flat feet?"}]}
    headers = {"X-API-Key": "dev-key-123"}
    assert requests.post(gw.url + "/v1/chat/completions", json=body, headers=headers, timeout=30).status_code == 200
    gw.wait_idle()
    gw.reset_rpc_stats()
    assert requests.post(gw.url + "/v1/chat/completions", json=body, headers=headers, timeout=30).status_code == 200
    gw.wait_idle()
    stats = gw.rpc_stats()["plugins"]
    calls = {name: s["pdk_calls"] for name, s in stats.items()}
    # offline_env points bedrock-proxy at the emulator: + set_target and set_scheme (0040)
    override = {"kong.service.set_target": 1, "kong.service.request.set_scheme": 1}
    assert {k: stats["bedrock-proxy"]["by_pdk_method"].get(k) for k in override} == override
    assert calls == {"ecommerce-guardrails": 3, "token-meter": 3, "bedrock-proxy": 12 + len(override)}
