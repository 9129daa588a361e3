"""The limiting algorithm, local and in a real redis-server, on the same cases."""

from __future__ import annotations

import pytest
import redis

from kong_plugins.core.identity import Identity
from kong_plugins.token_meter.headers import rate_limit_headers
from kong_plugins.token_meter.limiter import LimiterUnavailable, LocalLimiter
from kong_plugins.token_meter.limits import Limit, LimitPolicy
from kong_plugins.token_meter.redis_limiter import RedisLimiter, RedisSettings

MINUTE = Limit("minute", 60.0, 600)  # drains 10 tokens/s
HOUR = Limit("hour", 3600.0, 1000)


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


class LocalDriver:
    def __init__(self) -> None:
        self.clock = Clock()
        self.limiter = LocalLimiter(clock=self.clock)

    def check(self, limits, need=0):
        return self.limiter.check("consumer:a", limits, need)

    def charge(self, limits, amount):
        self.limiter.charge("consumer:a", limits, amount)

    def advance(self, seconds):
        self.clock.t += seconds


class RedisDriver:
    def __init__(self, server) -> None:
        self.limiter = RedisLimiter(RedisSettings(host=server.host, port=server.port, timeout_ms=500))
        self.now_ms = 1_000_000_000

    def check(self, limits, need=0):
        return self.limiter.check("consumer:a", limits, need, now_ms=self.now_ms)

    def charge(self, limits, amount):
        self.limiter.charge("consumer:a", limits, amount, now_ms=self.now_ms)

    def advance(self, seconds):
        self.now_ms += int(seconds * 1000)


@pytest.fixture(params=["local", "redis"])
def driver(request):
    if request.param == "local":
        return LocalDriver()
    return RedisDriver(request.getfixturevalue("redis_server"))


def test_admits_until_the_bucket_is_full_then_rejects_with_retry_after(driver):
    d = driver.check([MINUTE])
    assert d.admitted and d.windows[0].remaining == 600
    driver.charge([MINUTE], 650)  # the last admitted request overshoots; usage is known after
    d = driver.check([MINUTE])
    assert not d.admitted
    assert d.retry_after == 5  # 50 tokens over at 10 tokens/s
    headers = rate_limit_headers(d)
    assert headers["Retry-After"] == "5"
    assert headers["X-RateLimit-Remaining-Tokens-Minute"] == "0"
    assert headers["X-RateLimit-Limit-Tokens-Minute"] == "600"
    assert headers["RateLimit-Reset"] == "65"


def test_the_window_slides_continuously(driver):
    driver.charge([MINUTE], 600)
    assert not driver.check([MINUTE]).admitted
    driver.advance(1)  # 10 tokens drained: room again, no waiting for a window edge
    d = driver.check([MINUTE])
    assert d.admitted and d.windows[0].remaining == 10
    driver.advance(59)
    assert driver.check([MINUTE]).windows[0].remaining == 600


def test_no_double_burst_at_a_window_edge(driver):
    driver.advance(59)
    driver.charge([MINUTE], 600)
    driver.advance(2)  # a fixed window would start afresh here and allow 600 more
    d = driver.check([MINUTE])
    assert d.admitted and d.windows[0].remaining == 20


def test_reservation_takes_room_at_admission_and_settles_later(driver):
    d = driver.check([MINUTE], need=400)
    assert d.admitted and d.reserved == 400 and d.windows[0].remaining == 200
    assert not driver.check([MINUTE], need=300).admitted  # would exceed: the overshoot is closed
    assert rate_limit_headers(driver.check([MINUTE], need=150))["X-RateLimit-Reserved-Tokens"] == "150"
    driver.charge([MINUTE], 120 - 400)  # the first call used 120: refund 280
    d = driver.check([MINUTE])
    assert d.windows[0].remaining == 600 - 150 - 120


def test_a_request_bigger_than_the_limit_waits_for_an_empty_bucket(driver):
    driver.charge([MINUTE], 10)
    d = driver.check([MINUTE], need=5000)
    assert not d.admitted and d.retry_after == 1
    driver.advance(1)
    assert driver.check([MINUTE], need=5000).admitted


def test_every_window_must_have_room(driver):
    driver.charge([MINUTE, HOUR], 590)
    driver.advance(60)  # the minute bucket drained; the hour bucket drained only 60 * 1000/3600 tokens
    d = driver.check([MINUTE, HOUR], need=500)
    assert not d.admitted  # the hour has 426 left
    headers = rate_limit_headers(d)
    assert headers["X-RateLimit-Remaining-Tokens-Minute"] == "600"
    assert int(headers["X-RateLimit-Remaining-Tokens-Hour"]) == 426
    assert d.retry_after == 264  # (573.3 + 500 - 1000) tokens at 1000/3600 tokens/s


def test_redis_keys_share_one_cluster_slot_and_expire(redis_server):
    from redis.crc import key_slot

    limiter = RedisLimiter(RedisSettings(host=redis_server.host, port=redis_server.port))
    keys = limiter.keys("jwt:c1:alice@example.com", [MINUTE, HOUR])
    assert len({key_slot(k.encode()) for k in keys}) == 1
    assert all("alice" not in k for k in keys)
    limiter.charge("jwt:c1:alice@example.com", [MINUTE, HOUR], 100)
    client = redis.Redis(host=redis_server.host, port=redis_server.port)
    ttls = [client.pttl(k) for k in keys]
    assert 0 < ttls[0] <= 11_000 and 0 < ttls[1] <= 361_000


def test_redis_down_raises_quickly_then_backs_off(redis_server):
    limiter = RedisLimiter(RedisSettings(host=redis_server.host, port=redis_server.port, timeout_ms=200))
    assert limiter.check("s", [MINUTE], 0).admitted
    redis_server.stop()
    with pytest.raises(LimiterUnavailable):
        limiter.check("s", [MINUTE], 0)
    redis_server.start()
    with pytest.raises(LimiterUnavailable, match="marked down"):
        limiter.check("s", [MINUTE], 0)
    limiter._down_until = 0.0
    assert limiter.check("s", [MINUTE], 0).admitted


def ident(role, username=None):
    return Identity(f"consumer:{username or role}", role, "consumer_tag", username, username)


def test_policy_defaults_overrides_and_unlimited_admin():
    policy = LimitPolicy.from_config(
        {
            "limits_per_minute": {"guest": 300},
            "limits_per_hour": {"guest": 5000},
            "consumer_limits": [{"consumer": "vip", "minute": 50_000}, {"consumer": "free", "minute": 0}],
        }
    )
    assert policy.limits_for(ident("admin")) == ()
    assert [lim.tokens for lim in policy.limits_for(ident("guest"))] == [300, 5000]
    assert policy.limits_for(ident("developer"))[0].tokens == 10_000
    assert policy.limits_for(ident("analyst"))[0].tokens == 5_000
    assert policy.limits_for(ident("ecommerce_ops"))[0].tokens == 2_000
    assert policy.limits_for(ident("other"))[0].tokens == 1_000
    assert policy.limits_for(ident("guest", "vip"))[0].tokens == 50_000
    assert policy.limits_for(ident("developer", "free")) == ()


def test_redis_password_is_used_and_a_wrong_one_degrades(tmp_path):
    from kong_plugins.testing.redis_server import RedisServer

    server = RedisServer(str(tmp_path), password="s3cret-pass")
    server.start()
    try:
        good = RedisLimiter(RedisSettings(host=server.host, port=server.port, password="s3cret-pass"))
        assert good.check("s", [MINUTE], 0).admitted
        bad = RedisLimiter(RedisSettings(host=server.host, port=server.port, password="wrong"))
        with pytest.raises(LimiterUnavailable) as info:
            bad.check("s", [MINUTE], 0)
        assert "wrong" not in str(info.value)
    finally:
        server.stop()


def _self_signed(directory):
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


def test_redis_over_tls_verifies_the_certificate(tmp_path):
    from kong_plugins.testing.redis_server import RedisServer, free_port

    cert, key = _self_signed(tmp_path)
    tls_port = free_port()
    tls = ("--tls-port", str(tls_port), "--tls-cert-file", cert, "--tls-key-file", key)
    server = RedisServer(str(tmp_path), extra_args=(*tls, "--tls-ca-cert-file", cert, "--tls-auth-clients", "no"))
    server.start()  # the plain port answers the readiness ping; the limiter uses the TLS port
    try:
        trusted = RedisSettings(host="127.0.0.1", port=tls_port, ssl=True, ssl_ca_file=cert, timeout_ms=2000)
        assert RedisLimiter(trusted).check("s", [MINUTE], 0).admitted
        unknown_ca = RedisSettings(host="127.0.0.1", port=tls_port, ssl=True, timeout_ms=2000)
        with pytest.raises(LimiterUnavailable):
            RedisLimiter(unknown_ca).check("s", [MINUTE], 0)
        plaintext_to_tls = RedisSettings(host="127.0.0.1", port=tls_port, timeout_ms=500)
        with pytest.raises(LimiterUnavailable):
            RedisLimiter(plaintext_to_tls).check("s", [MINUTE], 0)
    finally:
        server.stop()
