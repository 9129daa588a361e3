"""Harness and plugin-server cost per request for a no-op plugin chain.

Three configurations behind the harness front, proxying to a local echo upstream:
  none    - no plugin (the harness alone: routing, proxy, access log)
  noop    - one external no-op plugin (bench/plugins/pdk_loop.py with calls=0: access only)
  noop+ka - key-auth (bundled, in-process) + the no-op plugin
  ours    - kong-local.yaml, GET /v1/models: key-auth + our three plugins, answered in access
For each: RPC round trips per request, plugin-server CPU µs per request (utime+stime of the
plugin server from /proc, before/after), and requests per second with 10 concurrent clients.
Bounded to a few seconds. Usage: python bench/bench_harness.py [requests_per_run]
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
import yaml

from kong_plugins.testing.kong.gateway import Gateway

PLUGIN = str(Path(__file__).with_name("plugins") / "pdk_loop.py")
TICK = os.sysconf("SC_CLK_TCK")
CONCURRENCY = 10


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def config(path: Path) -> None:
    noop = {"name": "pdk_loop", "config": {"calls": 0}}
    doc = {
        "_format_version": "3.0",
        "services": [
            {
                "name": "echo",
                "url": "http://echo.bench:80",
                "routes": [
                    {"name": "none", "paths": ["/none"]},
                    {"name": "noop", "paths": ["/noop"], "plugins": [noop]},
                    {
                        "name": "noop-ka",
                        "paths": ["/noop-ka"],
                        "plugins": [noop, {"name": "key-auth", "config": {"hide_credentials": True}}],
                    },
                ],
            }
        ],
        "consumers": [{"username": "bench", "keyauth_credentials": [{"key": "bench-key"}]}],
    }
    path.write_text(yaml.safe_dump(doc))


def measure(gw: Gateway, route: str, n: int, headers: dict[str, str] | None = None) -> dict[str, float]:
    url = gw.url + "/" + route
    headers = headers or {"apikey": "bench-key"}
    pids = gw.plugin_server_pids()
    with requests.Session() as s:
        for _ in range(30):  # warm-up: instance start, connection pools
            assert s.get(url, headers=headers).status_code == 200
        gw.wait_idle()
        gw.reset_rpc_stats()
        cpu0 = sum(cpu_seconds(p) for p in pids)
        t0 = time.perf_counter()
        for _ in range(n):
            s.get(url, headers=headers)
        seq_s = time.perf_counter() - t0
        gw.wait_idle()
        cpu1 = sum(cpu_seconds(p) for p in pids)
    stats = gw.rpc_stats()

    done = 0
    lock = threading.Lock()
    stop_at = time.perf_counter() + 1.5

    def client(_: int) -> None:
        nonlocal done
        with requests.Session() as s:
            while time.perf_counter() < stop_at:
                s.get(url, headers=headers)
                with lock:
                    done += 1

    t1 = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(client, range(CONCURRENCY)))
    rps = done / (time.perf_counter() - t1)
    return {
        "rpc_per_req": stats["rpc_calls"] / n,
        "pdk_per_req": stats["pdk_calls"] / n,
        "ps_cpu_us": (cpu1 - cpu0) / n * 1e6,
        "seq_ms": seq_s / n * 1000,
        "rps": rps,
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    upstream.daemon_threads = True
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="kbh-", dir="/tmp") as tmp:
        path = Path(tmp) / "bench.yaml"
        config(path)
        hosts = {"echo.bench": f"127.0.0.1:{upstream.server_address[1]}"}
        with Gateway(path, upstream_hosts=hosts, plugin_scripts=[PLUGIN]) as gw:
            print(f"harness bench: {n} sequential requests per route, then {CONCURRENCY} concurrent clients for 1.5 s")
            print(f"{'route':<9} {'RPC/req':>8} {'PDK/req':>8} {'ps CPU µs/req':>14} {'seq ms/req':>11} {'req/s':>8}")
            for route in ("none", "noop", "noop-ka"):
                m = measure(gw, route, n)
                print(
                    f"{route:<9} {m['rpc_per_req']:>8.2f} {m['pdk_per_req']:>8.2f} {m['ps_cpu_us']:>14.0f} "
                    f"{m['seq_ms']:>11.2f} {m['rps']:>8.0f}"
                )
            assert gw.violations() == []
        # Our three plugins on their cheapest route: GET /v1/models, answered by bedrock-proxy in
        # access (no upstream call), for comparison with the no-op row.
        root = Path(__file__).resolve().parents[1]
        quiet = {"/dev/stdout": os.devnull}  # Kong's file-log lines are not part of the figures
        with Gateway(root / "kong-local.yaml", plugin_scripts=None, file_log_redirects=quiet) as gw:
            m = measure(gw, "v1/models", n, {"X-API-Key": "dev-key-123"})
            print(
                f"{'ours':<9} {m['rpc_per_req']:>8.2f} {m['pdk_per_req']:>8.2f} {m['ps_cpu_us']:>14.0f} "
                f"{m['seq_ms']:>11.2f} {m['rps']:>8.0f}   (kong-local.yaml GET /v1/models, 3 servers)"
            )
            assert gw.violations() == []
    upstream.shutdown()
    print("ps CPU = utime+stime of the plugin server process(es) from /proc; clients, front and upstream share")
    print("this Python process, so req/s is a harness figure, not a Kong one.")


if __name__ == "__main__":
    main()
