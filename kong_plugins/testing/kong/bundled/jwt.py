"""jwt as in Kong 3.9.3 (kong/plugins/jwt/handler.lua and jwt_parser.lua, priority 1450).

HS256/384/512 and RS256/384/512 are verified; other algorithms Kong knows are refused as
"Invalid algorithm" here (our configs do not use them).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl

from kong_plugins.testing.kong.bundled.base import BundledPlugin, authenticate, kong_exit
from kong_plugins.testing.kong.request import KongRequest

ALGORITHMS: tuple[str, ...] = (
    "HS256",
    "HS384",
    "HS512",
    "RS256",
    "RS384",
    "RS512",
    "ES256",
    "ES384",
    "ES512",
    "PS256",
    "PS384",
    "PS512",
    "EdDSA",
)
_HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}
_BEARER = re.compile(r"\s*[Bb]earer\s+(.+)")


class _Unauthorized(Exception):
    def __init__(self, message: str | None, www: str, errors: dict[str, Any] | None = None) -> None:
        self.message, self.www, self.errors = message, www, errors


class Jwt(BundledPlugin):
    name = "jwt"
    priority = 1450
    no_consumer = True
    schema = [
        {"uri_param_names": {"type": "set", "elements": {"type": "string"}, "default": ["jwt"]}},
        {"cookie_names": {"type": "set", "elements": {"type": "string"}, "default": []}},
        {"key_claim_name": {"type": "string", "default": "iss"}},
        {"secret_is_base64": {"type": "boolean", "required": True, "default": False}},
        {"claims_to_verify": {"type": "set", "elements": {"type": "string", "one_of": ["exp", "nbf"]}}},
        {"anonymous": {"type": "string"}},
        {"run_on_preflight": {"type": "boolean", "required": True, "default": True}},
        {"maximum_expiration": {"type": "number", "default": 0, "between": [0, 31536000]}},
        {"header_names": {"type": "set", "elements": {"type": "string"}, "default": ["authorization"]}},
        {"realm": {"type": "string", "required": False}},
    ]

    @classmethod
    def entity_check(cls, config: dict[str, Any]) -> str | None:
        if (config.get("maximum_expiration") or 0) > 0 and "exp" not in (config.get("claims_to_verify") or []):
            return "config.claims_to_verify: must contain 'exp' when config.maximum_expiration is set"
        return None

    def run(self, phase: str, req: KongRequest, config: dict[str, Any]) -> None:
        if not config["run_on_preflight"] and req.method == "OPTIONS":
            return
        if config.get("anonymous") and req.credential is not None:
            return
        try:
            consumer, secret, token = self._authenticate(req, config)
        except _Unauthorized as err:
            if config.get("anonymous"):
                authenticate(req, self.db.load_consumer(config["anonymous"]), None, None)
                req.ctx_shared.pop("authenticated_jwt_token", None)
                return
            body: Any = err.errors if err.errors else {"message": err.message}
            kong_exit(req, 401, body, {"WWW-Authenticate": err.www})
            return
        authenticate(req, consumer, secret, secret.get("key"))
        req.ctx_shared["authenticated_jwt_token"] = token

    def _authenticate(self, req: KongRequest, config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str]:
        realm = config.get("realm")
        base = f'Bearer realm="{realm}"' if realm else "Bearer"
        www = base + ' error="invalid_token"'
        tokens = _tokens(req, config)
        if not tokens:
            raise _Unauthorized("Unauthorized", base)
        if len(tokens) > 1:
            raise _Unauthorized("Multiple tokens provided", www)
        token = tokens[0]
        parsed = _decode(token)
        if isinstance(parsed, str):
            raise _Unauthorized(f"Bad token; {parsed}", www)
        header, claims, signing_input, signature = parsed
        claim = config["key_claim_name"]
        secret_key = claims.get(claim, header.get(claim))
        if secret_key is None:
            raise _Unauthorized(f"No mandatory '{claim}' in claims", www)
        if secret_key == "":
            raise _Unauthorized(f"Invalid '{claim}' in claims", www)
        secret = self.db.jwt_by_key.get(str(secret_key)) if isinstance(secret_key, str) else None
        if secret is None:
            raise _Unauthorized(f"No credentials found for given '{claim}'", www)
        algorithm = secret.get("algorithm") or "HS256"
        if header.get("alg") != algorithm:
            raise _Unauthorized("Invalid algorithm", www)
        if algorithm.startswith("HS"):
            key: Any = secret.get("secret")
            if key is not None and config["secret_is_base64"]:
                key = _b64(key)
        else:
            key = secret.get("rsa_public_key")
        if not key:
            raise _Unauthorized("Invalid key/secret", www)
        if not _verify(algorithm, signing_input, signature, key):
            raise _Unauthorized("Invalid signature", www)
        errors = _verify_claims(claims, config.get("claims_to_verify") or [])
        max_exp = config.get("maximum_expiration") or 0
        if not errors and max_exp > 0:
            exp = claims.get("exp")
            if exp is None or exp - time.time() > max_exp:
                errors = {"exp": "exceeds maximum allowed expiration"}
        if errors:
            raise _Unauthorized(None, www, errors)
        consumer = self.db.consumer_entity(secret["consumer"]["id"])
        if consumer is None:
            raise _Unauthorized(f"Could not find consumer for '{claim}={secret_key}'", www)
        return consumer, secret, token


def _tokens(req: KongRequest, config: dict[str, Any]) -> list[str]:
    found: dict[str, None] = {}
    query = parse_qsl(req.raw_query, keep_blank_values=True)
    for name in config["uri_param_names"]:
        for k, v in query:
            if k == name and v:
                found[v] = None
    cookies = ";".join(req.headers.get("cookie", []))
    for name in config["cookie_names"]:
        for part in cookies.split(";"):
            k, _, v = part.strip().partition("=")
            if k == name and v:
                found[v] = None
    for name in config["header_names"]:
        values = req.headers.get(name.lower())
        if values:
            m = _BEARER.match(values[0])
            if m and m.group(1):
                found[m.group(1)] = None
    return list(found)


def _b64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _decode(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes] | str:
    parts = token.split(".", 2)
    if len(parts) != 3:
        return "invalid JSON"
    try:
        header = json.loads(_b64(parts[0]))
        claims = json.loads(_b64(parts[1]))
        signature = _b64(parts[2])
    except (binascii.Error, ValueError):
        return "invalid JSON"
    if not isinstance(header, dict) or not isinstance(header.get("alg"), str) or header["alg"] not in ALGORITHMS:
        return "invalid alg"
    if not isinstance(claims, dict):
        return "invalid claims"
    return header, claims, f"{parts[0]}.{parts[1]}".encode(), signature


def _verify(algorithm: str, signing_input: bytes, signature: bytes, key: str | bytes) -> bool:
    digest = _HASHES.get(algorithm[2:])
    if digest is None:
        return False
    key_bytes = key.encode() if isinstance(key, str) else key
    if algorithm.startswith("HS"):
        return hmac.compare_digest(hmac.new(key_bytes, signing_input, digest).digest(), signature)
    if algorithm.startswith("RS"):
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        try:
            public = serialization.load_pem_public_key(key_bytes)
        except ValueError:
            return False
        if not isinstance(public, rsa.RSAPublicKey):
            return False
        algo = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[algorithm[2:]]
        try:
            public.verify(signature, signing_input, padding.PKCS1v15(), algo)
        except InvalidSignature:
            return False
        return True
    return False


def _verify_claims(claims: dict[str, Any], to_verify: list[str]) -> dict[str, Any] | None:
    errors: dict[str, Any] = {}
    now = time.time()
    for name in to_verify:
        value = claims.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors[name] = "must be a number"
        elif name == "exp" and value <= now:
            errors[name] = "token expired"
        elif name == "nbf" and value > now:
            errors[name] = "token not valid yet"
    return errors or None
