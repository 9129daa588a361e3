import base64
import json

import pytest

from kong_plugins.core.identity import (
    Identity,
    IdentitySettings,
    decode_jwt_claims,
    most_privileged,
    resolve_identity,
)

DEFAULTS = IdentitySettings()


def jwt(claims: dict) -> str:
    def part(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.sig"


CONSUMER = {"id": "c-1", "username": "dev-user-1", "tags": ["role:developer", "team:web"]}


@pytest.mark.parametrize(
    ("consumer", "claims", "groups", "header", "settings", "role", "source"),
    [
        (CONSUMER, None, None, None, DEFAULTS, "developer", "consumer_tag"),
        ({"id": "c-2", "tags": ["role:guest", "role:analyst"]}, None, None, None, DEFAULTS, "analyst", "consumer_tag"),
        ({"id": "c-3", "tags": []}, None, None, None, DEFAULTS, "other", "default"),
        ({"id": "c-3", "tags": ["role:superuser"]}, None, None, None, DEFAULTS, "other", "default"),
        (None, None, None, None, DEFAULTS, "other", "default"),
        # The JWT claim comes before consumer tags.
        (CONSUMER, {"sub": "u1", "groups": ["guest"]}, None, None, DEFAULTS, "guest", "jwt"),
        (CONSUMER, {"sub": "u1", "groups": "admin"}, None, None, DEFAULTS, "admin", "jwt"),
        (CONSUMER, {"sub": "u1", "groups": ["nobody"]}, None, None, DEFAULTS, "developer", "consumer_tag"),
        (
            {"id": "idp"},
            {"sub": "u1", "groups": ["okta-analysts"]},
            None,
            None,
            IdentitySettings(jwt_role_map={"okta-analysts": "analyst"}),
            "analyst",
            "jwt",
        ),
        # Enterprise consumer groups only when enabled.
        (CONSUMER, None, [{"name": "admin"}], None, DEFAULTS, "developer", "consumer_tag"),
        (
            CONSUMER,
            None,
            [{"name": "admin"}],
            None,
            IdentitySettings(enterprise_consumer_groups=True),
            "admin",
            "consumer_group",
        ),
        # The acl header only when trusted, and only after the other sources.
        ({"id": "c-3", "tags": []}, None, None, "admin", DEFAULTS, "other", "default"),
        (
            {"id": "c-3", "tags": []},
            None,
            None,
            "shoppers, analyst",
            IdentitySettings(trust_acl_header=True),
            "analyst",
            "acl_header",
        ),
    ],
)
def test_role_resolution_order(consumer, claims, groups, header, settings, role, source):
    identity = resolve_identity(settings, consumer, jwt_claims=claims, consumer_groups=groups, acl_groups_header=header)
    assert (identity.role, identity.role_source) == (role, source)


def test_subject_is_consumer_or_jwt_sub():
    assert resolve_identity(DEFAULTS, CONSUMER).subject == "consumer:c-1"
    assert resolve_identity(DEFAULTS, {"id": "idp"}, jwt_claims={"sub": "alice"}).subject == "jwt:idp:alice"
    assert resolve_identity(DEFAULTS, None).subject == "anonymous"


def test_most_privileged_wins():
    assert most_privileged(["guest", "ecommerce_ops", "developer"]) == "developer"
    assert most_privileged(["unknown"]) is None


@pytest.mark.parametrize("token", [None, 42, "", "a.b", "a.!!!.c", "a.bm90IGpzb24.c", jwt([1, 2])])  # type: ignore[list-item]
def test_unreadable_jwt_gives_no_claims(token):
    assert decode_jwt_claims(token) is None


def test_jwt_claims_decode():
    assert decode_jwt_claims(jwt({"sub": "x", "groups": ["a"]})) == {"sub": "x", "groups": ["a"]}


def test_identity_round_trips_through_shared_ctx():
    ident = resolve_identity(DEFAULTS, CONSUMER)
    assert Identity.from_shared(ident.to_shared()) == ident
    assert None not in ident.to_shared().values()
    assert Identity.from_shared({"subject": "x", "role": "root"}) is None
    assert Identity.from_shared([]) is None


def test_settings_from_kong_config_with_empty_maps_as_lists():
    s = IdentitySettings.from_config({"jwt_role_map": [], "acl_group_map": [], "jwt_role_claim": "roles"})
    assert s.jwt_role_map == {} and s.jwt_role_claim == "roles"


class _Kong:
    """Just the PDK calls load_identity makes, recorded."""

    def __init__(self, shared: dict) -> None:
        self.calls: list[str] = []
        self.shared = shared
        kong = self

        class Ctx:
            class shared:  # noqa: N801 - kong.ctx.shared
                @staticmethod
                def get(key):
                    kong.calls.append(f"ctx.get {key}")
                    return kong.shared.get(key)

                @staticmethod
                def set(key, value):
                    kong.calls.append(f"ctx.set {key}")
                    kong.shared[key] = value

        class Client:
            @staticmethod
            def get_consumer():
                kong.calls.append("get_consumer")
                return CONSUMER

        self.ctx, self.client = Ctx, Client


@pytest.mark.parametrize("read_jwt", [True, False])
def test_read_jwt_false_skips_the_token_read(read_jwt):
    from kong_plugins.core.shared import load_identity

    token = jwt({"sub": "alice", "groups": ["gateway-admins"]})
    kong = _Kong({"authenticated_jwt_token": token})
    conf = {"read_jwt": read_jwt, "jwt_role_claim": "groups", "jwt_role_map": {"gateway-admins": "admin"}}
    settings = IdentitySettings.from_config(conf)
    identity = load_identity(kong, settings, first=True)
    if read_jwt:
        assert kong.calls == ["get_consumer", "ctx.get authenticated_jwt_token", "ctx.set llm_gateway_identity"]
        assert (identity.role, identity.role_source) == ("admin", "jwt")
    else:
        assert kong.calls == ["get_consumer", "ctx.set llm_gateway_identity"]
        assert identity.role_source == "consumer_tag"
