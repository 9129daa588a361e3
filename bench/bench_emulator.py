"""Throughput of the Bedrock emulator: non-streaming Converse with SigV4 verification, latency off.

Starts `python -m kong_plugins.testing.bedrock_emulator --port 0` as a subprocess, signs one Converse
request per client with botocore (valid for 5 minutes, so it can be replayed) and sends it over
keep-alive connections from several client processes. Prints wall-clock req/s and req per CPU-second
of the emulator process (its own figure, independent of the cores the clients take).

    .venv/bin/python bench/bench_emulator.py [--seconds 5] [--clients 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import socket
import subprocess
import sys
import time
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from kong_plugins.testing.bedrock_emulator import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1%3A0"


def signed_request(port: int, n: int, op: str = "converse") -> bytes:
    body = json.dumps(
        {"messages": [{"role": "user", "content": [{"text": f"benchmark prompt number {n} MARK-bench"}]}]}
    ).encode()
    url = f"http://127.0.0.1:{port}/model/{MODEL}/{op}"
    req = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY), "bedrock", "us-east-1").add_auth(req)
    head = [f"POST /model/{MODEL}/{op} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in req.headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def read_response(sock: socket.socket, buf: bytearray) -> int:
    """Read one Content-Length response; return its status."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = bytes(buf[:end]).decode("latin-1")
            length = int(head.lower().split("content-length:")[1].split("\r\n")[0])
            if len(buf) >= end + 4 + length:
                del buf[: end + 4 + length]
                return int(head.split(" ", 2)[1])
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("emulator closed the connection")
        buf += data


def read_stream(sock: socket.socket, buf: bytearray) -> int:
    """Read one chunked response to its end; return the number of chunks (events)."""
    while True:
        end = buf.find(b"0\r\n\r\n")
        if end >= 0 and (end == 0 or buf[end - 2 : end] == b"\r\n"):
            events = bytes(buf[:end]).count(b":event-type")
            del buf[: end + 5]
            return events
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("emulator closed the connection")
        buf += data


def stream_client(port: int, n: int, seconds: float, out: multiprocessing.Queue) -> None:
    raw = signed_request(port, n, "converse-stream")
    sock = socket.create_connection(("127.0.0.1", port))
    buf = bytearray()
    streams = events = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        sock.sendall(raw)
        events += read_stream(sock, buf)
        streams += 1
    sock.close()
    out.put((streams, events))


def client(port: int, n: int, seconds: float, out: multiprocessing.Queue) -> None:
    raw = signed_request(port, n)
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray()
    done = errors = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        sock.sendall(raw)
        if read_response(sock, buf) != 200:
            errors += 1
        done += 1
    sock.close()
    out.put((done, errors))


def stats(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/stats") as resp:
        return json.loads(resp.read())


def run_clients(target, port: int, count: int, seconds: float) -> tuple[list[tuple[int, int]], float, float]:
    """Run `count` client processes; return their results, wall seconds and emulator CPU seconds."""
    before = stats(port)
    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=target, args=(port, i, seconds, queue)) for i in range(count)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    results = [queue.get() for _ in workers]
    wall = time.perf_counter() - start
    for w in workers:
        w.join()
    return results, wall, stats(port)["cpu_seconds"] - before["cpu_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--stream-clients", type=int, default=20, help="concurrent ConverseStream connections")
    args = parser.parse_args()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kong_plugins.testing.bedrock_emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip().rsplit(":", 1)[1])
        results, wall, cpu = run_clients(client, port, args.clients, args.seconds)
        streams, stream_wall, stream_cpu = run_clients(stream_client, port, args.stream_clients, args.seconds)
    finally:
        proc.terminate()
        proc.wait(10)
    total = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    print(f"emulator Converse (SigV4 verified, latency off, {args.clients} keep-alive clients, {args.seconds:.0f}s)")
    print(f"  requests: {total}  non-200: {errors}")
    print(f"  wall-clock throughput: {total / wall:,.0f} req/s")
    print(f"  emulator CPU: {cpu:.2f}s -> {total / cpu:,.0f} req per CPU-second (one core)")
    n_streams = sum(r[0] for r in streams)
    n_events = sum(r[1] for r in streams)
    print(f"emulator ConverseStream ({args.stream_clients} concurrent connections, 1 ms minimum gap between events)")
    print(f"  streams: {n_streams}  events: {n_events}  ({n_streams / stream_wall:,.0f} streams/s)")
    print(f"  emulator CPU: {stream_cpu:.2f}s -> {n_events / stream_cpu:,.0f} events per CPU-second")
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
