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

import contextlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from kong_plugins.testing.bedrock_emulator import offline_env
from kong_plugins.testing.kong.gateway import Gateway

__all__ = ["checked_gateway", "gateway_factory", "offline_env"]

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
        violations.extend(_finish(gw))
    _fail_on(violations)


@contextlib.contextmanager
def checked_gateway(config_path: str | Path, **options: Any) -> Iterator[Gateway]:
    """A started Gateway for module-scoped fixtures, with the same teardown as gateway_factory:
    stopped on exit, and any fidelity violation fails the test."""
    gw = Gateway(config_path, **options)
    gw.start()
    try:
        yield gw
    finally:
        violations = _finish(gw)
    _fail_on(violations)


def _finish(gw: Gateway) -> list[str]:
    """Let the log phase finish, collect the violations, stop."""
    try:
        gw.wait_idle()
        return gw.violations()
    finally:
        gw.stop()


def _fail_on(violations: list[str]) -> None:
    if violations:
        pytest.fail("Kong fidelity violations:\n  " + "\n  ".join(violations), pytrace=False)
