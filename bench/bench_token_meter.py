"""token-meter figures: limiter decisions per second (local, redis), Redis round trips per
check, plugin CPU per request (in-process, PDK stubbed) and the admission overshoot under
concurrency with two gateways sharing one redis-server, with and without reservation.

Run: .venv/bin/python bench/bench_token_meter.py   (starts and stops its own redis-server)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import redis

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kong_plugins.core import logging as core_logging  # noqa: E402
from kong_plugins.core.identity import SHARED_IDENTITY_KEY, Identity  # noqa: E402
from kong_plugins.core.usage import SHARED_RESULT_KEY, LlmResult, Usage  # noqa: E402
from kong_plugins.testing.redis_server import RedisServer  # noqa: E402
from kong_plugins.token_meter.limiter import LocalLimiter  # noqa: E402
from kong_plugins.token_meter.limits import Limit  # noqa: E402
from kong_plugins.token_meter.redis_limiter import RedisLimiter, RedisSettings  # noqa: E402

MINUTE = [Limit("minute", 60.0, 10**12)]


def decisions_per_second(limiter, n: int, threads: int = 1) -> float:
    def work(k: int) -> None:
        for i in range(n // threads):
            limiter.check(f"s{k}-{i % 100}", MINUTE, 0)
            limiter.charge(f"s{k}-{i % 100}", MINUTE, 10)

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    return (n // threads) * threads * 2 / (time.perf_counter() - start)


def round_trips(server: RedisServer, limiter: RedisLimiter, n: int = 1000) -> float:
    client = redis.Redis(host=server.host, port=server.port)
    client.config_resetstat()
    for i in range(n):
        limiter.check(f"rt{i % 10}", MINUTE, 50)
    stats = client.info("commandstats")
    calls = sum(v["calls"] for k, v in stats.items() if k.startswith("cmdstat_eval"))
    return calls / n


class StubKong:
    """Answers the PDK calls of one request instantly (measures our Python, not the RPC)."""

    def __init__(self, shared: dict) -> None:
        self.data = dict(shared)
        self.calls = 0
        self.ctx = self
        self.shared = self
        self.request = self
        self.response = self
        self.log = self

    def get(self, key):
        self.calls += 1
        return self.data.get(key)

    def set(self, key, value):
        self.calls += 1
        self.data[key] = value

    def set_headers(self, headers):
        self.calls += 1

    def get_raw_body(self, *_):
        self.calls += 1
        return json.dumps({"messages": [{"role": "user", "content": "hello " * 50}], "max_tokens": 100}).encode()

    def serialize(self):
        self.calls += 1
        return "{}"


def plugin_cpu_us(reservation: bool, n: int = 3000) -> tuple[float, float]:
    from kong_plugins.token_meter.handler import Plugin

    plugin = Plugin({"metrics_port": 0, "reservation": reservation, "limits_per_minute": {"developer": 10**12}})
    ident = Identity("consumer:d", "developer", "consumer_tag", "d", "dev-user-1").to_shared()
    ident["resolved_at"] = time.time()
    result = LlmResult("anthropic.claude-haiku-4-5-20251001-v1:0", "bedrock", "openai", 200, Usage(100, 50)).to_shared()
    calls = 0
    start = time.process_time()
    for _ in range(n):
        kong = StubKong({SHARED_IDENTITY_KEY: ident, SHARED_RESULT_KEY: result})
        plugin.access(kong)
        plugin.log(kong)
        calls += kong.calls
    return (time.process_time() - start) / n * 1e6, calls / n


def real_server_cpu_us(n: int = 300) -> dict:
    """Through the harness: the real token-meter server behind key-auth, with bedrock-proxy and
    the emulator. CPU of the token-meter process per request (RPC handling included)."""
    import string
    from pathlib import Path

    from kong_plugins.testing.bedrock_emulator.emulator import BedrockEmulator
    from kong_plugins.testing.kong.fixtures import offline_env
    from kong_plugins.testing.kong.gateway import Gateway
    from kong_plugins.testing.redis_server import free_port

    root = Path(__file__).resolve().parent.parent
    template = (root / "tests/token_meter/configs/meter.yaml.tmpl").read_text()
    values = {
        "policy": "local",
        "redis_port": 6379,
        "fault_tolerant": "true",
        "reservation": "false",
        "developer_limit": 10**9,
        "emf_path": "off",
        "window_scale": 1,
        "cw_put": "false",
        "cw_url": "null",
        "cw_namespace": "Bench",
        "cw_flush": 60,
        "dogstatsd_host": "null",
        "dogstatsd_port": 8125,
        "metrics_port": free_port(),
    }
    emu = BedrockEmulator().start()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "meter.yaml"
        path.write_text(string.Template(template).substitute(values))
        gw = Gateway(path, env={**offline_env(emu.url), "PROMETHEUS_MULTIPROC_DIR": d + "/prom"})
        gw.start()
        try:
            import requests

            session = requests.Session()
            body = {"messages": [{"role": "user", "content": "hello"}]}

            def run(count: int) -> None:
                for _ in range(count):
                    r = session.post(gw.url + "/v1/chat/completions", headers={"X-API-Key": "dev-key"}, json=body)
                    assert r.status_code == 200, r.text
                gw.wait_idle()

            run(30)  # warm up
            server = next(s for s in gw.external.plugins.servers if s.name == "token-meter")  # type: ignore[union-attr]
            stats_before = gw.rpc_stats()["plugins"]["token-meter"]["pdk_calls"]
            cpu_before = server.cpu_seconds()
            run(n)
            cpu = server.cpu_seconds() - cpu_before
            pdk = (gw.rpc_stats()["plugins"]["token-meter"]["pdk_calls"] - stats_before) / n
        finally:
            gw.stop()
            emu.stop()
    return {"cpu_us_per_request": round(cpu / n * 1e6), "pdk_calls_per_request": pdk}


def overshoot(server: RedisServer, reservation: bool, clients: int = 32, seconds: float = 3.0) -> dict:
    """Two gateways (two limiters, two connection pools), `clients` concurrent callers on one
    subject, each call ~120 tokens and 50 ms upstream latency. Admitted tokens vs. limit
    within one window of `seconds` (limit scaled to the window)."""
    limit_tokens = 1000
    window = Limit("minute", 60.0, limit_tokens)
    key = f"bench-{reservation}-{time.time_ns()}"
    gateways = [RedisLimiter(RedisSettings(host=server.host, port=server.port, timeout_ms=1000)) for _ in range(2)]
    used = 0
    admitted = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    actual = 120

    def client(k: int) -> None:
        nonlocal used, admitted
        limiter = gateways[k % 2]
        while time.monotonic() < deadline:
            need = 130 if reservation else 0  # estimate: a bit above the real use
            d = limiter.check(key, [window], need)
            if not d.admitted:
                time.sleep(0.01)
                continue
            time.sleep(0.05)  # the upstream call
            limiter.charge(key, [window], actual - d.reserved)
            with lock:
                used += actual
                admitted += 1

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    allowed = limit_tokens + limit_tokens / 60.0 * seconds  # burst + what drained meanwhile
    return {
        "admitted_requests": admitted,
        "tokens_used": used,
        "allowed_tokens": round(allowed),
        "overshoot_tokens": max(0, round(used - allowed)),
        "overshoot_pct": round(max(0.0, used - allowed) / limit_tokens * 100, 1),
    }


def main() -> None:
    core_logging.set_stream(open(os.devnull, "w"))  # noqa: SIM115
    with tempfile.TemporaryDirectory() as d:
        server = RedisServer(d)
        server.start()
        try:
            local = LocalLimiter()
            rl = RedisLimiter(RedisSettings(host=server.host, port=server.port))
            print(f"local limiter: {decisions_per_second(local, 100_000):,.0f} decisions/s (1 thread)")
            print(f"redis limiter: {decisions_per_second(rl, 4000):,.0f} decisions/s (1 thread, 1 round trip each)")
            print(f"redis limiter: {decisions_per_second(rl, 8000, threads=8):,.0f} decisions/s (8 threads)")
            print(f"redis round trips per check: {round_trips(server, rl):.3f}")
            for reservation in (False, True):
                us, calls = plugin_cpu_us(reservation)
                print(f"plugin CPU per request (access+log), reservation={reservation}: {us:.0f} us, {calls:.0f} PDK")
            print(f"real token-meter server (gevent), per request: {real_server_cpu_us()}")
            for reservation in (False, True):
                figures = overshoot(server, reservation)
                print(f"overshoot, 2 gateways x 16 clients each, reservation={reservation}: {figures}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
