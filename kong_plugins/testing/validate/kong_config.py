"""Declarative Kong files through the harness's Kong-faithful loader.

The installed plugins are what Kong 3.9.3 would have with our image: the bundled plugins
(emulated ones from the harness, plus Kong's own schemas for file-log, prometheus and
datadog) and our three plugin servers, whose info comes from running their query command
(`<name> -dump`) and is checked the way Kong checks it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from kong_plugins.testing.kong.declarative import (
    ConfigError,
    InstalledPlugin,
    installed_bundled,
    installed_external,
    load,
)
from kong_plugins.testing.validate.bundled_schemas import BUNDLED
from kong_plugins.testing.validate.render import RenderError, placeholders, render
from kong_plugins.testing.validate.result import Problems

PLUGIN_SERVERS = ("bedrock-proxy", "token-meter", "ecommerce-guardrails")
KONG_PHASES = frozenset({"certificate", "rewrite", "access", "response", "preread", "log"})
VERSION = re.compile(r"^\d+\.\d+\.\d+$")
YAML_ALIAS = re.compile(r"(^|[\s\[,:-])[&*][A-Za-z0-9_-]+\s*$|<<\s*:|:\s+[&*][A-Za-z0-9_-]+(\s|$)")


class DumpError(ValueError):
    pass


def plugin_info(name: str) -> dict[str, Any]:
    """Run the plugin server's query command and check its answer as Kong 3.9.3 does."""
    exe = Path(sys.executable).parent / name
    proc = subprocess.run([str(exe), "-dump"], capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise DumpError(f"{name} -dump exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    try:
        doc = json.loads(proc.stdout)
    except ValueError as exc:
        raise DumpError(f"{name} -dump: failed decoding plugin info (stdout must be only JSON): {exc}") from exc
    infos = doc.get("Plugins") if isinstance(doc, dict) else doc
    if not isinstance(infos, list) or not infos:
        raise DumpError(f"{name} -dump: no plugin info")
    info = infos[0]  # Kong >= 3.9 uses the first element only
    if info.get("Name") != name:
        raise DumpError(f"{name} -dump: Name is {info.get('Name')!r}")
    if not isinstance(info.get("Priority"), int) or isinstance(info.get("Priority"), bool):
        raise DumpError(f"{name} -dump: PRIORITY field must be an integer")
    if not isinstance(info.get("Version"), str) or not VERSION.match(info["Version"]):
        raise DumpError(f"{name} -dump: VERSION field does not follow the x.y.z format")
    unknown = set(info.get("Phases") or []) - KONG_PHASES
    if unknown:
        raise DumpError(f"{name} -dump: unknown phases {sorted(unknown)}")
    return dict(info)


def _config_fields(info: dict[str, Any]) -> list[Any]:
    for entry in info["Schema"]["fields"]:
        if "config" in entry:
            return list(entry["config"].get("fields") or [])
    raise DumpError(f"{info['Name']} -dump: schema has no config record")


@cache
def installed_plugins() -> dict[str, InstalledPlugin]:
    from kong_plugins.testing.kong.bundled import BUNDLED as HARNESS_BUNDLED

    installed = installed_bundled(list(HARNESS_BUNDLED))
    for name, (priority, schema) in BUNDLED.items():
        if not installed[name].emulated:  # the harness's own emulation wins where it exists
            installed[name] = InstalledPlugin(name=name, priority=priority, phases=frozenset({"log"}), schema=schema)
    for name in PLUGIN_SERVERS:
        info = plugin_info(name)
        installed[name] = installed_external(
            name, int(info["Priority"]), frozenset(info.get("Phases") or []), _config_fields(info)
        )
    return installed


@cache
def sample_env() -> dict[str, str]:
    """Values for the DECK_* placeholders of kong-prod.yaml: a real RSA public key, so the file
    is checked exactly as Kong would receive it after rendering."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {
        "DECK_IDP_ISSUER": "https://idp.example.com/oauth2/default",
        "DECK_IDP_RSA_PUBLIC_KEY": pem.decode(),
        "DECK_REDIS_HOST": "master.llm-gateway-prod-limiter.abc123.use1.cache.amazonaws.com",
    }


def check_file(path: Path, env: dict[str, str] | None = None) -> tuple[Problems, list[str]]:
    """(problems, notes) for one declarative file."""
    try:
        text = path.read_text()
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        return [f"{path}: not valid YAML: {exc}"], []
    if not isinstance(data, dict):
        return [f"{path}: not a declarative config (expected a mapping)"], []
    anchors = [n for n, line in enumerate(text.splitlines(), 1) if YAML_ALIAS.search(line.split(" #")[0])]
    if anchors:
        return [
            f"{path}:{n}: YAML anchor, alias or merge key (Kong's lyaml loader may not resolve them)" for n in anchors
        ], []
    if data.get("_format_version") != "3.0":
        return [f'{path}: _format_version must be "3.0", got {data.get("_format_version")!r}'], []
    if placeholders(data):
        try:
            data = render(data, env if env is not None else sample_env())
        except RenderError as exc:
            return [f"{path}: {exc}"], []
    try:
        installed = installed_plugins()
    except DumpError as exc:
        return [str(exc)], []
    try:
        config = load(data, installed, {})
    except ConfigError as exc:
        return [f"{path}: {e}" for e in exc.errors], []
    notes = [f"{path}: {w}" for w in config.warnings if "not emulated" not in w]
    return [], notes
