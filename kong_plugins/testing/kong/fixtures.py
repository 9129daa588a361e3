"""Pytest fixture `gateway_factory`: start a harness Gateway (real plugin servers, the HTTP
front on a free port) for a declarative config, stop it at teardown.

    def test_chat(gateway_factory, emulator):
        gw = gateway_factory("kong-local.yaml", env=offline_env(emulator.url))
        requests.post(gw.url + "/v1/chat", ...)
        gw.access_log(), gw.error_log(), gw.rpc_stats(), gw.violations(), gw.file_log()

Teardown fails the test when the gateway recorded a fidelity violation (a PDK name Kong
3.9.3 OSS does not have, a harness error): a plugin that works only here must not pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from kong_plugins.testing.bedrock_emulator import offline_env
from kong_plugins.testing.kong.gateway import Gateway

__all__ = ["offline_env", "gateway_factory"]

GatewayFactory = Callable[..., Gateway]


@pytest.fixture
def gateway_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayFactory]:
    started: list[Gateway] = []

    def make(
        config_path: str | Path,
        env: Mapping[str, str] | None = None,
        upstream_hosts: Mapping[str, str] | None = None,
        **options: Any,
    ) -> Gateway:
        if "file_log_redirects" not in options:
            # Kong's file-log to /dev/stdout lands in a file the test can read (gw.file_log()).
            target = str(tmp_path_factory.mktemp("file-log") / "file-log.jsonl")
            options["file_log_redirects"] = {"/dev/stdout": target, "/dev/stderr": target}
        gw = Gateway(config_path, env=env, upstream_hosts=upstream_hosts, **options)
        gw.start()
        started.append(gw)
        return gw

    yield make

    violations: list[str] = []
    for gw in started:
        try:
            gw.wait_idle()
            violations.extend(gw.violations())
        finally:
            gw.stop()
    if violations:
        pytest.fail("Kong fidelity violations:\n  " + "\n  ".join(violations), pytrace=False)
