"""ecommerce-guardrails: scan cost of the pure library and the plugin server's cost per request.

1. Scan (engine.evaluate: parse, normalise, every rule, policy) on realistic shop prompts,
   once on the pure-Python path and once with the Hyperscan prefilter (decision 0092),
   built from the benign corpus, as an OpenAI chat body: 1 KB, 10 KB, 1 MB, plus a 10 KB
   prompt with a card at the end and adversarial 1 MB worst cases. Prints p50/p99 ms and
   throughput (MB/s = body size / mean time). Target: p99 <= 2 ms at 10 KB.
   Also the literal index's pass over 10 KB with either engine.
2. Plugin server: sequential requests through the harness (key-auth + ecommerce-guardrails on
   the echo route of tests/ecommerce_guardrails/configs/gateway.yaml, no model call): PDK
   calls per request and the guardrails server's CPU µs per request (utime+stime from /proc).
Usage: python bench/bench_guardrails.py [requests_per_case]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import requests
import yaml

from kong_plugins.ecommerce_guardrails import prefilter
from kong_plugins.ecommerce_guardrails.detectors import VALUE_LITERALS
from kong_plugins.ecommerce_guardrails.engine import evaluate, intent_patterns
from kong_plugins.ecommerce_guardrails.policy import Policy
from kong_plugins.testing.kong.gateway import Gateway

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.testing.upstreams import EchoUpstream  # noqa: E402

CORPUS = ROOT / "tests" / "ecommerce_guardrails" / "corpus" / "prompts.yaml"
CONFIG = ROOT / "tests" / "ecommerce_guardrails" / "configs" / "gateway.yaml"
POLICY = Policy()


PROSE = (
    "This lightweight merino wool sweater keeps you warm on chilly evenings and breathes on warmer days. "
    "It has a relaxed fit, ribbed cuffs and a crew neck. Machine wash cold on a gentle cycle and lay flat to dry. "
    "Customers love it for travel because it resists odour and wrinkles. Available in navy, grey and oatmeal. "
)


def prose(size: int) -> str:
    return (PROSE * (size // len(PROSE) + 1))[:size]


def shop_text(size: int) -> str:
    """Guest prompts of the benign corpus, back to back: every sentence has trap words."""
    benign = [e["text"] for e in yaml.safe_load(CORPUS.read_text())["benign"] if "role" not in e]
    out, i = [], 0
    while sum(len(s) + 1 for s in out) < size:
        out.append(benign[i % len(benign)])
        i += 1
    return " ".join(out)[:size]


def body_of(text: str) -> bytes:
    return json.dumps({"model": "haiku", "messages": [{"role": "user", "content": text}]}).encode()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime in clock ticks


def scan_case(name: str, body: bytes, runs: int) -> None:
    evaluate(body, "guest", POLICY)  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        evaluate(body, "guest", POLICY)
        times.append(time.perf_counter() - t0)
    times.sort()
    p50 = times[len(times) // 2] * 1000
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
    mbps = len(body) / statistics.mean(times) / 1e6
    print(f"  {name:<34} {len(body) / 1024:>9.1f} {runs:>6} {p50:>9.3f} {p99:>9.3f} {mbps:>8.1f}")


def scans(label: str) -> None:
    print(f"scan (engine.evaluate, guest policy, one CPU core) {label}")
    print(f"  {'case':<34} {'body KiB':>9} {'runs':>6} {'p50 ms':>9} {'p99 ms':>9} {'MB/s':>8}")
    scan_case("1 KB product prose", body_of(prose(1_000)), 2000)
    scan_case("10 KB product prose", body_of(prose(10_000)), 500)
    scan_case("1 MB product prose", body_of(prose(1_000_000)), 5)
    scan_case("1 KB trap-word shop prompts", body_of(shop_text(1_000)), 2000)
    scan_case("10 KB trap-word shop prompts", body_of(shop_text(10_000)), 500)
    scan_case("10 KB, card at the end (blocked)", body_of(shop_text(10_000) + " card 4526 0181 5908 3012"), 500)
    scan_case("100 KB trap-word shop prompts", body_of(shop_text(100_000)), 30)
    scan_case("1 MB trap-word shop prompts", body_of(shop_text(1_000_000)), 5)
    many = json.dumps({"messages": [{"role": "user", "content": t} for t in shop_text(1_000_000).split(". ")]})
    scan_case("1 MB as short messages", many.encode(), 3)
    print("  adversarial 1 MB bodies (worst cases, not a target):")
    for label, text in [
        ("spaced digits '4 4 4 ...'", "4 " * 500_000),
        ('"\' or " repeated', "' or " * 200_000),
        ("'select ' repeated", "select " * 140_000),
        ("'password is ' repeated", "password is " * 80_000),
        ("zero-width chars between letters", "a\u200b" * 330_000),
    ]:
        scan_case(label, body_of(text), 3)


def plugin_server(n: int) -> None:
    echo = EchoUpstream()
    cases = {
        "clean 1 KB prose": body_of(prose(1_000)),
        "clean 10 KB prose": body_of(prose(10_000)),
        "clean 10 KB trap-word prompts": body_of(shop_text(10_000)),
        "blocked (card)": body_of("please charge my card 4526 0181 5908 3012"),
        "masked, ops (card+password)": body_of("card 4526 0181 5908 3012 and password=Winter#2025x"),
    }
    keys = {"masked, ops (card+password)": "ops-key"}
    try:
        with Gateway(CONFIG, upstream_hosts={"echo.internal": echo.url}) as gw:
            assert gw.external is not None
            pid = next(s.pid for s in gw.external.plugins.servers if s.name == "ecommerce-guardrails")
            print(f"\nplugin server (harness, echo upstream, {n} sequential requests per case)")
            print(f"  {'case':<30} {'PDK/req':>8} {'guardrails CPU µs/req':>22} {'ms/req':>8}")
            with requests.Session() as s:
                for name, body in cases.items():
                    headers = {"X-API-Key": keys.get(name, "guest-key"), "Content-Type": "application/json"}
                    for _ in range(20):
                        s.post(gw.url + "/echo/v1/chat/completions", data=body, headers=headers)
                    gw.wait_idle()
                    gw.external.reset_stats()
                    cpu0 = cpu_seconds(pid)
                    t0 = time.perf_counter()
                    for _ in range(n):
                        s.post(gw.url + "/echo/v1/chat/completions", data=body, headers=headers)
                    seq = time.perf_counter() - t0
                    gw.wait_idle()
                    cpu = cpu_seconds(pid) - cpu0
                    pdk = gw.rpc_stats()["plugins"]["ecommerce-guardrails"]["pdk_calls"] / n
                    print(f"  {name:<30} {pdk:>8.2f} {cpu / n * 1e6:>22.0f} {seq / n * 1000:>8.2f}")
            assert gw.violations() == [], gw.violations()
    finally:
        echo.stop()


def ready_prefilter() -> prefilter.Prefilter | None:
    """Load (or build, ~4 s) the Hyperscan prefilter the image ships; the plugin servers started
    below find it through GUARDRAILS_PREFILTER_DIR."""
    if prefilter.hyperscan is None:
        return None
    directory = prefilter.default_dir()
    os.environ[prefilter.DIR_ENV] = str(directory)
    return prefilter.load(intent_patterns(), directory) or prefilter.build(intent_patterns(), directory)


def literal_pass() -> None:
    """The literal index's one pass over 10 KB (lower-cased trap-word text, value literals):
    Hyperscan's literal mode (ASCII text) against pyahocorasick (the fallback)."""
    text = shop_text(10_000).lower()
    evaluate(body_of(text), "guest", POLICY)  # registers every value literal
    automaton, _, fast = VALUE_LITERALS.automaton()
    engines = [("pyahocorasick", lambda: list(automaton.iter(text)))]
    if fast is not None:
        engines.append(("Hyperscan literal mode", lambda: fast.iter(text)))
    print("\nliteral index pass, 10 KB trap-word text (value literals)")
    for name, run in engines:
        times = []
        for _ in range(500):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        times.sort()
        print(f"  {name:<24} p50 {times[250] * 1e6:7.0f} µs")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    literal_pass()
    loaded = ready_prefilter()
    scans("- Python path only (no Hyperscan: aarch64, or until the prefilter is loaded)")
    if loaded is not None:
        prefilter._current[0] = loaded
        print()
        scans("- with the Hyperscan prefilter (x86_64 image)")
    plugin_server(n)


if __name__ == "__main__":
    main()
