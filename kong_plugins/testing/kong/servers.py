"""All external plugins of one emulated Kong node: their supervised servers and RPC sides.

node = KongNode()
plugins = ExternalPlugins(node, prefix=tmpdir).start()      # bedrock-proxy, token-meter, guardrails
plugins.infos["token-meter"].config_fields                   # dumped schema, for config validation
step = plugins.plugin("token-meter").step(PluginConfig(...))
...
plugins.stop()
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kong_plugins.testing.kong.node import KongNode
from kong_plugins.testing.kong.plugin_server import DEFAULT_RUN_MODE, PLUGIN_SCRIPTS, PluginInfo, PluginServer, RunMode
from kong_plugins.testing.kong.rpc import KONG_READ_TIMEOUT
from kong_plugins.testing.kong.runner import ExternalPlugin, ExternalPluginStep, PluginConfig


class ExternalPlugins:
    def __init__(
        self,
        node: KongNode,
        *,
        prefix: str | Path | None = None,
        scripts: Sequence[str] = PLUGIN_SCRIPTS,
        mode: RunMode = DEFAULT_RUN_MODE,
        env: dict[str, str] | None = None,
        rpc_timeout: float = KONG_READ_TIMEOUT,
        keepalive: bool = True,
    ) -> None:
        self.node = node
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if prefix is None:
            # Unix socket paths are limited to ~107 bytes: keep the prefix short.
            self._tmp = tempfile.TemporaryDirectory(prefix="kong-", dir="/tmp")
            prefix = self._tmp.name
        self.prefix = Path(prefix)
        self.mode = mode
        self.rpc_timeout = rpc_timeout
        self.keepalive = keepalive
        self.servers = [
            PluginServer.for_script(s, self.prefix, mode=mode, env=env, error_log=node.error_log) for s in scripts
        ]
        self._plugins: dict[str, ExternalPlugin] = {}

    @property
    def infos(self) -> dict[str, PluginInfo]:
        return {p.name: p.info for p in self._plugins.values()}

    @property
    def names(self) -> list[str]:
        return list(self._plugins)

    def plugin(self, name: str) -> ExternalPlugin:
        return self._plugins[name]

    def step(self, entity: Any, seq: int) -> ExternalPluginStep:
        """A chain step for a plugin entity (anything with id, name, config, route_id, service_id,
        consumer_id and optionally instance_name) at config generation `seq` (Kong's __seq__)."""
        config = PluginConfig(
            id=entity.id,
            name=entity.name,
            config=dict(entity.config),
            seq=seq,
            route_id=entity.route_id,
            service_id=entity.service_id,
            consumer_id=entity.consumer_id,
            instance_name=getattr(entity, "instance_name", None),
        )
        return self.plugin(entity.name).step(config)

    def start(self, *, wait: float = 20.0) -> ExternalPlugins:
        """Query and start every server (in parallel), then wait for their sockets."""
        self.prefix.mkdir(parents=True, exist_ok=True)
        try:
            with ThreadPoolExecutor(max_workers=max(1, len(self.servers))) as pool:
                list(pool.map(lambda s: s.start(wait=wait), self.servers))
        except BaseException:
            self.stop()
            raise
        for server in self.servers:
            assert server.info is not None
            self._plugins[server.info.name] = ExternalPlugin(
                server.info,
                server.socket,
                self.node,
                rpc_timeout=self.rpc_timeout,
                keepalive=self.keepalive,
                server=server,
            )
        return self

    def stop(self) -> None:
        for plugin in self._plugins.values():
            plugin.close()
        for server in self.servers:
            server.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def rpc_stats(self) -> dict[str, Any]:
        """Per plugin: rpc_calls, by_method, pdk_calls, by_pdk_method, events; plus totals."""
        per = {name: p.stats.snapshot() for name, p in self._plugins.items()}
        return {
            "plugins": per,
            "rpc_calls": sum(s["rpc_calls"] for s in per.values()),
            "pdk_calls": sum(s["pdk_calls"] for s in per.values()),
        }

    def reset_stats(self) -> None:
        for p in self._plugins.values():
            p.stats.reset()

    def __enter__(self) -> ExternalPlugins:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
