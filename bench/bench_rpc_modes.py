"""kong-pdk round-trip cost: gevent (-g) vs threads mode, and gevent with our start-up patches
(core.server), through the harness's Kong-side RPC.

For each mode: one dedicated server (bench/plugins/pdk_loop.py), an access event with N cheap
PDK calls (kong.request.get_header), sequential and with 10 concurrent clients. Prints the
client-side µs per RPC round trip, the plugin server's CPU µs (utime+stime from /proc) per
PDK call, and the harness's own CPU µs (Kong's side: RPC client + PDK responder) per PDK call.
Usage: python bench/bench_rpc_modes.py [events_per_run]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kong_plugins.testing.kong.node import KongNode
from kong_plugins.testing.kong.plugin_server import PluginServer, RunMode
from kong_plugins.testing.kong.request import KongRequest
from kong_plugins.testing.kong.runner import ExternalPlugin, PluginConfig

PLUGIN = str(Path(__file__).with_name("plugins") / "pdk_loop.py")
# the same plugin started through kong_plugins.core.server.serve (our kong-pdk patches, 0046)
PLUGIN_OURS = str(Path(__file__).with_name("plugins") / "pdk_loop_ours.py")
CALLS = 4  # PDK calls per event, about what one of our plugins makes
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def run(mode: RunMode, events: int, concurrency: int, script: str = PLUGIN) -> tuple[float, float, float, float]:
    node = KongNode()
    with tempfile.TemporaryDirectory(prefix="kb-", dir="/tmp") as prefix:
        server = PluginServer.for_script(script, prefix, mode=mode, error_log=node.error_log).start()
        try:
            assert server.info is not None and server.pid is not None
            plugin = ExternalPlugin(server.info, server.socket, node, rpc_timeout=10)
            config = PluginConfig(str(uuid.uuid4()), Path(script).stem, {"calls": CALLS}, seq=1)

            def one(_: int) -> None:
                req = KongRequest(method="GET", path="/", raw_query="", headers={"x-bench": ["1"]}, body=b"")
                plugin.handle_event(config, "access", req)

            for i in range(50):  # warm-up: instance start, imports, pool
                one(i)
            plugin.stats.reset()
            cpu0, t0, own0 = cpu_seconds(server.pid), time.perf_counter(), time.process_time()
            if concurrency == 1:
                for i in range(events):
                    one(i)
            else:
                with ThreadPoolExecutor(concurrency) as pool:
                    list(pool.map(one, range(events)))
            wall, cpu = time.perf_counter() - t0, cpu_seconds(server.pid) - cpu0
            own = time.process_time() - own0
            stats = plugin.stats.snapshot()
            plugin.close()
        finally:
            server.stop()
    assert not node.violations, node.violations
    rpcs, pdk = stats["rpc_calls"], stats["pdk_calls"]
    return wall / rpcs * 1e6, cpu / pdk * 1e6, own / pdk * 1e6, events / wall


def serialisation(mode: RunMode, where: str, events: int = 4, sleep: float = 0.2) -> float:
    """Wall time of `events` concurrent events that each sleep `sleep` s before/after their first PDK call."""
    node = KongNode()
    with tempfile.TemporaryDirectory(prefix="kb-", dir="/tmp") as prefix:
        server = PluginServer.for_script(PLUGIN, prefix, mode=mode, error_log=node.error_log).start()
        try:
            assert server.info is not None
            plugin = ExternalPlugin(server.info, server.socket, node, rpc_timeout=10)
            config = PluginConfig(str(uuid.uuid4()), "pdk_loop", {"calls": 1, f"sleep_{where}": sleep}, seq=1)

            def one(_: int) -> None:
                req = KongRequest(method="GET", path="/", raw_query="", headers={}, body=b"")
                plugin.handle_event(config, "access", req)

            one(0)
            t0 = time.perf_counter()
            with ThreadPoolExecutor(events) as pool:
                list(pool.map(one, range(events)))
            wall = time.perf_counter() - t0
            plugin.close()
        finally:
            server.stop()
    return wall


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print(f"{events} access events x {CALLS} PDK calls (= {CALLS + 1} RPC round trips each)")
    print(
        f"{'mode':8} {'clients':>7} {'µs/round trip':>14} {'server CPU µs/PDK call':>23} "
        f"{'harness CPU µs/PDK call':>24} {'events/s':>9}"
    )
    for mode, script in (("threads", PLUGIN), ("gevent", PLUGIN), ("ours", PLUGIN_OURS)):
        for conc in (1, 10):
            run_mode = "threads" if mode == "threads" else "gevent"
            rt, cpu, own, eps = run(run_mode, events, conc, script)  # type: ignore[arg-type]
            print(f"{mode:8} {conc:>7} {rt:>14.1f} {cpu:>23.1f} {own:>24.1f} {eps:>9.0f}")
    print("(ours: gevent with core.server's patches: direct greenlet switches, reused event greenlets)")
    print("\n4 concurrent events sleeping 0.2 s (kong-pdk serialises code before the first PDK call):")
    for mode in ("threads", "gevent"):
        before, after = serialisation(mode, "before"), serialisation(mode, "after")  # type: ignore[arg-type]
        print(f"{mode:8} sleep before first PDK call: {before:.2f} s   after: {after:.2f} s")


if __name__ == "__main__":
    main()
