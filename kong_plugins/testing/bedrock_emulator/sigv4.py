"""SigV4 verification with botocore's own signer, against the raw (still %-encoded) request path."""

from __future__ import annotations

import hmac
import time
from calendar import timegm
from dataclasses import dataclass, field
from typing import Any

from botocore.auth import SigV4Auth
from botocore.credentials import Credentials

from .errors import BedrockError, auth_error

MAX_SKEW_S = 300
EXPIRED_TOKEN_PREFIX = "EXPIRED"  # a session token starting with this is treated as expired
SERVICE = "bedrock"


class _Headers(dict):
    """Enough of botocore's HTTPHeaders for SigV4Auth: case-insensitive `in` and lookups."""

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and dict.__contains__(self, key.lower())

    def __getitem__(self, key: str) -> str:
        return dict.__getitem__(self, key.lower())

    def get_all(self, key: str) -> list[str]:
        return [dict.__getitem__(self, key.lower())]


@dataclass
class _Request:
    """The attributes SigV4Auth reads from an AWSRequest, without its parsing costs."""

    method: str
    url: str
    headers: _Headers
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)


class _CachedKeySigner(SigV4Auth):
    """botocore's SigV4Auth with the derived signing key cached per (date, region)."""

    def __init__(self, credentials: Credentials, region: str, cache: dict[tuple[str, str, str], bytes]) -> None:
        super().__init__(credentials, SERVICE, region)
        self._cache = cache

    def headers_to_sign(self, request: Any) -> Any:
        """Exactly the headers the client listed in SignedHeaders (already selected, lower-case).

        botocore's version rebuilds an email.message-based HTTPHeaders, the costliest step here.
        """
        return request.headers

    def signature(self, string_to_sign: str, request: Any) -> str:
        date = request.context["timestamp"][0:8]
        cache_key = (self.credentials.secret_key, date, self._region_name)
        k_signing = self._cache.get(cache_key)
        if k_signing is None:
            k_date = self._sign(f"AWS4{self.credentials.secret_key}".encode(), date)
            k_signing = self._sign(self._sign(self._sign(k_date, self._region_name), SERVICE), "aws4_request")
            self._cache[cache_key] = k_signing
        return self._sign(k_signing, string_to_sign, hex=True)


def _parse_authorization(value: str) -> dict[str, str]:
    algorithm, _, rest = value.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        raise auth_error("IncompleteSignatureException", f"Unsupported AWS 'algorithm': '{algorithm}'")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, _, val = item.strip().partition("=")
        parts[key] = val
    if not all(parts.get(k) for k in ("Credential", "SignedHeaders", "Signature")):
        raise auth_error("IncompleteSignatureException")
    return parts


def _amz_date_epoch(amz_date: str) -> float:
    """`20261128T162403Z` -> epoch seconds (strptime costs more than the rest of the check)."""
    if len(amz_date) != 16 or amz_date[8] != "T" or amz_date[15] != "Z":
        raise ValueError(amz_date)
    d, t = amz_date[:8], amz_date[9:15]
    parts = (int(d[:4]), int(d[4:6]), int(d[6:8]), int(t[:2]), int(t[2:4]), int(t[4:6]))
    if not (1 <= parts[1] <= 12 and 1 <= parts[2] <= 31 and parts[3] < 24 and parts[4] < 60 and parts[5] < 61):
        raise ValueError(amz_date)
    return float(timegm(parts))


class SigV4Verifier:
    """Checks `Authorization: AWS4-HMAC-SHA256 ...` against known key pairs."""

    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = secrets
        self._key_cache: dict[tuple[str, str, str], bytes] = {}

    def verify(self, method: str, raw_target: str, headers: dict[str, str], body: bytes, now: float) -> str:
        """Return the access key ID, or raise BedrockError(403) as AWS's front end answers."""
        auth = headers.get("authorization")
        if not auth:
            raise auth_error("MissingAuthenticationTokenException")
        parts = _parse_authorization(auth)
        akid, _, scope = parts["Credential"].partition("/")
        scope_parts = scope.split("/")
        if len(scope_parts) != 4 or scope_parts[3] != "aws4_request":
            raise auth_error(
                "IncompleteSignatureException", f"Credential should be scoped to a valid region. '{scope}'"
            )
        date, region, service, _ = scope_parts
        secret = self.secrets.get(akid)
        if secret is None:
            raise auth_error("UnrecognizedClientException")
        if service != SERVICE:
            raise auth_error(
                "InvalidSignatureException", f"Credential should be scoped to correct service: '{SERVICE}'."
            )
        amz_date = headers.get("x-amz-date", "")
        if not amz_date:
            raise auth_error(
                "IncompleteSignatureException",
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            )
        if len(amz_date) != 16 or amz_date[:8] != date:
            raise auth_error(
                "InvalidSignatureException",
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{date}' != '{amz_date[:8]}', from '{amz_date}'.",
            )
        try:
            signed_at = _amz_date_epoch(amz_date)
        except ValueError:
            raise auth_error(
                "IncompleteSignatureException", f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'."
            ) from None
        if abs(now - signed_at) > MAX_SKEW_S:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
            early = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now - MAX_SKEW_S))
            raise auth_error(
                "InvalidSignatureException",
                f"Signature expired: {amz_date} is now earlier than {early} ({stamp} - 5 min.)"
                if signed_at < now
                else f"Signature not yet current: {amz_date} is still later than {stamp} + 5 min.",
            )
        signed = _Headers()
        names = parts["SignedHeaders"].split(";")
        if "host" not in names:
            raise auth_error(
                "InvalidSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
            )
        for name in names:
            value = headers.get(name)
            if value is None:
                raise auth_error("InvalidSignatureException")
            signed[name] = value
        request = _Request(method, "http://" + headers.get("host", "") + raw_target, signed, body)
        request.context["timestamp"] = amz_date
        signer = _CachedKeySigner(Credentials(akid, secret), region, self._key_cache)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, parts["Signature"]):
            raise auth_error("InvalidSignatureException")
        if headers.get("x-amz-security-token", "").startswith(EXPIRED_TOKEN_PREFIX):
            raise auth_error("ExpiredTokenException")
        return akid


def check_bearer(headers: dict[str, str], tokens: set[str]) -> bool | None:
    """None when not a bearer request; else whether the token is known."""
    auth = headers.get("authorization", "")
    if not auth.startswith("Bearer "):
        return None
    return auth[7:].strip() in tokens


__all__ = ["BedrockError", "SigV4Verifier", "check_bearer"]
