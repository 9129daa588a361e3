"""Helpers for the harness's RPC/PDK tests: a probe server, requests, and simple chain steps."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kong_plugins.testing.kong.node import KongNode
from kong_plugins.testing.kong.plugin_server import PluginServer
from kong_plugins.testing.kong.request import KongRequest, UpstreamRequest
from kong_plugins.testing.kong.runner import ExternalPlugin, ExternalPluginStep, PluginConfig

PLUGINS = Path(__file__).parent
PROBE = str(PLUGINS / "probe.py")
BAD_DUMP = str(PLUGINS / "bad_dump.py")


def make_request(
    *,
    method: str = "POST",
    path: str = "/v1/chat/completions",
    query: str = "",
    headers: dict[str, list[str]] | None = None,
    body: bytes = b'{"messages":[]}',
) -> KongRequest:
    hdrs = {"content-type": ["application/json"], **(headers or {})}
    req = KongRequest(method=method, path=path, raw_query=query, headers=hdrs, body=body, request_id="rid-1")
    req.route = {"id": str(uuid.uuid4()), "name": "chat"}
    req.service = {"id": str(uuid.uuid4()), "name": "llm"}
    req.upstream = UpstreamRequest("http", "upstream.internal", 80, method, path, query, dict(hdrs), body)
    return req


class Probe:
    """A running probe plugin server plus Kong's RPC side for it."""

    def __init__(self, *, rpc_timeout: float = 2.0, mode: str = "gevent", env: dict[str, str] | None = None) -> None:
        self.node = KongNode(vault_env={"PROBE_SECRET": "s3cret"})
        self._tmp = tempfile.TemporaryDirectory(prefix="kp-", dir="/tmp")
        self.server = PluginServer.for_script(
            PROBE,
            self._tmp.name,
            mode=mode,
            env=env,
            error_log=self.node.error_log,  # type: ignore[arg-type]
        )
        self.rpc_timeout = rpc_timeout
        self.plugin: ExternalPlugin | None = None

    def start(self) -> Probe:
        self.server.start()
        assert self.server.info is not None
        self.plugin = ExternalPlugin(self.server.info, self.server.socket, self.node, rpc_timeout=self.rpc_timeout)
        return self

    def stop(self) -> None:
        if self.plugin is not None:
            self.plugin.close()
        self.server.stop()
        self._tmp.cleanup()

    def step(self, seq: int = 1, plugin_id: str | None = None, **config: Any) -> ExternalPluginStep:
        assert self.plugin is not None
        cfg = {"mode": "noop", "log_mode": "noop", "response_mode": "noop", "tag": "probe", **config}
        pid = plugin_id or str(uuid.uuid5(uuid.NAMESPACE_URL, repr(sorted(cfg.items()))))
        return self.plugin.step(PluginConfig(pid, "probe", cfg, seq=seq, route_id="r-1"))

    def stats(self) -> dict[str, Any]:
        assert self.plugin is not None
        return self.plugin.stats.snapshot()


@dataclass
class Recorder:
    """A bundled-plugin-like step that records the phases it ran in."""

    name: str
    priority: int
    phases: frozenset[str] = frozenset({"access", "response", "log"})
    ran: list[str] = field(default_factory=list)
    journal: list[str] | None = None  # shared between recorders: the order steps ran in

    def run(self, phase: str, req: KongRequest) -> None:
        self.ran.append(phase)
        if self.journal is not None:
            self.journal.append(f"{self.name}:{phase}")
