"""PDK reads that all three plugins share: the caller's identity, resolved once a request.

The first of our plugins to run resolves the identity and stores it in kong.ctx.shared;
the others read it back with one call instead of repeating the lookups.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from kong_plugins.core.identity import (
    JWT_SHARED_KEY,
    SHARED_IDENTITY_KEY,
    Identity,
    IdentitySettings,
    decode_jwt_claims,
    resolve_identity,
)

RESOLVED_AT = "resolved_at"


def load_identity(kong: Any, settings: IdentitySettings, *, first: bool = False) -> Identity:
    """The request's identity. `first=True` skips the shared lookup: the highest-priority
    plugin of ours knows nothing has stored an identity yet."""
    if not first:
        identity = Identity.from_shared(kong.ctx.shared.get(SHARED_IDENTITY_KEY))
        if identity is not None:
            return identity
    consumer = kong.client.get_consumer()
    jwt = settings.read_jwt and bool(settings.jwt_role_claim)
    claims = decode_jwt_claims(kong.ctx.shared.get(JWT_SHARED_KEY)) if jwt else None
    groups = kong.client.get_consumer_groups() if settings.enterprise_consumer_groups else None
    acl = kong.request.get_header("x-consumer-groups") if settings.trust_acl_header and consumer else None
    identity = resolve_identity(settings, consumer, jwt_claims=claims, consumer_groups=groups, acl_groups_header=acl)
    # resolved_at lets a log handler estimate the request duration without another PDK call.
    identity = dataclasses.replace(identity, resolved_at=round(time.time(), 3))
    kong.ctx.shared.set(SHARED_IDENTITY_KEY, identity.to_shared())
    return identity


def resolved_at(shared_identity: Any) -> float | None:
    """When the first plugin resolved the identity (epoch seconds), from the shared value."""
    value = shared_identity.get(RESOLVED_AT) if isinstance(shared_identity, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
