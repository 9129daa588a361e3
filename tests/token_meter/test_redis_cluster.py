"""The redis policy on a real 3-node Redis Cluster: hash-tagged keys keep a subject's windows
in one slot, so the Lua script runs (a script touching two slots would fail with CROSSSLOT)."""

from __future__ import annotations

import time

import pytest
import redis

from kong_plugins.testing.redis_server import RedisServer
from kong_plugins.token_meter.limits import Limit
from kong_plugins.token_meter.redis_limiter import RedisLimiter, RedisSettings

SLOTS = 16384


@pytest.fixture
def redis_cluster(tmp_path):
    nodes = []
    try:  # a node that fails to start must not leave the others running
        for i in range(3):
            d = tmp_path / f"node{i}"
            d.mkdir()
            node = RedisServer(str(d), extra_args=("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"))
            nodes.append(node)
            node.start()
        clients = [redis.Redis(host=n.host, port=n.port) for n in nodes]
        for i, c in enumerate(clients):  # split the slots in three, as redis-cli --cluster create does
            c.execute_command("CLUSTER", "ADDSLOTSRANGE", i * SLOTS // 3, (i + 1) * SLOTS // 3 - 1)
        for n in nodes[1:]:
            clients[0].execute_command("CLUSTER", "MEET", n.host, n.port)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            infos = [c.execute_command("CLUSTER", "INFO") for c in clients]
            if all(b"cluster_state:ok" in (i if isinstance(i, bytes) else str(i).encode()) for i in infos):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("cluster did not converge")
        yield nodes
    finally:
        for n in nodes:
            n.stop()


def test_limiter_works_on_a_redis_cluster(redis_cluster):
    node = redis_cluster[0]
    limiter = RedisLimiter(RedisSettings(host=node.host, port=node.port, cluster=True, timeout_ms=1000))
    limits = [Limit("minute", 60.0, 600), Limit("hour", 3600.0, 5000), Limit("day", 86400.0, 20000)]
    subjects = [f"consumer:{i}" for i in range(12)]  # spread over all three nodes
    for s in subjects:
        assert limiter.check(s, limits, 0).admitted
        limiter.charge(s, limits, 650)
        d = limiter.check(s, limits, 0)
        assert not d.admitted and d.retry_after >= 5
    holders = set()
    for n in redis_cluster:
        keys = redis.Redis(host=n.host, port=n.port).keys("kong_tm:*")
        if keys:
            holders.add(n.port)
    assert len(holders) > 1  # the subjects really are spread over the cluster
