"""kong.log.*, kong.router, kong.plugin, kong.node, kong.vault and the rest."""

from __future__ import annotations

import json
from typing import Any

from kong_plugins.testing.kong.pdk import NotEmulated, PdkContext, PdkThrow, pdk
from kong_plugins.testing.kong.pdk_api.common import (
    VAULT_RE,
    edit_serialized,
    log_message,
)

_LEVELS = {
    "kong.log": "notice",
    "kong.log.debug": "debug",
    "kong.log.info": "info",
    "kong.log.notice": "notice",
    "kong.log.warn": "warn",
    "kong.log.err": "error",
    "kong.log.crit": "crit",
    "kong.log.alert": "alert",
    "kong.log.emerg": "emerg",
}


def _make_logger(level: str) -> Any:
    def log(ctx: PdkContext, *args: Any) -> None:
        ctx.log(level, log_message(args))

    return log


for _name, _level in _LEVELS.items():
    pdk(_name)(_make_logger(_level))


@pdk("kong.log.deprecation")
def _deprecation(ctx: PdkContext, *args: Any) -> None:
    ctx.log("warn", log_message(args))


@pdk("kong.log.inspect")
def _inspect(ctx: PdkContext, *args: Any) -> None:
    ctx.log("debug", " ".join(json.dumps(a, default=str) for a in args))


@pdk("kong.log.inspect.on", "kong.log.inspect.off", "kong.log.set_format")
def _log_noop(ctx: PdkContext, *args: Any) -> None:
    return None


@pdk("kong.log.set_serialize_value")
def _set_serialize_value(ctx: PdkContext, key: Any, value: Any = None, options: Any = None) -> None:
    if not isinstance(key, str):
        raise PdkThrow("key must be a string")
    mode = options.get("mode", "set") if isinstance(options, dict) else "set"
    if mode not in ("set", "add", "replace"):
        raise PdkThrow("mode must be 'set', 'add' or 'replace'")
    if ctx.in_log:
        return  # lands in the timer's clone of ngx.ctx: too late for any logger, no visible effect
    ctx.req.serialize_ops.append((key, value, mode))
    edit_serialized(ctx.req.serialize_values, key, value, mode)  # the tree of plugin-set values only


# ---------------------------------------------------------------- router, plugin, node, vault, misc


@pdk("kong.router.get_route")
def _route(ctx: PdkContext) -> Any:
    return ctx.req.route


@pdk("kong.router.get_service")
def _service(ctx: PdkContext) -> Any:
    return ctx.req.service


@pdk("kong.plugin.get_id")
def _plugin_id(ctx: PdkContext) -> str:
    return ctx.plugin_id


@pdk("kong.node.get_id")
def _node_id(ctx: PdkContext) -> str:
    return ctx.node.node_id


@pdk("kong.node.get_hostname")
def _hostname(ctx: PdkContext) -> str:
    return ctx.node.hostname


@pdk("kong.node.get_memory_stats")
def _memory_stats(ctx: PdkContext, unit: Any = None, scale: Any = None) -> dict[str, Any]:
    return {"lua_shared_dicts": {}, "workers_lua_vms": [{"http_allocated_gc": 0, "pid": 0}]}


@pdk("kong.cluster.get_id")
def _cluster_id(ctx: PdkContext) -> None:
    return None  # DB-less, no cluster


@pdk("kong.ip.is_trusted")
def _is_trusted(ctx: PdkContext, address: Any) -> bool:
    return False  # trusted_ips is empty by default


@pdk("kong.nginx.get_subsystem")
def _subsystem(ctx: PdkContext) -> str:
    return "http"


@pdk("kong.nginx.get_statistics")
def _statistics(ctx: PdkContext) -> dict[str, int]:
    return {
        "connections_active": 1,
        "connections_reading": 0,
        "connections_writing": 1,
        "connections_waiting": 0,
        "connections_accepted": 1,
        "connections_handled": 1,
        "total_requests": 1,
    }


def _parse_reference(reference: Any) -> dict[str, Any] | None:
    if not isinstance(reference, str):
        return None
    m = VAULT_RE.match(reference)
    if not m:
        return None
    resource, _, key = m.group(2).partition("/")
    out: dict[str, Any] = {"name": m.group(1), "resource": resource}
    if key:
        out["key"] = key
    return out


@pdk("kong.vault.get")
def _vault_get(ctx: PdkContext, reference: Any) -> str | None:
    ref = _parse_reference(reference)
    if ref is None:
        ctx.log("error", f"unable to parse vault reference {reference!r}")
        return None
    if ref["name"] != "env":
        raise NotEmulated(f"vault {ref['name']!r} (only the env vault is emulated)")
    env_name = ref["resource"].upper().replace("-", "_")
    value = ctx.node.vault_env.get(env_name)
    if value is not None and "key" in ref:
        try:
            value = json.loads(value).get(ref["key"])
        except (ValueError, AttributeError):
            value = None
    return value


@pdk("kong.vault.is_reference")
def _vault_is_reference(ctx: PdkContext, reference: Any) -> bool:
    return isinstance(reference, str) and reference.startswith("{vault://") and reference.endswith("}")


@pdk("kong.vault.parse_reference")
def _vault_parse(ctx: PdkContext, reference: Any) -> dict[str, Any] | None:
    return _parse_reference(reference)


@pdk("kong.vault.update")
def _vault_update(ctx: PdkContext, options: Any) -> Any:
    return options


@pdk("kong.vault.flush", "kong.telemetry.log", "kong.table.new", "kong.table.clear")
def _noop(ctx: PdkContext, *args: Any) -> None:
    return None


@pdk("kong.table.merge")
def _table_merge(ctx: PdkContext, t1: Any = None, t2: Any = None) -> Any:
    out: dict[Any, Any] = {}
    for t in (t1, t2):
        if isinstance(t, dict):
            out.update(t)
    return out
