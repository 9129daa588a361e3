"""Who the caller is and which role they have.

Kong OSS has no consumer groups, so the role comes from, in this order:
1. Enterprise consumer groups (only when enabled; OSS has no such PDK function);
2. a claim of the JWT that Kong's jwt plugin verified (the identity-provider path);
3. the consumer's tags (`role:developer`);
4. the `X-Consumer-Groups` header that Kong's acl plugin sets (only when trusted).
The first source that names a known role decides; within a source the most
privileged role wins. No known role means `other`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Most privileged first.
ROLES: tuple[str, ...] = ("admin", "developer", "analyst", "ecommerce_ops", "guest", "other")
DEFAULT_ROLE = "other"
_RANK = {role: i for i, role in enumerate(ROLES)}

SHARED_IDENTITY_KEY = "llm_gateway_identity"  # kong.ctx.shared key the first plugin fills
JWT_SHARED_KEY = "authenticated_jwt_token"  # set by Kong's jwt plugin


@dataclass(frozen=True)
class IdentitySettings:
    """The identity part of every plugin's config (see core.schema.IDENTITY_FIELDS)."""

    read_jwt: bool = True  # False: no jwt plugin in front, skip the kong.ctx.shared read
    jwt_role_claim: str = "groups"
    jwt_subject_claim: str = "sub"
    jwt_role_map: Mapping[str, str] = field(default_factory=dict)
    consumer_tag_prefix: str = "role:"
    trust_acl_header: bool = False
    acl_group_map: Mapping[str, str] = field(default_factory=dict)
    enterprise_consumer_groups: bool = False

    @classmethod
    def from_config(cls, conf: Mapping[str, Any]) -> IdentitySettings:
        def mapping(value: Any) -> dict[str, str]:
            # Kong sends an empty map as an empty list.
            return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}

        return cls(
            read_jwt=bool(conf.get("read_jwt", True)),
            jwt_role_claim=str(conf.get("jwt_role_claim") or ""),
            jwt_subject_claim=str(conf.get("jwt_subject_claim") or "sub"),
            jwt_role_map=mapping(conf.get("jwt_role_map")),
            consumer_tag_prefix=str(conf.get("consumer_tag_prefix") or "role:"),
            trust_acl_header=bool(conf.get("trust_acl_header", False)),
            acl_group_map=mapping(conf.get("acl_group_map")),
            enterprise_consumer_groups=bool(conf.get("enterprise_consumer_groups", False)),
        )


@dataclass(frozen=True)
class Identity:
    subject: str  # what limits are counted against
    role: str
    role_source: str  # consumer_group | jwt | consumer_tag | acl_header | default
    consumer_id: str | None = None
    consumer_username: str | None = None
    resolved_at: float | None = None  # epoch seconds; lets the log phase estimate the duration

    def to_shared(self) -> dict[str, Any]:
        # No None values: they do not survive Kong's Lua tables. (Not dataclasses.asdict:
        # it deep-copies, and this runs on every request.)
        values = {
            "subject": self.subject,
            "role": self.role,
            "role_source": self.role_source,
            "consumer_id": self.consumer_id,
            "consumer_username": self.consumer_username,
            "resolved_at": self.resolved_at,
        }
        return {k: v for k, v in values.items() if v is not None}

    @classmethod
    def from_shared(cls, value: Any) -> Identity | None:
        if not isinstance(value, Mapping):
            return None
        try:
            role = str(value["role"])
            if role not in _RANK:
                return None
            return cls(
                subject=str(value["subject"]),
                role=role,
                role_source=str(value.get("role_source", "default")),
                consumer_id=_opt_str(value.get("consumer_id")),
                consumer_username=_opt_str(value.get("consumer_username")),
                resolved_at=_opt_float(value.get("resolved_at")),
            )
        except KeyError:
            return None


def most_privileged(roles: Iterable[str]) -> str | None:
    known = [r for r in roles if r in _RANK]
    return min(known, key=_RANK.__getitem__) if known else None


def decode_jwt_claims(token: Any) -> dict[str, Any] | None:
    """Claims of a JWT that Kong's jwt plugin already verified; None if unreadable."""
    if not isinstance(token, str) or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def resolve_identity(
    settings: IdentitySettings,
    consumer: Mapping[str, Any] | None,
    *,
    jwt_claims: Mapping[str, Any] | None = None,
    consumer_groups: Any = None,
    acl_groups_header: str | None = None,
) -> Identity:
    consumer = consumer if isinstance(consumer, Mapping) else None
    consumer_id = _opt_str(consumer.get("id")) if consumer else None
    username = _opt_str(consumer.get("username")) if consumer else None

    subject = f"consumer:{consumer_id}" if consumer_id else "anonymous"
    if jwt_claims is not None:
        sub = jwt_claims.get(settings.jwt_subject_claim)
        if isinstance(sub, str | int) and str(sub):
            # The consumer is the identity provider; the person is the subject claim.
            subject = f"jwt:{consumer_id or '-'}:{sub}"

    candidates: list[tuple[str, str | None]] = []
    if settings.enterprise_consumer_groups:
        names = [g.get("name") for g in _as_list(consumer_groups) if isinstance(g, Mapping)]
        candidates.append(("consumer_group", most_privileged(str(n) for n in names if n)))
    if jwt_claims is not None and settings.jwt_role_claim:
        values = _as_list(jwt_claims.get(settings.jwt_role_claim))
        candidates.append(("jwt", most_privileged(_map_role(str(v), settings.jwt_role_map) for v in values)))
    if consumer:
        prefix = settings.consumer_tag_prefix
        tags = [str(t)[len(prefix) :] for t in _as_list(consumer.get("tags")) if str(t).startswith(prefix)]
        candidates.append(("consumer_tag", most_privileged(tags)))
    if settings.trust_acl_header and acl_groups_header:
        groups = [g.strip() for g in acl_groups_header.split(",")]
        candidates.append(("acl_header", most_privileged(_map_role(g, settings.acl_group_map) for g in groups)))

    for source, role in candidates:
        if role:
            return Identity(subject, role, source, consumer_id, username)
    return Identity(subject, DEFAULT_ROLE, "default", consumer_id, username)


def _map_role(value: str, mapping: Mapping[str, str]) -> str:
    return mapping.get(value, value)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return [value]
    return []


def _opt_float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _opt_str(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value) else None
