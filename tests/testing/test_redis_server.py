"""The redis_server fixture runs a real redis-server that can be stopped and restarted."""

import redis


def test_redis_server_stops_and_restarts_on_the_same_port(redis_server):
    client = redis.Redis.from_url(redis_server.url, socket_timeout=1)
    client.set("k", "v")
    assert client.get("k") == b"v"
    port = redis_server.port
    redis_server.stop()
    assert not redis_server.ping()
    redis_server.start()
    assert redis_server.port == port
    assert client.ping()
