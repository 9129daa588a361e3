"""Loader for Kong's DB-less declarative config (`_format_version: "3.0"`), as Kong OSS 3.9.3
checks it: the entities our configs use, nested or top-level, Kong's defaults, the same
refusals (consumer_groups, unknown keys, duplicates, plugins not installed, config schema
violations) and `{vault://env/NAME}` references in referenceable fields.

Entity ids are uuid5 of the entity's name, so they stay stable across loads.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import yaml

from kong_plugins.testing.kong.bundled.jwt import ALGORITHMS as JWT_ALGORITHMS
from kong_plugins.testing.kong.router import compile_path_regex
from kong_plugins.testing.kong.schema_validation import SchemaError, format_errors, validate

FORMAT_VERSIONS = ("1.1", "2.1", "3.0")
_NS = uuid.UUID("6f1b2a3c-5d4e-4f60-8a7b-9c0d1e2f3a4b")

ENTERPRISE_ONLY = (
    "consumer_groups is a Kong Enterprise entity; Kong OSS 3.9.3 rejects it. Use consumer tags "
    "(role:<name>), acls with the acl plugin, or consumer-scoped plugins instead"
)
# Kong OSS entities the harness does not emulate: accepted by Kong, refused here with that reason.
NOT_EMULATED = (
    "upstreams",
    "targets",
    "certificates",
    "ca_certificates",
    "snis",
    "vaults",
    "basicauth_credentials",
    "hmacauth_credentials",
    "oauth2_credentials",
    "key_sets",
    "keys",
    "filter_chains",
)
# kong/constants.lua at 3.9.3: the bundled plugins a default `plugins = bundled` installs.
KONG_BUNDLED_PLUGINS = (
    "jwt acl correlation-id cors oauth2 tcp-log udp-log file-log http-log key-auth hmac-auth basic-auth "
    "ip-restriction request-transformer response-transformer request-size-limiting rate-limiting "
    "response-ratelimiting syslog loggly datadog ldap-auth statsd bot-detection aws-lambda request-termination "
    "prometheus proxy-cache session acme grpc-gateway grpc-web pre-function post-function azure-functions zipkin "
    "opentelemetry ai-proxy ai-prompt-decorator ai-prompt-template ai-prompt-guard ai-request-transformer "
    "ai-response-transformer standard-webhooks redirect"
).split()

TOP_LEVEL = {"_format_version", "_transform", "_comment", "services", "routes", "consumers", "plugins"}
TOP_LEVEL |= {"keyauth_credentials", "jwt_secrets", "acls"}

SERVICE_FIELDS = {
    "id",
    "name",
    "url",
    "protocol",
    "host",
    "port",
    "path",
    "retries",
    "connect_timeout",
    "write_timeout",
    "read_timeout",
    "tags",
    "enabled",
    "tls_verify",
    "tls_verify_depth",
    "client_certificate",
    "ca_certificates",
    "routes",
    "plugins",
}
ROUTE_FIELDS = {
    "id",
    "name",
    "protocols",
    "methods",
    "hosts",
    "paths",
    "headers",
    "https_redirect_status_code",
    "regex_priority",
    "strip_path",
    "path_handling",
    "preserve_host",
    "request_buffering",
    "response_buffering",
    "snis",
    "sources",
    "destinations",
    "tags",
    "service",
    "plugins",
}
CONSUMER_FIELDS = {"id", "username", "custom_id", "tags", "plugins", "keyauth_credentials", "jwt_secrets", "acls"}
PLUGIN_FIELDS = {
    "id",
    "name",
    "config",
    "enabled",
    "protocols",
    "route",
    "service",
    "consumer",
    "instance_name",
    "tags",
}
KEYAUTH_FIELDS = {"id", "consumer", "key", "tags", "ttl"}
JWT_FIELDS = {"id", "consumer", "key", "secret", "rsa_public_key", "algorithm", "tags"}
ACL_FIELDS = {"id", "consumer", "group", "tags"}
HTTP_METHOD_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class ConfigError(ValueError):
    """Kong would refuse to load this declarative config."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("declarative config is invalid:\n  - " + "\n  - ".join(errors))


class PluginSpec(Protocol):
    """What the loader needs of an installed plugin (bundled class or external plugin info)."""

    @property
    def priority(self) -> int: ...


@dataclass(frozen=True)
class InstalledPlugin:
    name: str
    priority: int
    phases: frozenset[str]
    schema: list[dict[str, Any]]  # config fields, Kong DSL
    no_consumer: bool = False
    external: bool = False
    entity_check: Any = None  # callable(config) -> str | None
    emulated: bool = True


@dataclass
class PluginConfig:
    id: str
    name: str
    config: dict[str, Any]
    service_id: str | None = None
    route_id: str | None = None
    consumer_id: str | None = None
    enabled: bool = True
    protocols: list[str] = field(default_factory=lambda: ["grpc", "grpcs", "http", "https"])
    instance_name: str | None = None
    tags: list[str] | None = None

    @property
    def scope(self) -> tuple[bool, bool, bool]:
        return (self.consumer_id is not None, self.route_id is not None, self.service_id is not None)


# Kong's plugin precedence: (consumer, route, service) presence, most specific first.
PRECEDENCE: tuple[tuple[bool, bool, bool], ...] = (
    (True, True, True),
    (True, True, False),
    (True, False, True),
    (False, True, True),
    (True, False, False),
    (False, True, False),
    (False, False, True),
    (False, False, False),
)


@dataclass
class Config:
    services: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> Kong entity
    routes: list[dict[str, Any]] = field(default_factory=list)
    consumers: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> entity
    keyauth_by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    jwt_by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    acls: list[dict[str, Any]] = field(default_factory=list)
    plugins: list[PluginConfig] = field(default_factory=list)
    installed: dict[str, InstalledPlugin] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def consumer_entity(self, consumer_id: str) -> dict[str, Any] | None:
        return self.consumers.get(consumer_id)

    def load_consumer(self, id_or_username: str) -> dict[str, Any] | None:
        """kong.client.load_consumer(x, true): by id, then by username."""
        if id_or_username in self.consumers:
            return self.consumers[id_or_username]
        for c in self.consumers.values():
            if c.get("username") == id_or_username:
                return c
        return None

    def acl_groups(self, consumer_id: str) -> list[str]:
        return [a["group"] for a in self.acls if a["consumer"]["id"] == consumer_id]

    def plugin_names_for(self, route_id: str | None, service_id: str | None) -> list[str]:
        """Names of plugins that may apply to a request on this route (consumer not known yet)."""
        names = set()
        for p in self.plugins:
            if not p.enabled:
                continue
            if p.route_id not in (None, route_id) or p.service_id not in (None, service_id):
                continue
            names.add(p.name)
        return sorted(names, key=lambda n: -self.installed[n].priority)

    def resolve(
        self, name: str, route_id: str | None, service_id: str | None, consumer_id: str | None
    ) -> PluginConfig | None:
        """The one config Kong picks for plugin `name` on this request."""
        by_scope: dict[tuple[bool, bool, bool], PluginConfig] = {}
        for p in self.plugins:
            if p.name != name or not p.enabled or "http" not in p.protocols:
                continue
            if p.route_id is not None and p.route_id != route_id:
                continue
            if p.service_id is not None and p.service_id != service_id:
                continue
            if p.consumer_id is not None and p.consumer_id != consumer_id:
                continue
            by_scope[p.scope] = p
        for scope in PRECEDENCE:
            if scope in by_scope:
                return by_scope[scope]
        return None


def load_file(
    path: str | Path,
    installed: Mapping[str, InstalledPlugin],
    env: Mapping[str, str] | None = None,
) -> Config:
    text = Path(path).read_text()
    try:
        data = yaml.safe_load(text) if not str(path).endswith(".json") else json.loads(text)
    except (yaml.YAMLError, ValueError) as exc:
        raise ConfigError([f"{path}: not valid YAML/JSON: {exc}"]) from exc
    return load(data, installed, env)


def load(data: Any, installed: Mapping[str, InstalledPlugin], env: Mapping[str, str] | None = None) -> Config:
    return _Loader(installed, env or {}).run(data)


def entity_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(_NS, f"{kind}:{name}"))


class _Loader:
    def __init__(self, installed: Mapping[str, InstalledPlugin], env: Mapping[str, str]) -> None:
        self.installed = dict(installed)
        self.env = env
        self.errors: list[str] = []
        self.cfg = Config(installed=self.installed)
        self._raw_plugins: list[tuple[str, dict[str, Any], dict[str, str | None]]] = []
        self._route_names: dict[str, str] = {}
        self._service_names: dict[str, str] = {}
        self._consumer_names: dict[str, str] = {}
        self._pending: list[tuple[str, str, dict[str, Any], str | None]] = []  # kind, where, raw, consumer ref

    # -- entry ---------------------------------------------------------------------------
    def run(self, data: Any) -> Config:
        if not isinstance(data, Mapping):
            raise ConfigError(["the declarative config must be a mapping"])
        fv = data.get("_format_version")
        if fv is None:
            self.err("_format_version: required field missing")
        elif str(fv) not in FORMAT_VERSIONS:
            self.err(f"_format_version: expected one of: {', '.join(FORMAT_VERSIONS)} (got {fv!r})")
        for key in data:
            if key == "consumer_groups":
                self.err(f"consumer_groups: {ENTERPRISE_ONLY}")
            elif key in NOT_EMULATED:
                self.err(f"{key}: valid in Kong OSS but not emulated by the harness; remove it for local runs")
            elif key not in TOP_LEVEL:
                self.err(f"{key}: unknown field")
        for i, svc in enumerate(self.items(data, "services")):
            self.service(svc, f"services[{i}]")
        for i, route in enumerate(self.items(data, "routes")):
            self.route(route, f"routes[{i}]", None)
        for i, consumer in enumerate(self.items(data, "consumers")):
            self.consumer(consumer, f"consumers[{i}]")
        for kind in ("keyauth_credentials", "jwt_secrets", "acls"):
            for i, raw in enumerate(self.items(data, kind)):
                self._pending.append((kind, f"{kind}[{i}]", raw, None))
        for i, raw in enumerate(self.items(data, "plugins")):
            self._raw_plugins.append((f"plugins[{i}]", raw, {}))
        for kind, where, raw, consumer_id in self._pending:
            self.credential(kind, raw, where, consumer_id)
        for where, raw, scope in self._raw_plugins:
            self.plugin(raw, where, scope)
        if self.errors:
            raise ConfigError(self.errors)
        return self.cfg

    def err(self, message: str) -> None:
        self.errors.append(message)

    def items(self, parent: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            self.err(f"{key}: expected an array of records")
            return []
        return [dict(v) for v in value]

    def unknown(self, raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in raw:
            if key == "consumer_groups" or (key in ("consumer_group", "groups") and "consumer" in where):
                self.err(f"{where}.{key}: {ENTERPRISE_ONLY}")
            elif key == "consumer_group":
                self.err(f"{where}.{key}: {ENTERPRISE_ONLY}")
            elif key not in allowed:
                self.err(f"{where}.{key}: unknown field")

    def string_list(self, raw: Mapping[str, Any], key: str, where: str) -> list[str] | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.err(f"{where}.{key}: expected an array of strings")
            return None
        return list(value)

    def timeout(self, raw: Mapping[str, Any], key: str, where: str, default: int) -> int:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**31 - 2:
            self.err(f"{where}.{key}: value should be between 1 and 2147483646")
            return default
        return value

    # -- services and routes ---------------------------------------------------------------
    def service(self, raw: dict[str, Any], where: str) -> None:
        self.unknown(raw, SERVICE_FIELDS, where)
        name = raw.get("name")
        if name is not None and not isinstance(name, str):
            self.err(f"{where}.name: expected a string")
            name = None
        sid = str(raw.get("id") or entity_id("service", name or where))
        if name:
            if name in self._service_names:
                self.err(f"{where}: uniqueness violation: 'services' entity with name set to '{name}' already declared")
            self._service_names[name] = sid
        if sid in self.cfg.services:
            self.err(
                f"{where}: uniqueness violation: 'services' entity with primary key set to '{sid}' already declared"
            )
        protocol, host, port, path = raw.get("protocol", "http"), raw.get("host"), raw.get("port"), raw.get("path")
        if "url" in raw:
            if any(k in raw for k in ("protocol", "host", "port", "path")):
                self.err(f"{where}.url: cannot be combined with protocol, host, port or path")
            url = urlsplit(str(raw["url"]))
            protocol, host, path = url.scheme or "http", url.hostname, url.path or None
            try:
                port = url.port
            except ValueError:
                self.err(f"{where}.url: invalid port")
        if protocol not in ("http", "https"):
            self.err(f"{where}.protocol: expected one of: http, https (the harness proxies HTTP only)")
        if not host:
            self.err(f"{where}.host: required field missing")
        port = port or (443 if protocol == "https" else 80)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            self.err(f"{where}.port: value should be between 0 and 65535")
        if path is not None and (not isinstance(path, str) or not path.startswith("/")):
            self.err(f"{where}.path: should start with: /")
        retries = raw.get("retries", 5)
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 32767:
            self.err(f"{where}.retries: value should be between 0 and 32767")
        entity: dict[str, Any] = {
            "id": sid,
            "name": name,
            "protocol": protocol,
            "host": host,
            "port": port,
            "path": path,
            "retries": retries,
            "connect_timeout": self.timeout(raw, "connect_timeout", where, 60000),
            "write_timeout": self.timeout(raw, "write_timeout", where, 60000),
            "read_timeout": self.timeout(raw, "read_timeout", where, 60000),
            "enabled": raw.get("enabled", True),
            "tags": raw.get("tags"),
        }
        self.cfg.services[sid] = {k: v for k, v in entity.items() if v is not None}
        for i, route in enumerate(self.items(raw, "routes")):
            if "service" in route:
                self.err(f"{where}.routes[{i}].service: unknown field (nested routes take the enclosing service)")
                route.pop("service")
            self.route(route, f"{where}.routes[{i}]", sid)
        for i, plugin in enumerate(self.items(raw, "plugins")):
            self._raw_plugins.append((f"{where}.plugins[{i}]", plugin, {"service": sid}))

    def route(self, raw: dict[str, Any], where: str, service_id: str | None) -> None:
        self.unknown(raw, ROUTE_FIELDS, where)
        name = raw.get("name")
        rid = str(raw.get("id") or entity_id("route", name or where))
        if name:
            if name in self._route_names:
                self.err(f"{where}: uniqueness violation: 'routes' entity with name set to '{name}' already declared")
            self._route_names[name] = rid
        if service_id is None and raw.get("service") is not None:
            ref = raw["service"]
            ref = ref.get("id") or ref.get("name") if isinstance(ref, Mapping) else ref
            service_id = self._service_names.get(str(ref)) or (str(ref) if str(ref) in self.cfg.services else None)
            if service_id is None:
                self.err(f"{where}.service: references an unknown service '{ref}'")
        paths = self.string_list(raw, "paths", where)
        methods = self.string_list(raw, "methods", where)
        hosts = self.string_list(raw, "hosts", where)
        for p in paths or []:
            if not (p.startswith("/") or p.startswith("~/")):
                self.err(f"{where}.paths: should start with: / (fixed path) or ~/ (regex path)")
            elif p.startswith("~"):
                try:
                    compile_path_regex(p)
                except re.error as exc:
                    self.err(f"{where}.paths: invalid regex: '{p[1:]}' ({exc})")
        for m in methods or []:
            if not m or not set(m) <= HTTP_METHOD_CHARS:
                self.err(f"{where}.methods: invalid value: {m}")
        if not (paths or methods or hosts or raw.get("headers")):
            self.err(f"{where}: must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'")
        strip_path = raw.get("strip_path", True)
        if not isinstance(strip_path, bool):
            self.err(f"{where}.strip_path: expected a boolean")
        entity: dict[str, Any] = {
            "id": rid,
            "name": name,
            "protocols": raw.get("protocols") or ["http", "https"],
            "paths": paths,
            "methods": methods,
            "hosts": hosts,
            "headers": raw.get("headers"),
            "strip_path": strip_path,
            "preserve_host": raw.get("preserve_host", False),
            "regex_priority": raw.get("regex_priority", 0),
            "path_handling": raw.get("path_handling", "v0"),
            "https_redirect_status_code": raw.get("https_redirect_status_code", 426),
            "request_buffering": raw.get("request_buffering", True),
            "response_buffering": raw.get("response_buffering", True),
            "tags": raw.get("tags"),
            "service": {"id": service_id} if service_id else None,
        }
        if entity["path_handling"] not in ("v0", "v1"):
            self.err(f"{where}.path_handling: expected one of: v0, v1")
        self.cfg.routes.append({k: v for k, v in entity.items() if v is not None})
        for i, plugin in enumerate(self.items(raw, "plugins")):
            scope: dict[str, str | None] = {"route": rid}
            self._raw_plugins.append((f"{where}.plugins[{i}]", plugin, scope))

    # -- consumers and credentials ----------------------------------------------------------
    def consumer(self, raw: dict[str, Any], where: str) -> None:
        self.unknown(raw, CONSUMER_FIELDS, where)
        username, custom_id = raw.get("username"), raw.get("custom_id")
        if username is None and custom_id is None:
            self.err(f"{where}: at least one of these fields must be non-empty: 'custom_id', 'username'")
        cid = str(raw.get("id") or entity_id("consumer", str(username or custom_id or where)))
        for fname, value in (("username", username), ("custom_id", custom_id)):
            if value is None:
                continue
            if not isinstance(value, str):
                self.err(f"{where}.{fname}: expected a string")
            elif any(c.get(fname) == value for c in self.cfg.consumers.values()):
                self.err(
                    f"{where}: uniqueness violation: 'consumers' entity with {fname} set to '{value}' already declared"
                )
        tags = self.string_list(raw, "tags", where)
        for t in tags or []:
            if "," in t or "/" in t:
                self.err(f"{where}.tags: invalid tag '{t}': no ',' or '/' allowed")
        entity = {"id": cid, "username": username, "custom_id": custom_id, "tags": tags, "created_at": 0}
        self.cfg.consumers[cid] = {k: v for k, v in entity.items() if v is not None}
        if username:
            self._consumer_names[username] = cid
        for kind in ("keyauth_credentials", "jwt_secrets", "acls"):
            for i, cred in enumerate(self.items(raw, kind)):
                if "consumer" in cred:
                    self.err(f"{where}.{kind}[{i}].consumer: unknown field (nested under its consumer)")
                self._pending.append((kind, f"{where}.{kind}[{i}]", cred, cid))
        for i, plugin in enumerate(self.items(raw, "plugins")):
            self._raw_plugins.append((f"{where}.plugins[{i}]", plugin, {"consumer": cid}))

    def consumer_ref(self, ref: Any, where: str) -> str | None:
        if isinstance(ref, Mapping):
            ref = ref.get("id") or ref.get("username")
        if ref is None:
            self.err(f"{where}.consumer: required field missing")
            return None
        ref = str(ref)
        cid = self._consumer_names.get(ref) or (ref if ref in self.cfg.consumers else None)
        if cid is None:
            self.err(f"{where}.consumer: references an unknown consumer '{ref}'")
        return cid

    def credential(self, kind: str, raw: dict[str, Any], where: str, consumer_id: str | None) -> None:
        allowed = {"keyauth_credentials": KEYAUTH_FIELDS, "jwt_secrets": JWT_FIELDS, "acls": ACL_FIELDS}[kind]
        self.unknown(raw, allowed, where)
        if consumer_id is None:
            consumer_id = self.consumer_ref(raw.get("consumer"), where)
            if consumer_id is None:
                return
        consumer = {"id": consumer_id}
        if kind == "acls":
            group = raw.get("group")
            if not isinstance(group, str) or not group:
                self.err(f"{where}.group: required field missing")
                return
            if any(a["consumer"]["id"] == consumer_id and a["group"] == group for a in self.cfg.acls):
                self.err(f"{where}: uniqueness violation: 'acls' entity with group '{group}' already declared")
            aid = str(raw.get("id") or entity_id("acl", f"{consumer_id}:{group}"))
            self.cfg.acls.append({"id": aid, "consumer": consumer, "group": group})
            return
        key = raw.get("key")
        if not isinstance(key, str) or not key:
            # Kong would auto-generate one; a local config that nobody can use is a mistake.
            self.err(f"{where}.key: required by the harness (Kong would generate a random one)")
            return
        index = self.cfg.keyauth_by_key if kind == "keyauth_credentials" else self.cfg.jwt_by_key
        if key in index:
            self.err(f"{where}: uniqueness violation: '{kind}' entity with key set to '{key}' already declared")
        cred: dict[str, Any] = {"id": str(raw.get("id") or entity_id(kind, key)), "consumer": consumer, "key": key}
        if raw.get("tags") is not None:
            cred["tags"] = raw["tags"]
        if kind == "jwt_secrets":
            algorithm = raw.get("algorithm", "HS256")
            if algorithm not in JWT_ALGORITHMS:
                self.err(f"{where}.algorithm: expected one of: {', '.join(JWT_ALGORITHMS)}")
            cred["algorithm"] = algorithm
            cred["secret"] = raw.get("secret")
            cred["rsa_public_key"] = raw.get("rsa_public_key")
            if algorithm[:2] in ("RS", "PS", "Ed") and not cred["rsa_public_key"]:
                self.err(f"{where}.rsa_public_key: required field missing (algorithm {algorithm})")
            if algorithm.startswith("HS") and not cred["secret"]:
                self.err(f"{where}.secret: required by the harness (Kong would generate a random one)")
            for fname in ("secret", "rsa_public_key"):
                if isinstance(cred[fname], str) and cred[fname].startswith("{vault://"):
                    self.err(
                        f"{where}.{fname}: not referenceable in Kong 3.9.3; vault references are not resolved here"
                    )
        index[key] = cred

    # -- plugins ----------------------------------------------------------------------------
    def plugin(self, raw: dict[str, Any], where: str, scope: dict[str, str | None]) -> None:
        self.unknown(raw, PLUGIN_FIELDS, where)
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            self.err(f"{where}.name: required field missing")
            return
        spec = self.installed.get(name)
        if spec is None:
            self.err(f"{where}.name: plugin '{name}' not enabled; add it to the 'plugins' configuration property")
            return
        for key in ("service", "route", "consumer"):
            if key in raw and raw[key] is not None and key in scope:
                self.err(f"{where}.{key}: unknown field (the plugin is nested; its {key} is the enclosing one)")
        service_id = scope.get("service") or self.ref(raw.get("service"), self._service_names, self.cfg.services, where)
        route_id = scope.get("route") or self.ref(raw.get("route"), self._route_names, None, where)
        consumer_id = scope.get("consumer")
        if consumer_id is None and raw.get("consumer") is not None:
            consumer_id = self.consumer_ref(raw["consumer"], where)
        if consumer_id is not None and spec.no_consumer:
            self.err(f"{where}.consumer: value must be null (plugin '{name}' cannot be applied to a consumer)")
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            self.err(f"{where}.enabled: expected a boolean")
        config_raw = raw.get("config")
        if config_raw is not None and not isinstance(config_raw, Mapping):
            self.err(f"{where}.config: expected a record")
            return
        if spec.emulated:
            try:
                config = validate(spec.schema, dict(config_raw or {}))
            except SchemaError as exc:
                self.err(f"{where} ({name}).config: schema violation: {format_errors(exc.errors)}")
                return
            if spec.entity_check is not None:
                problem = spec.entity_check(config)
                if problem:
                    self.err(f"{where} ({name}): {problem}")
            config = self.resolve_vaults(spec.schema, config, f"{where}.config")
        else:
            config = dict(config_raw or {})
            self.cfg.warnings.append(
                f"{where}: bundled plugin '{name}' is not emulated by the harness; it does nothing"
            )
        pid = str(raw.get("id") or entity_id("plugin", f"{name}:{service_id}:{route_id}:{consumer_id}"))
        if any(p.id == pid for p in self.cfg.plugins):
            self.err(
                f"{where}: uniqueness violation: plugin '{name}' already configured for this "
                "service/route/consumer combination"
            )
        combo = (name, service_id, route_id, consumer_id)
        if any((p.name, p.service_id, p.route_id, p.consumer_id) == combo for p in self.cfg.plugins):
            self.err(f"{where}: plugin '{name}' configured twice for the same service/route/consumer")
        self.cfg.plugins.append(
            PluginConfig(
                id=pid,
                name=name,
                config=config,
                service_id=service_id,
                route_id=route_id,
                consumer_id=consumer_id,
                enabled=enabled is not False,
                protocols=list(raw.get("protocols") or ["grpc", "grpcs", "http", "https"]),
                instance_name=raw.get("instance_name"),
                tags=raw.get("tags"),
            )
        )

    def ref(self, value: Any, names: dict[str, str], ids: Mapping[str, Any] | None, where: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, Mapping):
            value = value.get("id") or value.get("name")
        value = str(value)
        if value in names:
            return names[value]
        if value in names.values() or (ids is not None and value in ids):
            return value
        self.err(f"{where}: references an unknown entity '{value}'")
        return None

    # -- vault references -------------------------------------------------------------------
    def resolve_vaults(self, schema: list[dict[str, Any]], config: dict[str, Any], where: str) -> dict[str, Any]:
        out = dict(config)
        for entry in schema:
            ((fname, fdef),) = entry.items()
            value = out.get(fname)
            if fdef.get("type") == "record" and isinstance(value, dict):
                out[fname] = self.resolve_vaults(fdef.get("fields") or [], value, f"{where}.{fname}")
            elif isinstance(value, str) and value.startswith("{vault://"):
                if not fdef.get("referenceable"):
                    self.err(f"{where}.{fname}: not referenceable; Kong keeps the vault reference as a literal string")
                    continue
                out[fname] = self.vault(value, f"{where}.{fname}")
            elif isinstance(value, list) and fdef.get("referenceable") is None:
                elements = fdef.get("elements") or {}
                if elements.get("referenceable"):
                    out[fname] = [
                        self.vault(v, where) if isinstance(v, str) and v.startswith("{vault://") else v for v in value
                    ]
        return out

    def vault(self, reference: str, where: str) -> str | None:
        if not reference.endswith("}") or not reference.startswith("{vault://env/"):
            self.err(f"{where}: only the env vault ({{vault://env/NAME}}) is available in the harness")
            return None
        resource = reference[len("{vault://env/") : -1]
        name, _, key = resource.partition("/")
        env_name = name.upper().replace("-", "_")
        value = self.env.get(env_name)
        if value is None:
            # Kong logs the failed lookup and leaves the field unset.
            self.cfg.warnings.append(f"{where}: vault reference to env {env_name} could not be resolved")
            return None
        if key:
            try:
                doc = json.loads(value)
                return str(doc[key])
            except (ValueError, KeyError, TypeError):
                self.cfg.warnings.append(f"{where}: env {env_name} has no JSON key '{key}'")
                return None
        return value


def installed_bundled(classes: list[Any]) -> dict[str, InstalledPlugin]:
    """InstalledPlugin entries for bundled plugin classes, plus inert ones for the rest of Kong's list."""
    out = {
        c.name: InstalledPlugin(
            name=c.name,
            priority=c.priority,
            phases=frozenset(c.phases),
            schema=c.schema,
            no_consumer=c.no_consumer,
            entity_check=c.entity_check,
        )
        for c in classes
    }
    for name in KONG_BUNDLED_PLUGINS:
        if name not in out:
            out[name] = InstalledPlugin(name=name, priority=0, phases=frozenset(), schema=[], emulated=False)
    return out


def installed_external(name: str, priority: int, phases: frozenset[str], config_fields: list[Any]) -> InstalledPlugin:
    return InstalledPlugin(name=name, priority=priority, phases=phases, schema=config_fields, external=True)
