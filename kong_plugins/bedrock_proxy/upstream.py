"""Where a call goes and how it is signed: Bedrock endpoints, SigV4, Gemini.

Credentials come from boto3's default chain (environment, AWS_PROFILE, IRSA web identity,
container, IMDS), resolved once per plugin instance; `get_frozen_credentials()` runs per
request so refreshable credentials renew themselves. Signing is SigV4 with service name
`bedrock`, computed by `Signer` the way botocore's `SigV4Auth` does it. The model ID is
percent-encoded exactly once in the path.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
from botocore.auth import SIGNED_HEADERS_BLACKLIST
from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import normalize_url_path

from kong_plugins.core.errors import GatewayError

ENV_BEDROCK_ENDPOINT = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"
ENV_GEMINI_ENDPOINT = "GEMINI_ENDPOINT_URL"
GEMINI_DEFAULT_URL = "https://generativelanguage.googleapis.com"
SIGNING_NAME = "bedrock"

# Headers a client or Kong may have put on the request that must never reach AWS or Google:
# client credentials, Kong's consumer headers, a client's own AWS signature parts, cookies.
# Sent to kong.service.request.set_headers as [] (an empty array clears the header, see
# docs/decisions/0042-one-set-headers-call.md).
STRIP_HEADERS: tuple[str, ...] = (
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "apikey",
    "api-key",
    "cookie",
    "x-goog-api-key",
    "x-consumer-id",
    "x-consumer-custom-id",
    "x-consumer-username",
    "x-consumer-groups",
    "x-credential-identifier",
    "x-credential-username",
    "x-anonymous-consumer",
    "x-anonymous-groups",
    "x-authenticated-groups",
    "x-authenticated-scope",
    "x-authenticated-userid",
    "x-amz-security-token",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-user-agent",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
    "transfer-encoding",
    "expect",
)


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int
    base_path: str = ""  # a path prefix of the endpoint URL, without the trailing slash
    override: bool = False  # not the Kong service's own target: the plugin sets it

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host_header}{self.base_path}{path}"

    @classmethod
    def parse(cls, url: str, *, override: bool = True) -> Endpoint:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"), override)


def bedrock_endpoint(region: str, endpoint_url: str | None, env: Mapping[str, str] | None = None) -> Endpoint:
    """Config `endpoint_url`, else AWS_ENDPOINT_URL_BEDROCK_RUNTIME, else the regional endpoint
    (which the Kong service must point at, so Kong needs no set_target)."""
    env = os.environ if env is None else env
    url = endpoint_url or env.get(ENV_BEDROCK_ENDPOINT)
    if url:
        return Endpoint.parse(url)
    return Endpoint("https", f"bedrock-runtime.{region}.amazonaws.com", 443, "", override=False)


def gemini_endpoint(endpoint_url: str | None, env: Mapping[str, str] | None = None) -> Endpoint:
    env = os.environ if env is None else env
    return Endpoint.parse(endpoint_url or env.get(ENV_GEMINI_ENDPOINT) or GEMINI_DEFAULT_URL)


def model_path(model: str, operation: str) -> str:
    """`/model/<id>/<operation>` with the ID percent-encoded once (`:` -> `%3A`, `/` -> `%2F`)."""
    return f"/model/{quote(model, safe='')}/{operation}"


def gemini_path(model: str) -> str:
    name = model.removeprefix("models/")
    return f"/v1beta/models/{quote(name, safe='.-_')}:generateContent"


@functools.cache
def default_credentials() -> Any:
    """The default chain's credentials, resolved once per process (plugin instances are
    rebuilt on every config change; the refreshable credentials object is shared)."""
    return boto3.Session().get_credentials()


class Signer:
    """SigV4 for bedrock-runtime with the default credential chain.

    The signature is computed here rather than with botocore's `SigV4Auth` (about 0.15 ms per
    request: an AWSRequest, several header maps, four HMACs for the key): the request is
    always a POST without a query, so the canonical request is a few joins, and the signing
    key is derived once per day and secret. Same algorithm and the same canonical forms as
    botocore (path normalised and encoded with `quote(..., safe="/~")`, header values
    trimmed, botocore's unsigned-header list, payload hash always); tests compare the two
    header for header."""

    def __init__(self, region: str, session: Any = None, now: Callable[[], float] = time.time) -> None:
        self.region = region
        self._credentials = session.get_credentials() if session is not None else default_credentials()
        self._now = now
        self._keys: dict[tuple[str, str], bytes] = {}

    def sign(self, endpoint: Endpoint, path: str, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        """The headers to send with a POST of `body` to `path`: `headers` plus Host and SigV4."""
        if self._credentials is None:
            raise GatewayError("bad_gateway", "The gateway has no AWS credentials configured.", code="no_credentials")
        try:
            frozen = self._credentials.get_frozen_credentials()  # refreshes IRSA/STS credentials when due
        except (BotoCoreError, ClientError) as exc:
            raise GatewayError(
                "bad_gateway", "The gateway could not obtain its AWS credentials.", code="credentials_unavailable"
            ) from exc
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self._now()))
        day = amz_date[:8]
        signed = {k: v for k, v in headers.items() if k.lower() not in _REPLACED_HEADERS}
        signed["X-Amz-Date"] = amz_date
        if frozen.token:
            signed["X-Amz-Security-Token"] = frozen.token
        canonical: dict[str, list[str]] = {}
        for name, value in signed.items():
            lname = name.lower()
            if lname not in _UNSIGNED_HEADERS:
                canonical.setdefault(lname, []).append(" ".join(str(value).split()))
        canonical.setdefault("host", [endpoint.host_header])
        names = sorted(canonical)
        signed_names = ";".join(names)
        request = "\n".join(
            (
                "POST",
                quote(normalize_url_path(endpoint.base_path + path), safe="/~"),
                "",  # no query string: SigV4 signed none, the access phase clears the client's
                "".join(f"{n}:{','.join(canonical[n])}\n" for n in names),
                signed_names,
                hashlib.sha256(body).hexdigest(),
            )
        )
        scope = f"{day}/{self.region}/{SIGNING_NAME}/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(request.encode()).hexdigest()}"
        signature = hmac.new(self._key(frozen.secret_key, day), to_sign.encode(), hashlib.sha256).hexdigest()
        signed["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={frozen.access_key}/{scope}, "
            f"SignedHeaders={signed_names}, Signature={signature}"
        )
        signed["Host"] = endpoint.host_header
        return signed

    def _key(self, secret: str, day: str) -> bytes:
        key = self._keys.get((secret, day))
        if key is None:
            key = f"AWS4{secret}".encode()
            for part in (day, self.region, SIGNING_NAME, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            if len(self._keys) >= 4:  # a new day or rotated credentials
                self._keys.clear()
            self._keys[(secret, day)] = key
        return key


# botocore replaces these when it signs (a Date header would stand in for X-Amz-Date there;
# we never send one and drop it)
_REPLACED_HEADERS = frozenset({"authorization", "x-amz-date", "x-amz-security-token", "date"})
_UNSIGNED_HEADERS = frozenset(SIGNED_HEADERS_BLACKLIST)


def upstream_headers(signed: Mapping[str, str], strip: tuple[str, ...] = STRIP_HEADERS) -> dict[str, Any]:
    """One dict for kong.service.request.set_headers: the signed headers, and [] for every
    header that must not go upstream (set ones win, case-insensitively)."""
    out: dict[str, Any] = {name: [] for name in strip}
    for name, value in signed.items():
        out.pop(name.lower(), None)
        out[name] = value
    return out
