"""The shared HTTP scenarios (tests/scenarios.py) through the harness: real plugin servers,
the Kong-faithful front serving kong-local.yaml, the Bedrock emulator. The real-Kong suite
(tests/e2e) runs the same list against Kong 3.9.3 in Docker."""

from __future__ import annotations

from pathlib import Path

from kong_plugins.testing.kong.fixtures import offline_env
from tests.scenarios import SCENARIOS, run

ROOT = Path(__file__).resolve().parents[2]


def test_shared_scenarios_on_kong_local_yaml(gateway_factory, emulator):
    gw = gateway_factory(ROOT / "kong-local.yaml", env=offline_env(emulator.url))
    problems = [p for s in SCENARIOS for p in run(gw.url, s)]
    assert not problems, "\n".join(problems)
