"""Kong's phase runner and the external-plugin step (kong/init.lua, plugins_iterator.lua,
plugin_servers/plugin.lua + rpc/mp_rpc.lua at 3.9.3).

A Step is one plugin configuration applying to a request: an external plugin reached over
RPC (ExternalPluginStep) or a bundled Lua plugin emulated in Python by the Gateway. The runner
sorts by priority, runs one phase, and applies Kong's outcome rules:
- access: an exit ends the chain; a plugin error -> 500 {"message":"An unexpected error occurred"}.
- rewrite/response: an error -> Kong's error page 500; an exit in response replaces the body.
- log: after the response, on a snapshot; errors are only logged.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from kong_plugins.testing.kong.node import DEFAULT_WS_ID, KongNode
from kong_plugins.testing.kong.pdk import LogSnapshot, PdkContext, PdkResponder, PdkThrow
from kong_plugins.testing.kong.pdk_api import exit_response, kong_error_body, serialize
from kong_plugins.testing.kong.pdk_methods import TERMINAL, step_method
from kong_plugins.testing.kong.plugin_server import PluginInfo, PluginServer
from kong_plugins.testing.kong.request import KongRequest
from kong_plugins.testing.kong.rpc import KONG_READ_TIMEOUT, RpcClient, RpcError, RpcStats

UNEXPECTED = {"message": "An unexpected error occurred"}
GLOBAL_ONLY_PHASES = ("certificate", "rewrite")


class PluginError(Exception):
    """A plugin's phase handler failed inside Kong (Lua error): 500 unless in log."""


@runtime_checkable
class Step(Protocol):
    """One plugin configuration applying to the current request.

    `run` signals a failure of Kong's handler by setting req.plugin_error (or raising
    PluginError/PdkThrow); an answer to the client by setting req.exited. Optional attribute
    `is_global` (default True): certificate/rewrite run only for global configurations.
    """

    name: str
    priority: int
    phases: frozenset[str]

    def run(self, phase: str, req: KongRequest) -> None: ...


@dataclass(frozen=True)
class PluginConfig:
    """A plugin entity as the declarative loader produced it (config = defaults filled in)."""

    id: str
    name: str
    config: dict[str, Any]
    seq: int
    route_id: str | None = None
    service_id: str | None = None
    consumer_id: str | None = None
    instance_name: str | None = None
    ws_id: str = DEFAULT_WS_ID

    @property
    def is_global(self) -> bool:
        return not (self.route_id or self.service_id or self.consumer_id)

    def kong_config(self) -> dict[str, Any]:
        """What Kong JSON-encodes into StartInstance's Config (plugins_iterator get_plugin_config)."""
        cfg = dict(self.config)  # unset fields stay null (cjson.null), as Kong's schema leaves them
        extra: dict[str, Any] = {
            "route_id": self.route_id,
            "service_id": self.service_id,
            "consumer_id": self.consumer_id,
            "plugin_instance_name": self.instance_name,
            "__plugin_id": self.id,
            "__ws_id": self.ws_id,
            "__key__": (
                f"plugins:{self.name}:{self.route_id or ''}:{self.service_id or ''}:{self.consumer_id or ''}"
                f"::{self.ws_id}"
            ),
            "__seq__": self.seq,
        }
        for key, value in extra.items():
            cfg.pop(key, None)
            if value is not None:  # Lua nil: the key is absent from the JSON
                cfg[key] = value
        return cfg


@dataclass
class _Instance:
    id: int
    seq: int
    plugin_id: str


class ExternalPlugin:
    """Kong's loaded external plugin: one RPC client and the instance cache of one worker."""

    def __init__(
        self,
        info: PluginInfo,
        socket_path: str,
        node: KongNode,
        *,
        rpc_timeout: float = KONG_READ_TIMEOUT,
        keepalive: bool = True,
        server: PluginServer | None = None,
    ) -> None:
        self.info = info
        self.node = node
        self.server = server
        self.stats = RpcStats()
        self.rpc = RpcClient(socket_path, timeout=rpc_timeout, keepalive=keepalive, stats=self.stats)
        self.responder = PdkResponder()
        self._instances: dict[str, _Instance] = {}
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.info.name

    def step(self, config: PluginConfig) -> ExternalPluginStep:
        return ExternalPluginStep(self, config)

    def reset_instances(self) -> None:
        with self._lock:
            self._instances.clear()

    def instance_ids(self) -> dict[str, int]:
        with self._lock:
            return {k: v.id for k, v in self._instances.items()}

    def close(self) -> None:
        self.rpc.close()

    # Kong: Rpc:handle_event + bridge_loop

    def handle_event(
        self, config: PluginConfig, phase: str, req: KongRequest, snapshot: LogSnapshot | None = None
    ) -> None:
        """Run one event. Raises PluginError when Kong's handler would throw; RPC failures fail open."""
        self.stats.count_event(phase)
        ctx = PdkContext(phase, req, self.node, config.id, self.name, snapshot)
        if snapshot is not None:
            ctx.ngx_ctx = dict(snapshot.ngx_ctx)  # each log timer gets its own clone of ngx.ctx
        for attempt in (1, 2):
            instance_id = self._instance_id(config)
            try:
                self._bridge_loop(instance_id, phase, ctx)
                return
            except RpcError as err:
                text = str(err)
                if "no plugin instance" in text.lower() and attempt == 1:
                    self.reset_instances()
                    self._log("warn", text)
                    continue
                self._log("error", text)  # fail open: Kong goes on as if the plugin did nothing
                return

    def _log(self, level: str, message: str) -> None:
        self.node.log(level, f"[kong] [{self.name}] {message}")

    def _instance_id(self, config: PluginConfig) -> int:
        """plugin.lua get_instance_id: reuse while (__plugin_id, __seq__) match; else start + close old."""
        with self._lock:
            cached = self._instances.get(config.id)
            if cached and cached.seq == config.seq and cached.plugin_id == config.id:
                return cached.id
            try:
                status = self.rpc.call(
                    "plugin.StartInstance",
                    {"Name": self.name, "Config": json.dumps(config.kong_config(), separators=(",", ":"))},
                )
            except RpcError as err:
                self._instances.pop(config.id, None)
                self._log("error", f"starting instance: {err}")
                raise PluginError(f"starting instance: {err}") from err
            if not isinstance(status, dict) or not isinstance(status.get("Id"), int):
                self._instances.pop(config.id, None)
                raise PluginError(f"starting instance: unexpected StartInstance result {status!r:.200}")
            new_id: int = status["Id"]
            self._instances[config.id] = _Instance(new_id, config.seq, config.id)
        if cached is not None:
            try:
                self.rpc.call("plugin.CloseInstance", cached.id)
            except RpcError:
                pass  # Kong: "don't care if there's an error, maybe other thread closed it first"
        return new_id

    def _bridge_loop(self, instance_id: int, phase: str, ctx: PdkContext) -> None:
        step = self.rpc.call("plugin.HandleEvent", {"InstanceId": instance_id, "EventName": phase})
        event_id = step.get("EventId") if isinstance(step, dict) else None
        while True:
            if not isinstance(step, dict):  # Kong would index a non-table: a Lua error
                raise PluginError(f"unexpected event reply {step!r:.200}")
            data = step.get("Data")
            if data == "ret":
                return
            if not isinstance(data, dict):
                raise PluginError(f"unexpected event data {data!r}")
            method = str(data.get("Method"))
            self.stats.count_pdk(method)
            try:
                result = self.responder.call(method, data.get("Args"), ctx)
            except PdkThrow as exc:
                # The Lua error unwinds Kong's handler; the Python side is left waiting.
                raise PluginError(str(exc)) from exc
            if method in TERMINAL:
                return  # Kong abandons the event: no Step is sent after exit/error
            step = self.rpc.call(step_method(method), {"EventId": event_id, "Data": result})


@dataclass
class ExternalPluginStep:
    """One configuration of an external plugin, as a chain Step."""

    plugin: ExternalPlugin
    config: PluginConfig
    name: str = field(init=False)
    priority: int = field(init=False)
    phases: frozenset[str] = field(init=False)
    is_global: bool = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.plugin.name
        self.priority = self.plugin.info.priority
        self.phases = self.plugin.info.phases
        self.is_global = self.config.is_global

    def run(self, phase: str, req: KongRequest) -> None:
        """Never raises for plugin failures: a Lua error in Kong's handler sets req.plugin_error
        (access/rewrite/response: the caller answers 500) and is logged; in log it is only logged.
        For `log`, a snapshot of the finished request is taken now, as Kong's log handler does."""
        if phase not in self.phases:
            return  # Kong builds phase closures only for the phases the dump declares
        if phase == "log":
            self.run_log(req, take_log_snapshot(req))
            return
        try:
            self.plugin.handle_event(self.config, phase, req)
        except PluginError as exc:
            self.plugin.node.log("error", f"[kong] [{self.name}] {exc}")
            req.plugin_error = True

    def run_log(self, req: KongRequest, snapshot: LogSnapshot) -> None:
        try:
            self.plugin.handle_event(self.config, "log", req, snapshot)
        except PluginError as exc:
            self.plugin.node.log("error", f"[kong] [{self.name}] {exc}")


# ---------------------------------------------------------------- the chain


def sort_steps(steps: Iterable[Step]) -> list[Step]:
    """Kong's sort_by_handler_priority: priority desc; equal priority -> name desc."""
    by_name = sorted(steps, key=lambda s: s.name, reverse=True)
    return sorted(by_name, key=lambda s: s.priority, reverse=True)


def mark_buffered(steps: Iterable[Step], req: KongRequest) -> None:
    """Any applicable plugin with a `response` handler turns on buffered proxying (plugins_iterator)."""
    if any("response" in s.phases for s in steps):
        req.buffered = True


def run_phase(steps: Sequence[Step], phase: str, req: KongRequest, node: KongNode) -> None:
    """Run `phase` over the plugins applying to `req` (all of them, any order; the runner sorts).

    access also marks buffered proxying. After it, `req.exited` says whether the request was
    answered (by an exit, an error, or Kong's 500 for a failing plugin).
    """
    if phase == "log":
        raise ValueError("use run_log() for the log phase")
    ordered = sort_steps(steps)
    if phase == "access":
        mark_buffered(ordered, req)
    for step in ordered:
        if phase not in step.phases:
            continue
        if phase in GLOBAL_ONLY_PHASES and not getattr(step, "is_global", True):
            continue
        if req.exited:
            break
        try:
            step.run(phase, req)
        except (PluginError, PdkThrow) as exc:
            node.log("error", f"[kong] [{step.name}] {exc}")
            req.plugin_error = True
        except Exception as exc:  # a harness bug: the test must fail, the client gets Kong's 500
            node.violation(f"harness error in {step.name} {phase}: {type(exc).__name__}: {exc}")
            req.plugin_error = True
        if req.plugin_error:
            fail_request(req, phase)
            break


def fail_request(req: KongRequest, phase: str) -> None:
    """What the client gets when a plugin throws. access: flush_delayed_response turns the
    delayed {message = "An unexpected error occurred"} into kong.response.error(500, ...);
    rewrite/response: Kong's error handler. Both give the content-negotiated error template."""
    del phase  # same answer in every phase that can answer
    req.plugin_error = True
    accept = req.header("accept") or req.header("content-type")
    body, ctype = kong_error_body(500, UNEXPECTED["message"], req.request_id, accept)
    exit_response(req, 500, body, {"Content-Type": ctype})
    req.response.source = "error"


def apply_service_response(req: KongRequest) -> None:
    """Kong.response(): the upstream's status and headers become the client response before the
    `response` handlers run (headers set in access survive unless the upstream sends the same name)."""
    sr = req.service_response
    if sr is None:
        return
    req.response.status = sr.status
    for name, values in sr.headers.items():
        if name in ("content-length", "transfer-encoding", "connection"):
            continue
        req.response.headers[name] = list(values)
    req.response.body = sr.body
    req.response.source = "service"


def take_log_snapshot(req: KongRequest) -> LogSnapshot:
    """What plugin.lua hands the log timer, taken once the response was sent."""
    return LogSnapshot(
        serialize=serialize(req),
        ngx_ctx=copy.copy(req.ngx_ctx),
        ctx_shared=req.ctx_shared,  # Kong passes the table itself, not a copy
        request_headers={k: list(v) for k, v in req.headers.items()},
        response_headers={k: list(v) for k, v in req.response.headers.items()},
        response_status=req.response.status,
        req_start_time=req.start_time,
    )


def run_log(steps: Sequence[Step], req: KongRequest, node: KongNode, snapshot: LogSnapshot | None = None) -> None:
    """The log phase, after the response is sent. External plugins run on the snapshot (Kong's
    timer); bundled steps get `run("log", req)`. Errors are only logged. Call it from a
    background thread if the client must not wait (Kong does)."""
    snap = snapshot or take_log_snapshot(req)
    for step in sort_steps(steps):
        if "log" not in step.phases:
            continue
        try:
            if isinstance(step, ExternalPluginStep):
                step.run_log(req, snap)
            else:
                step.run("log", req)
        except (PluginError, PdkThrow) as exc:  # bundled steps may raise
            node.log("error", f"[kong] [{step.name}] {exc}")
        except Exception as exc:
            node.violation(f"harness error in {step.name} log: {type(exc).__name__}: {exc}")
