"""The declarative loader: what Kong OSS 3.9.3 accepts, fills in and rejects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kong_plugins.testing.kong.bundled import BUNDLED
from kong_plugins.testing.kong.declarative import (
    ConfigError,
    InstalledPlugin,
    installed_bundled,
    installed_external,
    load,
    load_file,
)
from kong_plugins.testing.kong.plugin_server import PLUGIN_SCRIPTS, PluginServer

ROOT = Path(__file__).resolve().parents[2]

PROBE_SCHEMA: list[dict[str, Any]] = [
    {"mode": {"type": "string", "default": "strict", "one_of": ["strict", "lenient"]}},
    {"secret": {"type": "string", "referenceable": True}},
    {"plain": {"type": "string"}},
]


def installed() -> dict[str, InstalledPlugin]:
    out = installed_bundled(list(BUNDLED))
    out["probe"] = installed_external("probe", 940, frozenset({"access"}), PROBE_SCHEMA)
    return out


def base(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_format_version": "3.0",
        "services": [
            {
                "name": "svc",
                "url": "https://example.com:8443/api",
                "routes": [{"name": "r1", "paths": ["/one"]}, {"name": "r2", "paths": ["/two"]}],
            }
        ],
        "consumers": [{"username": "alice", "tags": ["role:admin"]}, {"username": "bob"}],
    }
    doc.update(extra)
    return doc


def errors_of(doc: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as exc:
        load(doc, installed())
    return str(exc.value)


def test_service_url_and_defaults() -> None:
    cfg = load(base(), installed())
    (svc,) = cfg.services.values()
    assert (svc["protocol"], svc["host"], svc["port"], svc["path"]) == ("https", "example.com", 8443, "/api")
    assert (svc["connect_timeout"], svc["read_timeout"], svc["retries"]) == (60000, 60000, 5)
    r1 = cfg.routes[0]
    assert r1["strip_path"] is True and r1["service"] == {"id": svc["id"]}
    assert r1["protocols"] == ["http", "https"] and r1["path_handling"] == "v0"


def test_ids_are_stable_across_loads() -> None:
    a, b = load(base(), installed()), load(base(), installed())
    assert list(a.services) == list(b.services) and list(a.consumers) == list(b.consumers)


def test_top_level_route_with_service_reference() -> None:
    cfg = load(base(routes=[{"name": "r3", "paths": ["/three"], "service": "svc"}]), installed())
    assert cfg.routes[-1]["service"]["id"] == next(iter(cfg.services))


def test_credentials_nested_and_top_level() -> None:
    doc = base(
        keyauth_credentials=[{"consumer": "bob", "key": "bob-key"}],
        jwt_secrets=[{"consumer": "bob", "key": "bob-iss", "secret": "s"}],
        acls=[{"consumer": "bob", "group": "gold"}],
    )
    doc["consumers"][0]["keyauth_credentials"] = [{"key": "alice-key"}]
    cfg = load(doc, installed())
    alice = cfg.load_consumer("alice")
    bob = cfg.load_consumer("bob")
    assert alice and bob
    assert cfg.keyauth_by_key["alice-key"]["consumer"]["id"] == alice["id"]
    assert cfg.keyauth_by_key["bob-key"]["consumer"]["id"] == bob["id"]
    assert cfg.jwt_by_key["bob-iss"]["algorithm"] == "HS256"
    assert cfg.acl_groups(bob["id"]) == ["gold"]


def test_plugin_precedence_picks_the_most_specific_config() -> None:
    def probe(tag: str, **scope: str) -> dict[str, Any]:
        return {"name": "probe", "config": {"plain": tag}, **scope}

    doc = base(
        plugins=[
            probe("global"),
            probe("service", service="svc"),
            probe("route", route="r1"),
            probe("consumer", consumer="alice"),
            probe("route+service", route="r1", service="svc"),
            probe("consumer+service", consumer="alice", service="svc"),
            probe("consumer+route", consumer="alice", route="r1"),
            probe("consumer+route+service", consumer="alice", route="r1", service="svc"),
        ]
    )
    cfg = load(doc, installed())
    svc = next(iter(cfg.services))
    r1, r2 = cfg.routes[0]["id"], cfg.routes[1]["id"]
    alice, bob = cfg.load_consumer("alice")["id"], cfg.load_consumer("bob")["id"]  # type: ignore[index]

    def pick(route: str | None, service: str | None, consumer: str | None) -> str:
        pc = cfg.resolve("probe", route, service, consumer)
        assert pc is not None
        return str(pc.config["plain"])

    assert pick(r1, svc, alice) == "consumer+route+service"
    assert pick(r1, svc, bob) == "route+service"
    assert pick(r2, svc, alice) == "consumer+service"
    assert pick(r2, svc, bob) == "service"
    assert pick(None, None, alice) == "consumer"
    assert pick(None, None, None) == "global"
    cfg.plugins = [p for p in cfg.plugins if p.config["plain"] not in ("consumer+route+service",)]
    assert pick(r1, svc, alice) == "consumer+route"
    cfg.plugins = [p for p in cfg.plugins if p.config["plain"] not in ("consumer+route", "route+service")]
    assert pick(r1, svc, alice) == "consumer+service"
    cfg.plugins = [p for p in cfg.plugins if p.config["plain"] != "consumer+service"]
    assert pick(r1, svc, bob) == "route"


def test_plugin_config_defaults_and_vault_reference() -> None:
    doc = base(plugins=[{"name": "probe", "config": {"secret": "{vault://env/my-secret}"}}])
    cfg = load(doc, installed(), env={"MY_SECRET": "s3cr3t"})
    assert cfg.plugins[0].config == {"mode": "strict", "secret": "s3cr3t", "plain": None}


def test_unresolved_vault_reference_leaves_the_field_unset_with_a_warning() -> None:
    doc = base(plugins=[{"name": "probe", "config": {"secret": "{vault://env/absent}"}}])
    cfg = load(doc, installed(), env={})
    assert cfg.plugins[0].config["secret"] is None
    assert any("ABSENT" in w for w in cfg.warnings)


def test_bundled_plugin_defaults() -> None:
    cfg = load(base(plugins=[{"name": "key-auth", "service": "svc"}]), installed())
    assert cfg.plugins[0].config == {
        "key_names": ["apikey"],
        "hide_credentials": False,
        "anonymous": None,
        "key_in_header": True,
        "key_in_query": True,
        "key_in_body": False,
        "run_on_preflight": True,
        "realm": None,
    }


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (base(consumer_groups=[{"name": "gold"}]), "Kong Enterprise entity"),
        (base(plugins=[{"name": "probe", "consumer_group": "gold"}]), "Kong Enterprise entity"),
        (base(surprise=1), "surprise: unknown field"),
        (base(plugins=[{"name": "no-such-plugin"}]), "plugin 'no-such-plugin' not enabled"),
        (base(plugins=[{"name": "probe", "config": {"mode": "wild"}}]), "mode: expected one of: strict, lenient"),
        (base(plugins=[{"name": "probe", "config": {"nope": 1}}]), "nope: unknown field"),
        (base(plugins=[{"name": "probe", "config": {"plain": "{vault://env/x}"}}]), "plain: not referenceable"),
        (base(plugins=[{"name": "acl", "config": {}}]), "at least one of these fields must be non-empty"),
        (base(plugins=[{"name": "acl", "config": {"allow": ["a"], "deny": ["b"]}}]), "exactly one of these fields"),
        (base(plugins=[{"name": "key-auth", "consumer": "alice"}]), "cannot be applied to a consumer"),
        (base(plugins=[{"name": "probe"}, {"name": "probe"}]), "configured twice"),
        (base(plugins=[{"name": "jwt", "config": {"maximum_expiration": 60}}]), "must contain 'exp'"),
        (base(keyauth_credentials=[{"consumer": "nobody", "key": "k"}]), "unknown consumer 'nobody'"),
        (
            base(keyauth_credentials=[{"consumer": "bob", "key": "k"}, {"consumer": "alice", "key": "k"}]),
            "key set to 'k'",
        ),
        (base(jwt_secrets=[{"consumer": "bob", "key": "i", "algorithm": "RS256"}]), "rsa_public_key: required"),
        (base(routes=[{"name": "r1", "paths": ["/x"], "service": "svc"}]), "name set to 'r1' already declared"),
        (base(routes=[{"name": "bad", "paths": ["~/(["], "service": "svc"}]), "invalid regex"),
        (base(routes=[{"name": "rel", "paths": ["x"], "service": "svc"}]), "should start with"),
        (base(routes=[{"name": "none", "service": "svc"}]), "must set one of"),
        ({"services": []}, "_format_version: required field missing"),
        ({"_format_version": "4.0"}, "_format_version: expected one of"),
        (base(upstreams=[{"name": "u"}]), "not emulated by the harness"),
    ],
)
def test_rejections_have_clear_messages(doc: dict[str, Any], expected: str) -> None:
    assert expected in errors_of(doc)


def test_consumer_groups_on_a_consumer_is_rejected() -> None:
    doc = base()
    doc["consumers"][0]["groups"] = [{"name": "gold"}]
    assert "Kong Enterprise entity" in errors_of(doc)


def test_unemulated_bundled_plugin_is_accepted_inert_with_a_warning() -> None:
    cfg = load(base(plugins=[{"name": "prometheus", "config": {"per_consumer": False}}]), installed())
    assert cfg.plugins[0].name == "prometheus"
    assert any("not emulated" in w for w in cfg.warnings)


@pytest.fixture(scope="module")
def dumped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, InstalledPlugin]:
    """Installed plugins from the real `-dump` output of our three plugin servers."""
    prefix = tmp_path_factory.mktemp("dump")
    out = installed_bundled(list(BUNDLED))
    for script in PLUGIN_SCRIPTS:
        info = PluginServer.for_script(script, prefix).query()
        out[info.name] = installed_external(info.name, info.priority, info.phases, info.config_fields)
    return out


def test_kong_local_yaml_loads_with_the_dumped_schemas(dumped: dict[str, InstalledPlugin]) -> None:
    cfg = load_file(ROOT / "kong-local.yaml", dumped, env={"GEMINI_API_KEY": "k"})
    names = {r["name"] for r in cfg.routes}
    assert {"chat", "openai-chat-completions", "anthropic-messages", "models", "bedrock-native"} <= names
    assert cfg.keyauth_by_key["dev-key-123"]["consumer"]["id"] == cfg.load_consumer("dev-user-1")["id"]  # type: ignore[index]
    roles = {c["username"]: [t for t in c.get("tags", []) if t.startswith("role:")] for c in cfg.consumers.values()}
    assert roles["partner-user"] == [] and roles["admin-user"] == ["role:admin"]
    (svc,) = cfg.services.values()
    assert svc["host"] == "bedrock-runtime.us-east-1.amazonaws.com" and svc["read_timeout"] >= 120000
    key_auth = next(p for p in cfg.plugins if p.name == "key-auth")
    assert key_auth.config["hide_credentials"] is True
    assert next(p for p in cfg.plugins if p.name == "bedrock-proxy").config["gemini_api_key"] == "k"
    assert [w for w in cfg.warnings if "is not emulated by the harness" not in w] == []  # e.g. prometheus


def test_kong_local_yaml_has_no_enterprise_or_unknown_keys() -> None:
    doc = yaml.safe_load((ROOT / "kong-local.yaml").read_text())
    assert doc["_format_version"] == "3.0" and "consumer_groups" not in doc
