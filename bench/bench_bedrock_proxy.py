"""bedrock-proxy cost per request through the harness against the Bedrock emulator.

Cases (tests/bedrock_proxy/configs/gateway.yaml: key-auth + bedrock-proxy only, emulator
endpoint override on, so access also pays set_target + set_scheme):
  openai       - POST /v1/chat/completions, guest, small prompt
  anthropic-sse- POST /v1/messages stream:true (synthesised SSE)
  native       - boto3-style POST /bedrock/model/{id}/converse (body passed through)
  gemini       - role other -> Gemini (vault-referenced key)
  fallback     - every request throttled once on the first profile, answered by the next
  100KB        - a 100 KB prompt
For each: RPC round trips and PDK calls per request, plugin-server CPU µs per request (utime +
stime of the plugin-server processes from /proc, before/after) and sequential ms/request.
The no-op chain of bench/bench_harness.py is measured the same way for comparison.
Usage: python bench/bench_bedrock_proxy.py [requests_per_case]
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from kong_plugins.testing.bedrock_emulator import BedrockEmulator
from kong_plugins.testing.kong.fixtures import offline_env
from kong_plugins.testing.kong.gateway import Gateway

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "tests" / "bedrock_proxy" / "configs" / "gateway.yaml"
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
HELLO = {"messages": [{"role": "user", "content": "hello there, how are you?"}]}


def _harness_bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_harness", Path(__file__).with_name("bench_harness.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HB = _harness_bench()

CASES: dict[str, tuple[str, str, bytes, dict[str, str]]] = {
    "openai": ("/v1/chat/completions", "guest-key", json.dumps(HELLO).encode(), {}),
    "anthropic-sse": (
        "/v1/messages",
        "dev-key",
        json.dumps({**HELLO, "max_tokens": 100, "stream": True}).encode(),
        {"anthropic-version": "2023-06-01"},
    ),
    "native": (
        f"/bedrock/model/{HAIKU.replace(':', '%3A')}/converse",
        "guest-key",
        json.dumps({"messages": [{"role": "user", "content": [{"text": "hello there"}]}]}).encode(),
        {},
    ),
    "gemini": ("/v1/chat/completions", "partner-key", json.dumps(HELLO).encode(), {}),
    "fallback": ("/v1/chat/completions", "guest-key", json.dumps(HELLO).encode(), {}),
    "100KB": (
        "/v1/chat/completions",
        "guest-key",
        json.dumps({"messages": [{"role": "user", "content": "word " * 20_000}]}).encode(),
        {},
    ),
}


def measure(gw: Gateway, emu: BedrockEmulator, case: str, n: int) -> dict[str, float]:
    path, key, body, extra = CASES[case]
    headers = {"X-API-Key": key, "Content-Type": "application/json", **extra}
    assert gw.external is not None
    pids = gw.external.pids()
    with requests.Session() as s:
        for _ in range(20):  # warm-up: instance start, pools, credentials
            if case == "fallback":
                emu.inject("ThrottlingException", count=1, model=HAIKU)
            assert s.post(gw.url + path, data=body, headers=headers).status_code == 200
        gw.wait_idle()
        gw.external.reset_stats()
        cpu0 = sum(HB.cpu_seconds(p) for p in pids)
        t0 = time.perf_counter()
        for _ in range(n):
            if case == "fallback":
                emu.inject("ThrottlingException", count=1, model=HAIKU)
            r = s.post(gw.url + path, data=body, headers=headers)
            assert r.status_code == 200, r.text[:200]
        seq = time.perf_counter() - t0
        gw.wait_idle()
        cpu1 = sum(HB.cpu_seconds(p) for p in pids)
    stats = gw.rpc_stats()["plugins"]["bedrock-proxy"]
    return {
        "rpc": stats["rpc_calls"] / n,
        "pdk": stats["pdk_calls"] / n,
        "cpu_us": (cpu1 - cpu0) / n * 1e6,
        "ms": seq / n * 1000,
    }


def noop_chain(n: int) -> dict[str, float]:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), HB._Echo)
    upstream.daemon_threads = True
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory(prefix="kbp-", dir="/tmp") as tmp:
            path = Path(tmp) / "bench.yaml"
            HB.config(path)
            hosts = {"echo.bench": f"127.0.0.1:{upstream.server_address[1]}"}
            with Gateway(path, upstream_hosts=hosts, plugin_scripts=[HB.PLUGIN]) as gw:
                m = HB.measure(gw, "noop-ka", n)
    finally:
        upstream.shutdown()
    return {"rpc": m["rpc_per_req"], "pdk": m["pdk_per_req"], "cpu_us": m["ps_cpu_us"], "ms": m["seq_ms"]}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rows: list[tuple[str, dict[str, float]]] = [("no-op chain (key-auth + 1 no-op plugin)", noop_chain(n))]
    with BedrockEmulator() as emu, Gateway(CONFIG, env=offline_env(emu.url)) as gw:
        for case in CASES:
            rows.append((case, measure(gw, emu, case, n)))
        assert gw.violations() == [], gw.violations()
    print(f"bedrock-proxy bench: {n} sequential requests per case (harness + emulator on this machine)")
    print(f"{'case':<42} {'RPC/req':>8} {'PDK/req':>8} {'ps CPU µs/req':>14} {'seq ms/req':>11}")
    for name, m in rows:
        print(f"{name:<42} {m['rpc']:>8.2f} {m['pdk']:>8.2f} {m['cpu_us']:>14.0f} {m['ms']:>11.2f}")
    print("RPC/PDK counts are bedrock-proxy's own (alone on the route, so it resolves the identity itself:")
    print("behind guardrails/token-meter that is 1 shared read instead of 4). ps CPU = all plugin-server")
    print("processes; the emulator, harness and client share the other core, so ms/req is a harness figure.")


if __name__ == "__main__":
    main()
