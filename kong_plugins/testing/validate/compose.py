"""docker-compose.yml against the Compose specification's JSON schema (vendored from
compose-spec/compose-spec), plus what the schema cannot see: references between services
and bind-mount sources that must exist in the repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from kong_plugins.testing.validate.result import Problems

SCHEMA = Path(__file__).resolve().parents[3] / "deploy" / "schemas" / "compose-spec.json"


def check(path: Path) -> Problems:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        return [f"{path}: not valid YAML: {exc}"]
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    problems = [
        f"{path}: {'/'.join(str(p) for p in err.absolute_path) or '<root>'}: {err.message}"
        for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if problems or not isinstance(data, dict):
        return problems
    services: dict[str, Any] = data.get("services") or {}
    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        for dep in deps if isinstance(deps, (list, dict)) else []:
            if dep not in services:
                problems.append(f"{path}: services/{name}/depends_on: unknown service {dep!r}")
        for vol in svc.get("volumes") or []:
            source = vol.split(":", 1)[0] if isinstance(vol, str) else str(vol.get("source", ""))
            if not source.startswith("./"):
                continue
            if not (path.parent / source).exists():
                # Docker would create an empty directory in its place.
                problems.append(f"{path}: services/{name}/volumes: bind source {source} does not exist")
    return problems
