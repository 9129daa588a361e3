"""Kong's side of a PDK call from a plugin server (mp_rpc.lua `call_pdk_method`).

`PdkResponder.call(name, args, ctx)` answers one `{Method, Args}` the way Kong 3.9.3 does:
unknown names -> "could not find pdk method" and None (plus a harness violation, so the test
fails); wrong phase or bad argument -> `PdkThrow` (the Lua error aborts the plugin's phase);
only the first return value; multi-map / raw-body fix-ups; values shaped as they come back
through Lua (empty tables -> [], integral floats -> ints, arrays with holes -> maps).
The functions themselves live in the pdk_api package.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kong_plugins.testing.kong.node import KongNode
from kong_plugins.testing.kong.pdk_methods import MULTI_MAP, NO_RPC, PDK_PHASES, RAW_BODY, TERMINAL
from kong_plugins.testing.kong.request import KongRequest


class PdkThrow(Exception):
    """A Lua error raised inside Kong by a PDK function: the plugin's phase handler aborts."""


class NotEmulated(Exception):
    """The harness does not emulate this (existing) PDK function; recorded as a violation."""


@dataclass
class LogSnapshot:
    """What Kong hands its log timer (plugin.lua build_phases): taken when the response is done."""

    serialize: dict[str, Any]
    ngx_ctx: dict[str, Any]
    ctx_shared: dict[str, Any]
    request_headers: dict[str, list[str]]
    response_headers: dict[str, list[str]]
    response_status: int
    req_start_time: float


@dataclass
class PdkContext:
    """One event of one plugin: where the call happens and on which request."""

    phase: str
    req: KongRequest
    node: KongNode
    plugin_id: str
    plugin_name: str
    snapshot: LogSnapshot | None = None
    ngx_ctx: dict[str, Any] = field(default_factory=dict)  # log: this plugin's clone of ngx.ctx
    exited: bool = False  # kong.response.exit/error was called in this event

    @property
    def in_log(self) -> bool:
        return self.phase == "log"

    def log(self, level: str, message: str) -> None:
        self.node.log(level, f"[kong] [{self.plugin_name}] {message}")


PdkFunction = Callable[..., Any]
REGISTRY: dict[str, PdkFunction] = {}


def pdk(*names: str) -> Callable[[PdkFunction], PdkFunction]:
    """Register the emulation of one or more PDK names."""

    def register(fn: PdkFunction) -> PdkFunction:
        for name in names:
            if name not in PDK_PHASES:
                raise AssertionError(f"{name} is not a Kong 3.9.3 OSS PDK function")
            REGISTRY[name] = fn
        return fn

    return register


def lua_args(args: Any) -> list[Any]:
    """`unpack(Args)`: LuaJIT's length operator stops at the first nil of a fresh array."""
    if not isinstance(args, list):
        return [] if args is None else [args]
    out: list[Any] = []
    for a in args:
        if a is None:
            break
        out.append(a)
    return out


def lua_value(value: Any) -> Any:
    """A Python value as it comes back after a trip through a Lua table and lua-MessagePack."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")  # Lua strings go out as msgpack str
    if isinstance(value, list | tuple):
        if not value:
            return []
        if any(v is None for v in value):  # a table with holes is packed as a map
            return {i + 1: lua_value(v) for i, v in enumerate(value) if v is not None}
        return [lua_value(v) for v in value]
    if isinstance(value, dict):
        items = {k: lua_value(v) for k, v in value.items() if v is not None}
        if not items:
            return []
        keys = list(items)
        if all(isinstance(k, int) and not isinstance(k, bool) for k in keys) and sorted(keys) == list(
            range(1, len(keys) + 1)
        ):
            return [items[k] for k in sorted(keys)]
        return items
    return str(value)


def fix_multi_map(value: Any) -> dict[str, list[str]]:
    """mp_rpc.lua fix_mmap: str -> [str], True -> [], lists kept; empty -> {} (a real map)."""
    out: dict[str, list[str]] = {}
    if not isinstance(value, dict):
        return out
    for k, v in value.items():
        if v is True:
            out[k] = []
        elif isinstance(v, str):
            out[k] = [v]
        elif isinstance(v, list):
            out[k] = [str(x) for x in v]
        else:
            out[k] = lua_value(v)
    return out


def cjson_encode(value: Any) -> str:
    """cjson.encode as Kong configures it: compact, '/' escaped, empty tables as {}."""

    def prepare(v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): prepare(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [prepare(x) for x in v] if v else {}
        if isinstance(v, bytes):
            return v.decode("utf-8", errors="replace")
        return v

    return json.dumps(prepare(value), separators=(",", ":"), ensure_ascii=False).replace("/", "\\/")


class PdkResponder:
    """Stateless: all state is in the PdkContext (request, node)."""

    def call(self, name: str, args: Any, ctx: PdkContext) -> Any:
        """The value Kong sends back in Data, or raise PdkThrow (event aborted)."""
        fn = REGISTRY.get(name)
        if name not in PDK_PHASES:
            ctx.node.violation(f"{ctx.plugin_name} called {name!r}, which does not exist in Kong 3.9.3 OSS")
            ctx.log("error", f"could not find pdk method: {name}")
            return None
        if ctx.phase not in PDK_PHASES[name]:
            raise PdkThrow(f"{name}: function cannot be called in {_phase_label(ctx.phase)} phase")
        if name in NO_RPC or fn is None:
            ctx.node.violation(f"{ctx.plugin_name} called {name!r}, which the harness does not emulate")
            return None
        try:
            result = fn(ctx, *lua_args(args))
        except PdkThrow:
            raise
        except NotEmulated as exc:
            ctx.node.violation(f"{ctx.plugin_name} called {name}: {exc}")
            return None
        except (TypeError, ValueError) as exc:  # wrong arity or argument type: Lua would throw
            raise PdkThrow(f"{name}: {exc}") from exc
        except Exception as exc:  # a bug in the emulation: fail the test loudly, keep serving
            ctx.node.violation(f"harness error in {name}: {type(exc).__name__}: {exc}")
            raise PdkThrow(f"{name}: harness error") from exc
        if name in TERMINAL:
            ctx.exited = True
        if name in MULTI_MAP:
            return fix_multi_map(result)
        if name in RAW_BODY:
            if result is None:
                raise PdkThrow("bad argument #1 to 'pack' (string expected, got nil)")  # fix_raw on nil
            return bytes(result) if isinstance(result, bytes | bytearray) else str(result).encode()
        return lua_value(result)


def _phase_label(phase: str) -> str:
    return "timer" if phase == "log" else phase


# Make the implementations register themselves.
from kong_plugins.testing.kong import pdk_api as _pdk_api  # noqa: E402

__all__ = [
    "REGISTRY",
    "LogSnapshot",
    "NotEmulated",
    "PdkContext",
    "PdkResponder",
    "PdkThrow",
    "cjson_encode",
    "fix_multi_map",
    "lua_args",
    "lua_value",
    "_pdk_api",
]
