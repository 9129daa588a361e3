"""Start, query, supervise and stop one dedicated kong-pdk plugin server the way Kong 3.9.3 does
(kong/runloop/plugin_servers/process.lua).

- query_cmd `<script> -dump` is run once; stdout must be exactly the JSON document and only
  its first element counts. The info is validated as kong/db/dao/plugins.lua does.
- start_cmd `<script> -kong-prefix <prefix> [-g]`, socket `<prefix>/<name>.sock` (set
  explicitly, as our kong.conf does). Output lines (stdout+stderr) go to the error log at
  info as `[<name>:<pid>] <line>`. A server that dies is respawned at most once a second,
  except after exit status 127. Stop = SIGTERM (then SIGKILL if it lingers) and the socket
  file is removed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kong_plugins.testing.kong.node import ErrorLog
from kong_plugins.testing.kong.pdk_methods import PLUGIN_PHASES

RunMode = Literal["threads", "gevent"]
DEFAULT_RUN_MODE: RunMode = "gevent"  # docs/decisions/0001-plugin-server-run-mode.md
PLUGIN_SCRIPTS = ("bedrock-proxy", "token-meter", "ecommerce-guardrails")
_VERSION_RE = re.compile(r"\d+\.\d+\.\d+")
MAX_SOCKET_PATH = 107  # sun_path limit on Linux


class PluginInfoError(ValueError):
    """Kong would refuse to load this plugin server's dump."""


class PluginServerError(RuntimeError):
    """The plugin server could not be started (or its socket never appeared)."""


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    priority: int
    phases: frozenset[str]
    schema: dict[str, Any]
    protocol: str = "MsgPack:1"

    @property
    def config_fields(self) -> list[Any]:
        """The plugin's config fields (Kong schema DSL), as H2's validator needs them."""
        for f in self.schema.get("fields", []):
            if isinstance(f, dict) and "config" in f:
                return list(f["config"].get("fields", []))
        return []


def parse_plugin_info(stdout: str | bytes, *, source: str = "query_cmd") -> PluginInfo:
    """Decode and validate a `-dump` output as Kong 3.9.3 does (first element only)."""
    try:
        dump = json.loads(stdout)
    except ValueError as exc:
        raise PluginInfoError(f"failed decoding plugin info from {source}: {exc}") from exc
    if not isinstance(dump, list | dict):
        raise PluginInfoError(f"not a plugin info table: {source}: {stdout!r:.200}")
    protocol = dump.get("Protocol", "MsgPack:1") if isinstance(dump, dict) else "MsgPack:1"
    plugins = dump.get("Plugins") if isinstance(dump, dict) else dump
    if not isinstance(plugins, list) or not plugins or not isinstance(plugins[0], dict):
        raise PluginInfoError(f"not a plugin info table: {source}: {stdout!r:.200}")
    info = plugins[0]
    name = info.get("Name")
    if not isinstance(name, str) or not name:
        raise PluginInfoError(f"plugin info from {source} has no Name")
    priority = info.get("Priority")
    if isinstance(priority, bool) or not isinstance(priority, int | float) or priority != priority:
        raise PluginInfoError(
            f'Plugin "{name}" cannot be loaded because its PRIORITY field is not a valid integer number, '
            f'got: "{priority}".'
        )
    if isinstance(priority, float):
        if priority in (float("inf"), float("-inf")) or priority != int(priority):
            raise PluginInfoError(
                f'Plugin "{name}" cannot be loaded because its PRIORITY field is not a valid integer number, '
                f'got: "{priority}".'
            )
        priority = int(priority)
    version = info.get("Version")
    if not isinstance(version, str) or not _VERSION_RE.fullmatch(version):
        shown = "nil" if version is None else version
        raise PluginInfoError(
            f'Plugin "{name}" cannot be loaded because its VERSION field does not follow the "x.y.z" format, '
            f'got: "{shown}".'
        )
    phases = info.get("Phases") or []
    if not isinstance(phases, list):
        raise PluginInfoError(f'Plugin "{name}": Phases must be a list, got {phases!r}')
    unknown = [p for p in phases if p not in PLUGIN_PHASES]
    if unknown:
        raise PluginInfoError(f'Plugin "{name}" declares unknown phase(s) {unknown}; known: {sorted(PLUGIN_PHASES)}')
    schema = info.get("Schema")
    if not isinstance(schema, dict):
        raise PluginInfoError(f'Plugin "{name}" has no Schema record')
    return PluginInfo(name, version, int(priority), frozenset(phases), schema, str(protocol))


def script_command(script: str) -> list[str]:
    """argv prefix for a console script name (bedrock-proxy, ...) or a test plugin `.py` file."""
    if script.endswith(".py"):
        return [sys.executable, str(Path(script).resolve())]
    bindir = Path(sys.executable).parent
    candidate = bindir / script
    if candidate.exists():
        return [str(candidate)]
    found = shutil.which(script)
    if not found:
        raise PluginServerError(f"plugin server script {script!r} not found in {bindir} or on PATH")
    return [found]


@dataclass(frozen=True)
class ServerDef:
    """One `pluginserver_<name>_*` block of kong.conf."""

    name: str
    start_cmd: tuple[str, ...]
    query_cmd: tuple[str, ...]
    socket: str

    @classmethod
    def for_script(cls, script: str, prefix: str | Path, *, mode: RunMode = DEFAULT_RUN_MODE) -> ServerDef:
        base = script_command(script)
        name = Path(script).stem if script.endswith(".py") else script
        start = [*base, "-kong-prefix", str(prefix)]
        if mode == "gevent":
            start.append("-g")
        return cls(name, tuple(start), (*base, "-dump"), str(Path(prefix) / f"{name}.sock"))

    def kong_conf(self) -> dict[str, str]:
        """The kong.conf keys (as KONG_* env) that describe this server."""
        key = "KONG_PLUGINSERVER_" + self.name.upper().replace("-", "_")
        return {
            f"{key}_SOCKET": self.socket,
            f"{key}_START_CMD": " ".join(self.start_cmd),
            f"{key}_QUERY_CMD": " ".join(self.query_cmd),
        }


def query_plugin_info(query_cmd: tuple[str, ...] | list[str], *, env: dict[str, str] | None = None) -> PluginInfo:
    try:
        proc = subprocess.run(list(query_cmd), capture_output=True, env=env, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PluginInfoError(f"error loading plugins info from [{' '.join(query_cmd)}]: {exc}") from exc
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise PluginInfoError(f"query command {' '.join(query_cmd)} exited {proc.returncode}: {' | '.join(tail)}")
    return parse_plugin_info(proc.stdout, source=" ".join(query_cmd))


@dataclass
class _Proc:
    popen: subprocess.Popen[bytes]
    reader: threading.Thread


@dataclass
class PluginServer:
    """A supervised dedicated plugin server. Use `start()`/`stop()` or a `with` block."""

    server_def: ServerDef
    env: dict[str, str] | None = None
    error_log: ErrorLog = field(default_factory=ErrorLog)
    respawn: bool = True
    respawn_interval: float = 1.0  # Kong: at most one spawn a second
    info: PluginInfo | None = None
    spawns: int = 0

    def __post_init__(self) -> None:
        self._proc: _Proc | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None
        self._started = threading.Event()

    @classmethod
    def for_script(
        cls,
        script: str,
        prefix: str | Path,
        *,
        mode: RunMode = DEFAULT_RUN_MODE,
        env: dict[str, str] | None = None,
        error_log: ErrorLog | None = None,
    ) -> PluginServer:
        return cls(ServerDef.for_script(script, prefix, mode=mode), env=env, error_log=error_log or ErrorLog())

    @property
    def name(self) -> str:
        return self.info.name if self.info else self.server_def.name

    @property
    def socket(self) -> str:
        return self.server_def.socket

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.popen.pid if proc and proc.popen.poll() is None else None

    def query(self) -> PluginInfo:
        self.info = query_plugin_info(self.server_def.query_cmd, env=self._full_env())
        return self.info

    def start(self, *, wait: float = 15.0) -> PluginServer:
        """Query (if not done), spawn, and wait until the socket accepts connections."""
        if len(self.socket.encode()) > MAX_SOCKET_PATH:
            raise PluginServerError(
                f"socket path too long for a Unix socket ({MAX_SOCKET_PATH} bytes max): {self.socket}"
            )
        if self.info is None:
            self.query()
        Path(self.socket).parent.mkdir(parents=True, exist_ok=True)
        self._stopping.clear()
        with self._lock:
            self._spawn()
        self._supervisor = threading.Thread(target=self._supervise, name=f"ps-{self.name}", daemon=True)
        self._supervisor.start()
        try:
            self.wait_ready(wait)
        except BaseException:  # also Ctrl-C while waiting: never leave a process behind
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Block until the socket accepts a connection (bounded; the server may be restarting)."""
        import socket as _socket

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.socket):
                s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
                try:
                    s.connect(self.socket)
                    return
                except OSError:
                    pass
                finally:
                    s.close()
            proc = self._proc
            if proc is not None and proc.popen.poll() == 127:
                break
            time.sleep(0.02)
        tail = " | ".join(self.error_log.find(f"[{self.name}:")[-5:])
        hint = ""
        if self.info is not None and Path(self.socket).name != f"{self.info.name}.sock":
            hint = f" (kong-pdk listens on <prefix>/{self.info.name}.sock for plugin {self.info.name!r})"
        raise PluginServerError(f"plugin server {self.name} did not open {self.socket} within {timeout}s{hint}: {tail}")

    def cpu_seconds(self) -> float:
        """CPU time (user+system) the current server process used so far (benchmarks)."""
        pid = self.pid
        if pid is None:
            return 0.0
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill the current process (tests: simulate a crash; the supervisor respawns it)."""
        proc = self._proc
        if proc is not None and proc.popen.poll() is None:
            proc.popen.send_signal(sig)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with self._lock:
            proc = self._proc
        if proc is not None:
            self._terminate(proc, timeout)
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join(timeout)
        self._supervisor = None
        try:
            os.unlink(self.socket)
        except FileNotFoundError:
            pass

    def __enter__(self) -> PluginServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # internals

    def _full_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env or {})
        # Output must reach the error log line by line, as it does through Kong's pipe.
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def _spawn(self) -> None:
        """Start the process; the caller holds self._lock (so stop() cannot miss it)."""
        try:
            popen = subprocess.Popen(
                list(self.server_def.start_cmd),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self._full_env(),
            )
        except OSError as exc:  # what the shell reports as status 127: Kong stops respawning
            self.error_log.add(
                "error",
                f'[pluginserver] external pluginserver "{self.name}" start command '
                f'"{" ".join(self.server_def.start_cmd)}" exited with "command not found": {exc}',
            )
            self._proc = None
            raise PluginServerError(f"cannot start plugin server {self.name}: {exc}") from exc
        self.spawns += 1
        self.error_log.add("notice", f"[pluginserver] started, pid {popen.pid}")
        reader = threading.Thread(target=self._grab_logs, args=(popen,), name=f"ps-log-{self.name}", daemon=True)
        reader.start()
        self._proc = _Proc(popen, reader)

    def _grab_logs(self, popen: subprocess.Popen[bytes]) -> None:
        prefix = f"[{self.name}:{popen.pid}] "
        assert popen.stdout is not None
        for raw in popen.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            if line:
                self.error_log.add("info", prefix + line)
        popen.stdout.close()

    def _supervise(self) -> None:
        next_spawn = time.monotonic() + self.respawn_interval
        while not self._stopping.is_set():
            proc = self._proc
            if proc is None:
                return
            status = proc.popen.wait()
            proc.reader.join(2)
            if self._stopping.is_set():
                return
            self.error_log.add("notice", f"external pluginserver '{self.name}' terminated: exit {status}")
            if status == 127 or not self.respawn:
                self.error_log.add("notice", f"[pluginserver] exiting: pluginserver '{self.name}' not respawned.")
                return
            delay = next_spawn - time.monotonic()
            if delay > 0 and self._stopping.wait(delay):
                return
            self.error_log.add("notice", f"[pluginserver] starting pluginserver process for {self.name}")
            with self._lock:
                if self._stopping.is_set():
                    return
                try:
                    self._spawn()
                except PluginServerError:
                    return
            next_spawn = time.monotonic() + self.respawn_interval

    def _terminate(self, proc: _Proc, timeout: float) -> None:
        if proc.popen.poll() is None:
            proc.popen.send_signal(signal.SIGTERM)
            try:
                proc.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(timeout)
        proc.reader.join(timeout)
        self.error_log.add(
            "notice", f"[pluginserver] successfully stopped pluginserver '{self.name}', pid {proc.popen.pid}"
        )
