"""Role -> model policy: defaults, aliases, full IDs, 403 listing, fallback chains, /v1/models."""

import pytest

from kong_plugins.bedrock_proxy import policy as p
from kong_plugins.bedrock_proxy.policy import ModelPolicy
from kong_plugins.core.errors import GatewayError

DEFAULT = ModelPolicy.from_config({})


@pytest.mark.parametrize(
    ("role", "model"),
    [
        ("admin", p.SONNET_46_GLOBAL),
        ("developer", p.SONNET_46_GLOBAL),
        ("analyst", p.SONNET_45_US),
        ("ecommerce_ops", p.SONNET_45_US),
        ("guest", p.HAIKU_45_US),
        ("other", p.GEMINI_FLASH_LITE),
        ("unknown-role", p.GEMINI_FLASH_LITE),
    ],
)
def test_each_role_gets_its_default_model(role, model):
    assert DEFAULT.choose(role, None).model == model


@pytest.mark.parametrize(
    ("role", "alias", "model"),
    [
        ("developer", "sonnet", p.SONNET_46_GLOBAL),
        ("analyst", "sonnet", p.SONNET_45_US),
        ("guest", "haiku", p.HAIKU_45_US),
        ("admin", "opus", p.OPUS_46_GLOBAL),
        ("admin", "gemini-flash", p.GEMINI_FLASH),
        ("other", "gemini-flash", p.GEMINI_FLASH_LITE),
    ],
)
def test_alias_resolves_to_first_candidate_the_role_may_use(role, alias, model):
    choice = DEFAULT.choose(role, alias)
    assert choice.model == model
    assert choice.chosen_by_client is False


def test_full_id_is_used_as_is_when_allowed():
    choice = DEFAULT.choose("developer", p.SONNET_46_US)
    assert choice.model == p.SONNET_46_US and choice.chosen_by_client


def test_admin_may_name_any_model():
    assert DEFAULT.choose("admin", "anthropic.claude-opus-4-6-v1").model == "anthropic.claude-opus-4-6-v1"


@pytest.mark.parametrize(
    ("role", "requested"),
    [("guest", "sonnet"), ("guest", p.SONNET_45_US), ("analyst", "opus"), ("other", "haiku"), ("developer", "x\x00y")],
)
def test_forbidden_model_is_403_listing_allowed_ones(role, requested):
    with pytest.raises(GatewayError) as exc:
        DEFAULT.choose(role, requested)
    err = exc.value
    assert err.http_status == 403 and err.code == "model_not_allowed"
    for allowed in DEFAULT.allowed_models(role):
        assert allowed in err.message
    assert "\x00" not in err.message


def test_fallback_chain_starts_at_the_chosen_model():
    assert DEFAULT.choose("developer", None).chain == (p.SONNET_46_GLOBAL, p.SONNET_46_US, p.SONNET_45_GLOBAL)
    assert DEFAULT.choose("developer", p.SONNET_46_US).chain == (p.SONNET_46_US, p.SONNET_45_GLOBAL)
    assert DEFAULT.choose("guest", None).chain == (p.HAIKU_45_US, p.HAIKU_45_GLOBAL)


def test_a_model_picked_outside_the_fallback_list_is_never_swapped():
    assert DEFAULT.choose("admin", "opus").chain == (p.OPUS_46_GLOBAL,)


def test_models_list_is_openai_shaped_and_role_scoped():
    guest = DEFAULT.models_list("guest")
    assert guest["object"] == "list"
    ids = [m["id"] for m in guest["data"]]
    assert ids == [p.HAIKU_45_US, "haiku"]
    assert all(m["object"] == "model" for m in guest["data"])
    admin_ids = {m["id"] for m in DEFAULT.models_list("admin")["data"]}
    assert {p.OPUS_46_GLOBAL, p.GEMINI_FLASH, "sonnet", "opus", "haiku", "gemini-flash"} <= admin_ids


def test_config_replaces_the_defaults():
    conf = {
        "roles": {"guest": {"models": ["m1", "m2"], "default_model": "m2", "fallbacks": []}},
        "aliases": {"small": ["m1"]},
    }
    pol = ModelPolicy.from_config(conf)
    assert pol.choose("guest", None).model == "m2"
    assert pol.choose("guest", "small").model == "m1"
    with pytest.raises(GatewayError):
        pol.choose("admin", None)  # no such role and no `other` either


def test_provider_of():
    assert p.provider_of("gemini-3.5-flash") == "gemini"
    assert p.provider_of(p.SONNET_45_US) == "bedrock"


def test_an_empty_alias_map_from_kong_means_no_aliases():
    pol = ModelPolicy.from_config({"aliases": []})  # Kong sends {} as []
    with pytest.raises(GatewayError):
        pol.choose("guest", "haiku")
