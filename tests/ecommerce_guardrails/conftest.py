"""One harness gateway per module for the ecommerce-guardrails end-to-end tests (starting the
plugin servers is the slow part); the `emulator` fixture resets the upstream per test."""

from __future__ import annotations

import pytest

from kong_plugins.testing.kong.fixtures import checked_gateway, offline_env
from tests.testing.upstreams import EchoUpstream

from .helpers import CONFIGS


@pytest.fixture(scope="module")
def echo():
    upstream = EchoUpstream()
    yield upstream
    upstream.stop()


@pytest.fixture(scope="module")
def gw(_bedrock_emulator_session, echo):
    with checked_gateway(
        CONFIGS / "gateway.yaml",
        env=offline_env(_bedrock_emulator_session.url),
        upstream_hosts={"echo.internal": echo.url},
    ) as gateway:
        yield gateway
