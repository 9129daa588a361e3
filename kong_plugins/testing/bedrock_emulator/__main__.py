"""`python -m kong_plugins.testing.bedrock_emulator --port 4010 [--latency-ms N --per-token-ms N]`."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from .app import EmulatorApp
from .server import Server


async def _serve(args: argparse.Namespace) -> None:
    app = EmulatorApp(args.latency_ms, args.per_token_ms, args.frame_gap_ms)
    server = Server(app)
    port = await server.start(args.host, args.port)
    print(f"bedrock emulator listening on http://{args.host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if args.exit_with_parent:
        loop.create_task(_watch_parent(os.getppid(), stop))
    await stop.wait()
    await server.close()


async def _watch_parent(parent: int, stop: asyncio.Event) -> None:
    """A parent killed without stopping us (SIGKILL, test timeout) must not leave an orphan server."""
    while not stop.is_set():
        await asyncio.sleep(1.0)
        if os.getppid() != parent:
            print("bedrock emulator: parent process exited, stopping", file=sys.stderr, flush=True)
            stop.set()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kong_plugins.testing.bedrock_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4010, help="0 picks a free port (printed on stdout)")
    parser.add_argument("--latency-ms", type=float, default=0, help="delay before the first byte")
    parser.add_argument("--per-token-ms", type=float, default=0, help="extra delay per output token")
    parser.add_argument("--frame-gap-ms", type=float, default=1.0, help="minimum gap between stream frames")
    parser.add_argument(
        "--no-exit-with-parent",
        dest="exit_with_parent",
        action="store_false",
        help="keep serving after the process that started us exits (default: stop with it)",
    )
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
