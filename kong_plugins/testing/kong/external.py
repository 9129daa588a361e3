"""Thin adapter from the RPC half (servers.ExternalPlugins, runner.ExternalPlugin) to what the
declarative loader and the gateway need: installed-plugin specs from the dumps, and a chain
Step for one declarative plugin config."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kong_plugins.testing.kong import runner
from kong_plugins.testing.kong.declarative import InstalledPlugin, PluginConfig, installed_external
from kong_plugins.testing.kong.node import KongNode
from kong_plugins.testing.kong.plugin_server import DEFAULT_RUN_MODE, PLUGIN_SCRIPTS, PluginInfo, RunMode
from kong_plugins.testing.kong.servers import ExternalPlugins

_DUMPS: dict[str, PluginInfo] = {}


class External:
    def __init__(
        self,
        node: KongNode,
        *,
        scripts: Sequence[str] = PLUGIN_SCRIPTS,
        env: dict[str, str] | None = None,
        mode: RunMode = DEFAULT_RUN_MODE,
        prefix: str | Path | None = None,
    ) -> None:
        self.plugins = ExternalPlugins(node, prefix=prefix, scripts=scripts, mode=mode, env=env)
        self._scripts = list(scripts)

    def start(self) -> External:
        # The dump of a script cannot change within one Python process (the code is loaded),
        # so later gateways reuse it: each `-dump` costs a Python start-up per server.
        for script, server in zip(self._scripts, self.plugins.servers, strict=True):
            if server.info is None and script in _DUMPS:
                server.info = _DUMPS[script]
        self.plugins.start()
        for script, server in zip(self._scripts, self.plugins.servers, strict=True):
            if server.info is not None:
                _DUMPS[script] = server.info
        return self

    def stop(self) -> None:
        self.plugins.stop()

    def installed(self) -> dict[str, InstalledPlugin]:
        return {
            name: installed_external(name, info.priority, info.phases, info.config_fields)
            for name, info in self.plugins.infos.items()
        }

    def step(self, pc: PluginConfig, seq: int) -> runner.Step:
        config = runner.PluginConfig(
            id=pc.id,
            name=pc.name,
            config=pc.config,
            seq=seq,
            route_id=pc.route_id,
            service_id=pc.service_id,
            consumer_id=pc.consumer_id,
            instance_name=pc.instance_name,
        )
        return self.plugins.plugin(pc.name).step(config)

    def rpc_stats(self) -> dict[str, Any]:
        return self.plugins.rpc_stats()

    def reset_stats(self) -> None:
        self.plugins.reset_stats()

    def pids(self) -> list[int]:
        return [s.pid for s in self.plugins.servers if s.pid is not None]

    @property
    def prefix(self) -> Path:
        return self.plugins.prefix
