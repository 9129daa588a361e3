"""docker-compose.yml against the Compose specification's JSON schema (the copy that the
check-jsonschema package ships), plus what the schema cannot see: references between
services and bind-mount sources that must exist in the repository. The GitHub workflows are
checked the same way against the package's workflow schema."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from kong_plugins.testing.validate.result import Problems


@cache
def builtin_schema(name: str) -> dict[str, Any]:
    """A schema vendored by check-jsonschema (compose-spec, github-workflows, ...)."""
    text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath(f"{name}.json").read_text()
    return dict(json.loads(text))


def schema_problems(path: Path, data: Any, schema_name: str) -> Problems:
    schema = builtin_schema(schema_name)
    validator = jsonschema.validators.validator_for(schema)(schema)
    problems = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        # For anyOf/oneOf failures, name the most specific reason (e.g. a missing property).
        best = jsonschema.exceptions.best_match(err.context) if err.context else None
        where = "/".join(str(p) for p in err.absolute_path) or "<root>"
        problems.append(f"{path}: {where}: {err.message if best is None else best.message}")
    return problems


def check_workflow(path: Path) -> Problems:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        return [f"{path}: not valid YAML: {exc}"]
    if isinstance(data, dict) and True in data:  # YAML 1.1 reads the key `on` as true
        data["on"] = data.pop(True)
    return schema_problems(path, data, "github-workflows")


def check(path: Path) -> Problems:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        return [f"{path}: not valid YAML: {exc}"]
    problems = schema_problems(path, data, "compose-spec")
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
