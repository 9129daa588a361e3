"""The harness gateway: plugin servers + declarative config + router + plugin chain + HTTP
front + upstream client, wired the way Kong 3.9.3 runs a request:

  route -> access (plugins by priority, resolved lazily so consumer-scoped configs apply
  once an auth plugin set the consumer; an exit skips the rest) -> proxy (buffered when a
  plugin with a `response` handler applies, streamed otherwise) -> response phase
  (buffered only) -> client -> log phase, asynchronously on a snapshot.

    gw = Gateway("kong-local.yaml", env={...}, upstream_hosts={"bedrock-runtime...": emu.url})
    gw.start()                      # plugin servers (dumps -> installed plugins), config, front
    gw.url                          # http://127.0.0.1:<free port>
    gw.access_log()                 # list of dicts, one per request (waits for log phases)
    gw.file_log()                   # Kong's file-log lines (when /dev/stdout is redirected)
    gw.error_log(), gw.rpc_stats(), gw.violations(), gw.reset_rpc_stats()
    gw.load("other.yaml")           # reload: new __seq__, every external instance restarts
    gw.stop()

Options: port (0 = free), plugin_scripts (default our three; () = none; a `.py` path = a
test plugin), run_mode, max_body_size (413 above it), tls_verify, echo_access_log,
file_log_redirects, node (a KongNode to share or to echo the error log).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kong_plugins.testing.kong import runner
from kong_plugins.testing.kong import upstream as upstream_client
from kong_plugins.testing.kong.access_log import AccessLog, access_entry
from kong_plugins.testing.kong.bundled import BUNDLED, BundledPlugin, FileLog
from kong_plugins.testing.kong.bundled.base import KONG_VERSION, kong_error
from kong_plugins.testing.kong.declarative import Config, PluginConfig, installed_bundled, load_file
from kong_plugins.testing.kong.external import External
from kong_plugins.testing.kong.front import Front, ResponseWriter
from kong_plugins.testing.kong.node import KongNode
from kong_plugins.testing.kong.plugin_server import DEFAULT_RUN_MODE, PLUGIN_SCRIPTS, RunMode
from kong_plugins.testing.kong.request import ClientResponse, KongRequest, ServiceResponse, UpstreamRequest
from kong_plugins.testing.kong.router import Router
from kong_plugins.testing.kong.runner import Step

DEFAULT_MAX_BODY = 10 * 1024 * 1024  # our kong.conf's nginx_http_client_max_body_size (10m)
NO_ROUTE = "no Route matched with those values"


class BundledStep:
    """A bundled plugin's config bound to the runner's Step protocol."""

    def __init__(self, plugin: BundledPlugin, config: PluginConfig) -> None:
        self.plugin = plugin
        self.config = config
        self.name = plugin.name
        self.priority = plugin.priority
        self.phases = frozenset(plugin.phases)
        self.is_global = config.service_id is None and config.route_id is None and config.consumer_id is None

    def run(self, phase: str, req: KongRequest) -> None:
        self.plugin.run(phase, req, self.config.config)


class Gateway:
    def __init__(
        self,
        config_path: str | Path,
        *,
        env: Mapping[str, str] | None = None,
        upstream_hosts: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        plugin_scripts: Sequence[str] | None = None,
        run_mode: RunMode = DEFAULT_RUN_MODE,
        node: KongNode | None = None,
        max_body_size: int = DEFAULT_MAX_BODY,
        echo_access_log: bool = False,
        tls_verify: bool = True,
        prefix: str | Path | None = None,
        file_log_redirects: Mapping[str, str] | None = None,
    ) -> None:
        """`env`: extra environment for the plugin servers and for `{vault://env/...}`.
        `plugin_scripts`: the external plugin servers to start (default: our three; () = none).
        Nothing runs until start()."""
        self.config_path = Path(config_path)
        self.env = dict(env or {})
        self.upstream_hosts = dict(upstream_hosts or {})
        self.node = node or KongNode()
        if env is not None:
            self.node.vault_env.update(self.env)
        scripts = PLUGIN_SCRIPTS if plugin_scripts is None else tuple(plugin_scripts)
        self.external: External | None = None
        if scripts:
            server_env = {**os.environ, **self.env}
            self.external = External(self.node, scripts=scripts, env=server_env, mode=run_mode, prefix=prefix)
        self.max_body_size = max_body_size
        self.tls_verify = tls_verify
        self._access_log = AccessLog(echo=echo_access_log)
        self._log_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kong-log")
        self._pending: set[Future[None]] = set()
        self._markers: dict[int, Future[None]] = {}
        self._pending_lock = threading.Lock()
        self._seq = 0
        self._front = Front(
            self.handle,
            host=host,
            port=port,
            max_body_size=max_body_size,
            on_crash=self._on_crash,
            on_rejected=self._on_rejected,
        )
        self.config: Config = Config()
        self.router = Router([], {})
        self._bundled: dict[str, BundledPlugin] = {}
        self._file_log_redirects = dict(file_log_redirects or {})
        self._started = False

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self._front.url

    @property
    def port(self) -> int:
        return self._front.port

    def start(self) -> Gateway:
        """Start the plugin servers (their dumps define the installed plugins), load the
        config, then open the front. On any failure everything started is stopped again."""
        try:
            if self.external is not None:
                self.external.start()
            self.load(self.config_path)
            self._front.start()
        except BaseException:
            self._stop_external()
            self._front.server.server_close()
            raise
        self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            self._front.stop()
            self._started = False
        self.wait_idle(5.0)
        self._log_pool.shutdown(wait=False, cancel_futures=True)
        self._stop_external()

    def _stop_external(self) -> None:
        if self.external is not None:
            self.external.stop()

    def __enter__(self) -> Gateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def load(self, config_path: str | Path) -> Config:
        """Load (or reload) a declarative config; like Kong DB-less, every reload gets a new
        __seq__, which restarts every external plugin instance."""
        installed = installed_bundled(list(BUNDLED))
        if self.external is not None:
            installed.update(self.external.installed())
        config = load_file(config_path, installed, self.node.vault_env)
        for warning in config.warnings:
            self.node.log("warn", f"[harness] {warning}")
        self._bundled = {cls.name: cls(db=config) for cls in BUNDLED}
        file_log = self._bundled["file-log"]
        if isinstance(file_log, FileLog) and self._file_log_redirects:
            file_log.redirects = self._file_log_redirects  # instance attribute, per gateway
        self.config = config
        self.router = Router(config.routes, config.services)
        self._seq += 1
        self.config_path = Path(config_path)
        return config

    # -- observation ----------------------------------------------------------------------
    def access_log(self) -> list[dict[str, Any]]:
        self.wait_idle()
        return self._access_log.entries()

    def file_log(self, path: str = "/dev/stdout") -> list[dict[str, Any]]:
        """Lines Kong's file-log plugin wrote to `path` (through a redirect, if one is set)."""
        self.wait_idle()
        target = Path(self._file_log_redirects.get(path, path))
        if path.startswith("/dev/") and path not in self._file_log_redirects:
            return []
        if not target.exists():
            return []
        return [json.loads(line) for line in target.read_text().splitlines() if line.strip()]

    def error_log(self) -> list[str]:
        return [str(line) for line in self.node.error_log.lines()]

    def rpc_stats(self) -> dict[str, Any]:
        return self.external.rpc_stats() if self.external is not None else {}

    def reset_rpc_stats(self) -> None:
        """Zero the RPC counters (measure a few requests after a warm-up)."""
        if self.external is not None:
            self.external.reset_stats()

    def plugin_server_pids(self) -> list[int]:
        return self.external.pids() if self.external is not None else []

    def violations(self) -> list[str]:
        return list(self.node.violations)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait for the log phases still running in the background."""
        deadline = time.monotonic() + timeout
        while True:
            with self._pending_lock:
                pending = [f for f in self._pending if not f.done()]
            if not pending or time.monotonic() > deadline:
                return
            time.sleep(0.005)

    # -- one request ----------------------------------------------------------------------
    def handle(self, req: KongRequest, out: ResponseWriter) -> None:
        started = time.monotonic()
        timings: dict[str, float] = {"start": started}
        steps: list[Step] = []
        rewrite = [st for st in self._global_steps(req) if "rewrite" in st.phases]
        if rewrite:  # before routing, global configurations only (Kong's rewrite phase)
            # The service request is the client request until a route is known.
            req.upstream = UpstreamRequest(
                "http",
                "",
                0,
                req.method,
                req.path,
                req.raw_query,
                {k: list(v) for k, v in req.headers.items()},
                req.body,
            )
            runner.run_phase(rewrite, "rewrite", req, self.node)
        match = None if req.exited else self.router.match(req.method, req.path, req.header("host") or req.host)
        if req.exited:
            pass
        elif match is None:
            kong_error(req, 404, NO_ROUTE)
        else:
            req.route, req.service, req.uri_captures = match.route, match.service, match.captures
            if match.service is not None:
                req.upstream = self._upstream_request(req, match.service, match.upstream_path)
            steps = self._run_access(req)
            if not req.exited and match.service is None:
                kong_error(req, 503, "no Service found with those values")  # kong/init.lua
        try:
            if req.exited:
                self._finish_kong_response(req, out, timings)
            else:
                self._proxy(req, steps, out, timings)
        finally:
            # Also when the client went away mid-answer: Kong still logs the request.
            self._record(req, timings)
            self._after(req, steps, timings)

    def _steps_for(self, req: KongRequest) -> list[tuple[str, int]]:
        route_id = (req.route or {}).get("id")
        service_id = (req.service or {}).get("id")
        return [(n, self.config.installed[n].priority) for n in self.config.plugin_names_for(route_id, service_id)]

    def _resolve(self, name: str, req: KongRequest) -> Step | None:
        spec = self.config.installed[name]
        pc = self.config.resolve(
            name, (req.route or {}).get("id"), (req.service or {}).get("id"), (req.consumer or {}).get("id")
        )
        if pc is None or not spec.emulated:
            return None
        if spec.external:
            if self.external is None:
                return None
            return self.external.step(pc, self._seq)
        return BundledStep(self._bundled[name], pc)

    def _run_access(self, req: KongRequest) -> list[Step]:
        """Access phase in priority order; each plugin's config is picked when it is reached,
        with the consumer known at that moment (Kong's collecting iterator)."""
        ran: list[Step] = []
        for name, _priority in self._steps_for(req):
            step = self._resolve(name, req)
            if step is None:
                continue
            ran.append(step)
            runner.run_phase([step], "access", req, self.node)  # also marks buffered proxying
            if req.exited:
                break
        if req.exited:
            req.buffered = False
        return ran

    def _upstream_request(self, req: KongRequest, service: dict[str, Any], path: str) -> UpstreamRequest:
        early = req.upstream  # what the rewrite phase changed, if it ran
        headers = {k: list(v) for k, v in (early.headers if early else req.headers).items()}
        xff = headers.get("x-forwarded-for")
        headers["x-forwarded-for"] = [f"{xff[0]}, {req.client_ip}" if xff else req.client_ip]
        headers["x-forwarded-proto"] = [req.scheme]
        headers["x-forwarded-host"] = [req.host]
        headers["x-forwarded-port"] = [str(req.port)]
        headers["x-forwarded-path"] = [req.path]
        headers["x-real-ip"] = [req.client_ip]
        headers["x-kong-request-id"] = [req.request_id]
        route = req.route or {}
        return UpstreamRequest(
            scheme=service["protocol"],
            host=service["host"],
            port=int(service["port"]),
            method=req.method,
            path=path,
            query=early.query if early else req.raw_query,
            headers=headers,
            body=early.body if early else req.body,
            host_header=(req.header("host") if route.get("preserve_host") else None),
        )

    def _proxy(self, req: KongRequest, steps: list[Step], out: ResponseWriter, timings: dict[str, float]) -> None:
        assert req.upstream is not None and req.service is not None
        service = req.service
        timeouts = req.service_options.get("timeouts") or {}  # kong.service.set_timeouts
        tls_verify = req.service_options.get("tls_verify", self.tls_verify)
        timings["proxy_start"] = time.monotonic()
        try:
            resp = upstream_client.send(
                req.upstream,
                connect_timeout=float(timeouts.get("connect", service["connect_timeout"])) / 1000,
                read_timeout=float(timeouts.get("read", service["read_timeout"])) / 1000,
                overrides=self.upstream_hosts,
                tls_verify=bool(tls_verify),
            )
            timings["first_byte"] = time.monotonic()
            headers = _lower(resp.headers)
            if req.buffered:
                body = resp.read_all()
                timings["upstream_done"] = time.monotonic()
                req.service_response = ServiceResponse(resp.status, headers, body)
                runner.apply_service_response(req)
                runner.run_phase(steps, "response", req, self.node)
                self._finish_buffered(req, out, timings)
                return
        except upstream_client.UpstreamTimeout:
            self._upstream_failed(req, out, timings, 504)
            return
        except upstream_client.UpstreamUnavailable:
            self._upstream_failed(req, out, timings, 502)
            return
        # streaming pass-through
        req.service_response = ServiceResponse(resp.status, headers, b"")
        runner.apply_service_response(req)
        head = _out_headers(req.response.headers) + self._proxy_headers(req, timings)
        out.send_head(resp.status, head, None)
        try:
            for chunk in resp.iter_chunks():
                out.write(chunk)
        except (upstream_client.UpstreamTimeout, upstream_client.UpstreamUnavailable):
            self.node.log("error", f"[harness] upstream stream broke for request {req.request_id}")
        finally:
            resp.close()  # also when the client went away: do not hold the upstream open
        timings["upstream_done"] = time.monotonic()
        req.latencies.update(_latencies(timings))
        self._record(req, timings)
        out.finish()

    def _upstream_failed(self, req: KongRequest, out: ResponseWriter, timings: dict[str, float], status: int) -> None:
        timings["upstream_done"] = time.monotonic()
        req.response = ClientResponse()
        req.buffered = False
        kong_error(req, status)
        req.response.source = "error"
        self._finish_kong_response(req, out, timings)

    def _proxy_headers(self, req: KongRequest, timings: dict[str, float]) -> list[tuple[str, str]]:
        lat = _latencies(timings)
        return [
            ("Via", f"1.1 kong/{KONG_VERSION}"),
            ("X-Kong-Upstream-Latency", str(lat.get("proxy", 0))),
            ("X-Kong-Proxy-Latency", str(lat.get("kong", 0))),
            ("X-Kong-Request-Id", req.request_id),
        ]

    def _finish_buffered(self, req: KongRequest, out: ResponseWriter, timings: dict[str, float]) -> None:
        if req.exited:  # kong.response.exit in the response phase replaced the answer
            self._finish_kong_response(req, out, timings)
            return
        req.latencies.update(_latencies(timings))
        head = _out_headers(req.response.headers) + self._proxy_headers(req, timings)
        self._record(req, timings)
        out.send_head(req.response.status, head, len(req.response.body))
        out.write(req.response.body)
        out.finish()

    def _finish_kong_response(self, req: KongRequest, out: ResponseWriter, timings: dict[str, float]) -> None:
        req.latencies.update(_latencies(timings))
        body = req.response.body
        head = [(k, v) for k, v in _out_headers(req.response.headers) if k.lower() != "server"]
        lat = req.latencies
        head += [
            ("X-Kong-Response-Latency", str(lat.get("kong", 0))),
            ("Server", f"kong/{KONG_VERSION}"),
            ("X-Kong-Request-Id", req.request_id),
        ]
        self._record(req, timings)
        out.send_head(req.response.status, head, len(body))
        out.write(body)
        out.finish()

    # -- after the response ---------------------------------------------------------------
    def _record(self, req: KongRequest, timings: dict[str, float]) -> None:
        """The access-log line, once per request (before the last byte, so a test that got its
        answer always finds the line)."""
        if "recorded" in timings:
            return
        timings["recorded"] = 1.0
        # From here until its log phase is queued, the request counts as pending: a test that
        # has its answer and calls wait_idle() must not miss the log phase.
        marker: Future[None] = Future()
        with self._pending_lock:
            self._pending = {f for f in self._pending if not f.done()}
            self._pending.add(marker)
            self._markers[id(req)] = marker
        if not req.latencies:
            req.latencies.update(_latencies(timings))
        self._access_log.add(access_entry(req))

    def _after(self, req: KongRequest, steps: list[Step], timings: dict[str, float]) -> None:
        with self._pending_lock:
            marker = self._markers.pop(id(req), None)
        try:
            self._queue_log_phase(req, steps)
        finally:
            if marker is not None:
                marker.set_result(None)

    def _queue_log_phase(self, req: KongRequest, steps: list[Step]) -> None:
        """The log phase runs after the response, in the background, like Kong's log timer."""
        log_steps = [s for s in steps if "log" in s.phases]
        if req.route is not None:
            # Plugins skipped by an exit in access still log (Kong runs log for all collected plugins).
            names = {s.name for s in steps}
            for name, _ in self._steps_for(req):
                if name in names:
                    continue
                step = self._resolve(name, req)
                if step is not None and "log" in step.phases:
                    log_steps.append(step)
        else:
            log_steps = [st for st in self._global_steps(req) if "log" in st.phases]
        if not log_steps:
            return
        snapshot = runner.take_log_snapshot(req)
        future = self._log_pool.submit(runner.run_log, log_steps, req, self.node, snapshot)
        with self._pending_lock:
            self._pending = {f for f in self._pending if not f.done()}
            self._pending.add(future)

    def _global_steps(self, req: KongRequest) -> list[Step]:
        """Steps of the global configurations (no route, service or consumer)."""
        names = {p.name for p in self.config.plugins if p.enabled and p.scope == (False, False, False)}
        out: list[Step] = []
        for name in sorted(names):
            step = self._resolve(name, req)
            if step is not None:
                out.append(step)
        return out

    def _on_crash(self, req: KongRequest, exc: BaseException) -> None:
        # A crash is a harness bug: the client got Kong's 500, the test must fail.
        self.node.violation(f"harness crashed on request {req.request_id}: {type(exc).__name__}: {exc}")
        print(f"harness crash: {type(exc).__name__}: {exc}", file=sys.stderr)  # noqa: T201

    def _on_rejected(self, method: str, status: int) -> None:
        self._access_log.add({"ts": time.time(), "method": method, "status": status, "route": None})


def _lower(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k.lower(), []).append(v)
    return out


def _out_headers(headers: dict[str, list[str]]) -> list[tuple[str, str]]:
    # nginx passes the upstream's Server and Date (Kong's proxy_pass_header); Kong adds Via.
    skip = {"content-length", "transfer-encoding", "connection", "via"}
    return [(k, v) for k, values in headers.items() if k not in skip for v in values]


def _latencies(t: dict[str, float]) -> dict[str, int]:
    now = time.monotonic()
    start = t["start"]
    total = int((now - start) * 1000)
    if "proxy_start" in t:
        upstream = int((t.get("upstream_done", now) - t["proxy_start"]) * 1000)
        return {"kong": max(0, total - upstream), "proxy": upstream, "request": total, "receive": 0}
    return {"kong": total, "proxy": -1, "request": total, "receive": 0}


__all__ = ["BundledStep", "Gateway"]
