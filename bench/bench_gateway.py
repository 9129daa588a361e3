"""The whole gateway per LLM request: kong-local.yaml's chain (key-auth, ecommerce-guardrails,
token-meter, bedrock-proxy) through the harness, against the Bedrock emulator.

Production-like: the Bedrock host is mapped to the emulator (like /etc/hosts), so bedrock-proxy
makes no endpoint-override calls. For each case prints, per plugin server and in total: PDK calls
and RPC round trips per request, and plugin-server CPU µs per request (utime+stime from /proc,
before/after N sequential requests). Target: all three servers <= 800 µs CPU and <= 12 PDK
round trips per request. For scale: the LiteLLM proxy spends ~16 ms of CPU per request here.
Usage: python bench/bench_gateway.py [requests_per_case]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
import yaml

from kong_plugins.testing.bedrock_emulator import (
    TEST_ACCESS_KEY_ID,
    TEST_GEMINI_API_KEY,
    TEST_SECRET_ACCESS_KEY,
    BedrockEmulator,
)
from kong_plugins.testing.kong.gateway import Gateway

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")
PROMPT = "Which of your running shoes suit flat feet, and do you ship to Norway? " * 12  # ~850 bytes

CASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "openai": ("/v1/chat/completions", "dev-key-123", {"messages": [{"role": "user", "content": PROMPT}]}),
    "anthropic": (
        "/v1/messages",
        "analyst-key-123",
        {"max_tokens": 256, "messages": [{"role": "user", "content": PROMPT}]},
    ),
    "chat-stream": ("/v1/chat", "ops-key-123", {"stream": True, "messages": [{"role": "user", "content": PROMPT}]}),
}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def measure(gw: Gateway, path: str, key: str, body: dict[str, Any], n: int) -> dict[str, Any]:
    servers = {s.info.name: s.pid for s in gw.external.plugins.servers}  # type: ignore[union-attr]
    data = json.dumps(body)
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    with requests.Session() as s:
        for _ in range(20):
            r = s.post(gw.url + path, data=data, headers=headers)
            assert r.status_code == 200, (r.status_code, r.text[:200])
        gw.wait_idle()
        gw.reset_rpc_stats()
        before = {name: cpu_seconds(pid) for name, pid in servers.items()}
        t0 = time.perf_counter()
        for _ in range(n):
            s.post(gw.url + path, data=data, headers=headers)
        wall = time.perf_counter() - t0
        gw.wait_idle()
        after = {name: cpu_seconds(pid) for name, pid in servers.items()}
    stats = gw.rpc_stats()["plugins"]
    per = {
        name: {
            "pdk": stats[name]["pdk_calls"] / n,
            "rpc": stats[name]["rpc_calls"] / n,
            "cpu_us": (after[name] - before[name]) / n * 1e6,
        }
        for name in servers
    }
    return {"per": per, "ms_per_req": wall / n * 1000}


def bench_config(tmp: Path) -> Path:
    """kong-local.yaml with limits high enough that the bench measures admitted requests."""
    doc = yaml.safe_load((ROOT / "kong-local.yaml").read_text())
    big = {role: 10**9 for role in ("developer", "analyst", "ecommerce_ops", "guest", "other")}
    for service in doc.get("services", []):
        for plugin in service.get("plugins", []):
            if plugin["name"] == "token-meter":
                plugin["config"] = {**(plugin.get("config") or {}), "limits_per_minute": big}
    path = tmp / "bench-gateway.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    env = {
        "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": TEST_SECRET_ACCESS_KEY,
        "AWS_REGION": "us-east-1",
        "GEMINI_API_KEY": TEST_GEMINI_API_KEY,
        "TOKEN_METER_METRICS_PORT": "0",
    }
    with BedrockEmulator() as emu, tempfile.TemporaryDirectory(prefix="kbg-") as tmp:
        hosts = {"bedrock-runtime.us-east-1.amazonaws.com": emu.url}
        quiet = {"/dev/stdout": os.devnull}
        with Gateway(bench_config(Path(tmp)), env=env, upstream_hosts=hosts, file_log_redirects=quiet) as gw:
            load = os.getloadavg()[0]
            print(f"whole gateway, kong-local.yaml chain, {n} sequential requests per case (load average {load:.1f})")
            print(f"{'case':<12} {'plugin':<22} {'PDK/req':>8} {'RPC/req':>8} {'CPU µs/req':>11}")
            for case, (path, key, body) in CASES.items():
                m = measure(gw, path, key, body, n)
                for name, v in sorted(m["per"].items()):
                    print(f"{case:<12} {name:<22} {v['pdk']:>8.1f} {v['rpc']:>8.1f} {v['cpu_us']:>11.0f}")
                total = {k: sum(v[k] for v in m["per"].values()) for k in ("pdk", "rpc", "cpu_us")}
                print(
                    f"{case:<12} {'TOTAL':<22} {total['pdk']:>8.1f} {total['rpc']:>8.1f} {total['cpu_us']:>11.0f}"
                    f"   (target <= 12 PDK, <= 800 µs; {m['ms_per_req']:.1f} ms/req wall in the harness)"
                )
            assert gw.violations() == [], gw.violations()


if __name__ == "__main__":
    main()
