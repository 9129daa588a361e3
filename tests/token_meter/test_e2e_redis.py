"""The redis policy end to end: two gateways (each with its own token-meter server) share one
limit in one real redis-server; Redis going away gives fail-open or fail-closed, quickly."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import redis
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.token_meter.conftest import write_config
from tests.token_meter.test_e2e_limits import PROMPT, chat, used_tokens


def metric(url: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(requests.get(url, timeout=5).text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def test_two_gateways_share_one_limit(meter_gateway, redis_server):
    a, _ = meter_gateway(policy="redis", redis_port=redis_server.port)
    b, _ = meter_gateway(policy="redis", redis_port=redis_server.port)
    used, n = 0, 0
    while True:
        gw = (a, b)[n % 2]
        resp = chat(gw, "guest-key")
        gw.wait_idle()
        n += 1
        if resp.status_code == 429:
            break
        assert resp.status_code == 200
        used += used_tokens(resp)
        assert n < 20, "never limited"
    # one limit for the cluster, not one per gateway: the 429 came before 2 x 500 tokens
    assert 500 <= used + 10 and used < 500 + 200
    other = b if gw is a else a
    assert chat(other, "guest-key").status_code == 429


def test_concurrent_clients_on_two_gateways_overshoot_bound(meter_gateway, redis_server, tmp_path):
    """16 clients on one subject through two gateways. Without reservation the overshoot is
    bounded by the requests in flight when the bucket fills (clients x tokens per request);
    with reservation every admission takes its tokens atomically in Redis, so only the
    estimate's error is left."""
    results = {}
    options = {"policy": "redis", "redis_port": redis_server.port, "developer_limit": 2000}
    gws = [meter_gateway(**options)[0] for _ in range(2)]
    for reservation in ("false", "true"):
        redis.Redis(host=redis_server.host, port=redis_server.port).flushall()  # an empty store per run
        if reservation == "true":  # a config reload, as Kong DB-less does it: new plugin instances
            path = write_config(tmp_path / "reserving.yaml", reservation="true", **options)
            for gw in gws:
                gw.load(path)
        used, admitted, biggest = 0, 0, 0
        lock = threading.Lock()
        deadline = time.monotonic() + 2.0
        start = time.monotonic()

        def client(k: int) -> None:
            nonlocal used, admitted, biggest
            session = requests.Session()
            while time.monotonic() < deadline:
                resp = session.post(
                    gws[k % 2].url + "/v1/chat/completions",
                    headers={"X-API-Key": "dev-key"},
                    json={"messages": [{"role": "user", "content": PROMPT}], "max_tokens": 64},
                    timeout=30,
                )
                if resp.status_code == 200:
                    with lock:
                        used += used_tokens(resp)
                        admitted += 1
                        biggest = max(biggest, used_tokens(resp))
                else:
                    assert resp.status_code == 429
                    time.sleep(0.05)

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(client, range(16)))
        elapsed = time.monotonic() - start
        allowed = 2000 + 2000 / 60 * elapsed  # the burst plus what drained meanwhile
        results[reservation] = (used, allowed, admitted, biggest)
        print(f"reservation={reservation}: used {used} of {allowed:.0f} allowed, {admitted} admitted")
        for gw in gws:
            gw.wait_idle()
    used, allowed, _, biggest = results["false"]
    # The documented bound without reservation: each client can have one request in flight and
    # one answered whose log phase (which charges it) has not run yet.
    assert used <= allowed + 2 * 16 * biggest
    used, allowed, _, biggest = results["true"]
    assert used <= allowed + biggest  # with reservation: at most one request's estimate error
    assert results["true"][2] > 0


def test_redis_down_fail_open_is_quick_and_says_degraded(meter_gateway, redis_server):
    gw, metrics_url = meter_gateway(policy="redis", redis_port=redis_server.port)
    assert chat(gw, "guest-key").status_code == 200
    gw.wait_idle()
    redis_server.stop()
    started = time.monotonic()
    resp = chat(gw, "guest-key")
    assert time.monotonic() - started < 5  # the 200 ms Redis timeout, not a hang
    assert resp.status_code == 200
    assert resp.headers["X-RateLimit-Degraded"] == "redis"
    assert resp.headers["X-RateLimit-Limit-Tokens-Minute"] == "500"
    assert "X-RateLimit-Remaining-Tokens-Minute" not in resp.headers
    gw.wait_idle()
    assert metric(metrics_url, "kong_bedrock_ratelimit_degraded_total", dependency="redis", phase="access") >= 1
    assert any('"ratelimit_degraded"' in line and '"level":"warn"' in line for line in gw.error_log())
    redis_server.start()
    time.sleep(1.1)  # the limiter does not ask a failed Redis again for 1 s
    resp = chat(gw, "guest-key")
    assert "X-RateLimit-Degraded" not in resp.headers
    assert "X-RateLimit-Remaining-Tokens-Minute" in resp.headers


def test_redis_down_fail_closed_answers_503(meter_gateway, redis_server):
    gw, _ = meter_gateway(policy="redis", redis_port=redis_server.port, fault_tolerant="false")
    redis_server.stop()
    started = time.monotonic()
    resp = chat(gw, "guest-key")
    assert time.monotonic() - started < 5
    assert resp.status_code == 503
    assert resp.json()["error"]["code"] == "rate_limiter_unavailable"
    assert resp.headers["Retry-After"] == "1"
    assert resp.headers["X-RateLimit-Degraded"] == "redis"


def test_a_redis_that_never_answers_costs_one_timeout_then_nothing(meter_gateway):
    """A listener that accepts connections and never replies (a hung Redis): the first request
    waits the 200 ms socket timeout, the next ones skip Redis for a second (no hang)."""
    import socket

    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(64)  # connections complete in the kernel backlog; nothing is ever read
        gw, _ = meter_gateway(policy="redis", redis_port=hole.getsockname()[1])
        started = time.monotonic()
        first = chat(gw, "guest-key")
        first_s = time.monotonic() - started
        second = chat(gw, "guest-key")
        assert first.status_code == second.status_code == 200
        assert first.headers["X-RateLimit-Degraded"] == second.headers["X-RateLimit-Degraded"] == "redis"
        assert first_s < 5  # bounded by the configured timeout, far from Kong's 60 s RPC timeout
