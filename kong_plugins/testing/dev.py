"""`make dev`: the gateway on your machine without Docker or Kong.

Starts the three plugin servers (as Kong would), the Kong-faithful HTTP front on
127.0.0.1:8000 serving kong-local.yaml, and, when offline, the Bedrock emulator on :4010.

Offline when GATEWAY_OFFLINE=1, or when no AWS credentials are configured (no
AWS_ACCESS_KEY_ID, no AWS_PROFILE, no ~/.aws). GATEWAY_OFFLINE=0 forces the real Bedrock.
Offline, the plugin servers get AWS_ENDPOINT_URL_BEDROCK_RUNTIME / GEMINI_ENDPOINT_URL pointing
at the emulator and the emulator's test credentials. Ctrl-C or SIGTERM stops everything and
removes the socket files.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

from kong_plugins.testing.bedrock_emulator import offline_env
from kong_plugins.testing.kong.gateway import Gateway
from kong_plugins.testing.kong.node import ErrorLog, KongNode

DEFAULT_CONFIG = "kong-local.yaml"
READY_LINE = "gateway ready"


def is_offline(env: dict[str, str], home: Path) -> bool:
    switch = env.get("GATEWAY_OFFLINE", "").strip().lower()
    if switch in ("1", "true", "yes"):
        return True
    if switch in ("0", "false", "no"):
        return False
    has_credentials = bool(env.get("AWS_ACCESS_KEY_ID") or env.get("AWS_PROFILE") or (home / ".aws").exists())
    return not has_credentials


def local_keys(config_path: Path) -> list[tuple[str, str, str]]:
    """(username, role, key) of every consumer with a key-auth key, for the banner."""
    data = yaml.safe_load(config_path.read_text()) or {}
    out = []
    for c in data.get("consumers") or []:
        role = next((t.split(":", 1)[1] for t in c.get("tags") or [] if t.startswith("role:")), "(none: other)")
        for cred in c.get("keyauth_credentials") or []:
            out.append((str(c.get("username")), role, str(cred.get("key"))))
    return out


class Emulator:
    """The Bedrock emulator as a child process (`python -m kong_plugins.testing.bedrock_emulator`)."""

    def __init__(self, port: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kong_plugins.testing.bedrock_emulator", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = self._wait_url(timeout=10.0)
        threading.Thread(target=self._drain, daemon=True).start()

    def _wait_url(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"(http://[0-9.]+:\d+)", line)
            if m:
                return m.group(1)
        self.stop()
        raise RuntimeError("the Bedrock emulator did not start (is the port free?)")

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for _ in self.proc.stdout:
            pass

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def banner(gw: Gateway, config: Path, offline: bool, emulator: Emulator | None, started: float) -> str:
    keys = local_keys(config)
    dev_key = next((k for _, _, k in keys if k == "dev-key-123"), keys[0][2] if keys else "<key>")
    lines = [
        f"{READY_LINE} in {time.monotonic() - started:.1f}s: {gw.url}  (config {config})",
        f"mode: {'OFFLINE, Bedrock emulator at ' + emulator.url if offline and emulator else 'ONLINE, real Bedrock'}",
        "",
        "try:",
        f"  curl -X POST {gw.url}/v1/chat -H 'Content-Type: application/json' -H 'X-API-Key: {dev_key}' \\",
        '       -d \'{"messages":[{"role":"user","content":"Hello"}]}\'',
        "",
        "local keys (development only):",
        *[f"  {user:<14} role {role:<15} key {key}" for user, role, key in keys],
        "",
    ]
    ext = gw.external
    if ext is not None:
        for server in ext.plugins.servers:
            lines.append(f"plugin server {server.name} pid {server.pid} socket {server.socket}")
    if emulator is not None:
        lines.append(f"emulator pid {emulator.proc.pid}")
    lines.append("Kong's file-log lines (serializer JSON) go to .dev/kong-file-log.jsonl.")
    lines.append("Ctrl-C stops everything. One JSON access-log line per request follows.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kong_plugins.testing.dev", description=__doc__)
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="declarative config (default kong-local.yaml)")
    parser.add_argument("--port", type=int, default=8000, help="front port on 127.0.0.1 (0 = a free port)")
    parser.add_argument("--emulator-port", type=int, default=4010, help="emulator port when offline (0 = free)")
    parser.add_argument("--log-level", default="notice", help="error-log lines echoed to the console")
    args = parser.parse_args(argv)

    started = time.monotonic()
    config = Path(args.config)
    if not config.exists():
        print(f"config file {config} not found (run from the repository root)", file=sys.stderr)
        return 2
    env = dict(os.environ)
    offline = is_offline(env, Path.home())
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    emulator: Emulator | None = None
    gw: Gateway | None = None
    try:
        server_env: dict[str, str] = {}
        if offline:
            emulator = Emulator(args.emulator_port)
            server_env = offline_env(emulator.url)
        # One /metrics (token-meter's :9542) for all three servers, as in the image; wiped at start.
        if not env.get("PROMETHEUS_MULTIPROC_DIR"):
            metrics_dir = Path(".dev") / "prometheus"
            shutil.rmtree(metrics_dir, ignore_errors=True)
            metrics_dir.mkdir(parents=True)
            server_env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir.resolve())
        node = KongNode(error_log=ErrorLog(echo_level=args.log_level))
        # Kong's file-log to /dev/stdout (for `docker compose logs`) goes to a file here, so the
        # console shows one access-log line per request.
        file_log = Path(".dev") / "kong-file-log.jsonl"
        file_log.parent.mkdir(exist_ok=True)
        redirects = {"/dev/stdout": str(file_log), "/dev/stderr": str(file_log)}
        gw = Gateway(
            config, env=server_env, port=args.port, node=node, echo_access_log=True, file_log_redirects=redirects
        )
        gw.start()
        print(banner(gw, config, offline, emulator, started), flush=True)
        while not stop.wait(0.5):
            pass
    except Exception as exc:  # noqa: BLE001 - a clear message, never a traceback, for `make dev`
        print(f"make dev failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        if gw is not None:
            gw.stop()
        if emulator is not None:
            emulator.stop()
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
