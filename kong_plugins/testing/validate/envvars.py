"""Every environment variable the plugin servers read must be passed through nginx.

nginx clears its workers' environment except for variables named by `env` directives, and
Kong spawns the plugin servers from worker 0; deploy/kong/nginx-env.conf lists them. This
finds the names read in kong_plugins/ (outside testing/) and reports those not listed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from kong_plugins.testing.validate.result import Problems

NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")


def names_read(package: Path) -> dict[str, str]:
    """Environment variable name -> file where it is read."""
    found: dict[str, str] = {}
    for py in sorted(package.rglob("*.py")):
        if "testing" in py.relative_to(package).parts:
            continue
        tree = ast.parse(py.read_text(), filename=str(py))
        for node in ast.walk(tree):
            value: ast.expr | None = None
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and "ENV" in t.id.split("_") for t in node.targets
            ):
                value = node.value
            elif isinstance(node, ast.Call) and node.args and _is_env_read(node.func):
                value = node.args[0]
            elif isinstance(node, ast.Subscript) and _is_environ(node.value):
                value = node.slice
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and NAME.match(value.value):
                found.setdefault(value.value, str(py))
    return found


def _is_environ(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _is_env_read(func: ast.expr) -> bool:
    if isinstance(func, ast.Attribute) and func.attr == "getenv":
        return True
    return isinstance(func, ast.Attribute) and func.attr == "get" and _is_environ(func.value)


def listed(conf: Path) -> set[str]:
    return set(re.findall(r"^\s*env\s+([A-Za-z_][A-Za-z0-9_]*)\s*(?:=[^;]*)?;", conf.read_text(), re.M))


def check(package: Path, conf: Path) -> Problems:
    allowed = listed(conf)
    if not allowed:
        return [f"{conf}: no `env NAME;` directives found"]
    return [
        f"{where}: reads ${name}, which nginx hides from the plugin servers; add `env {name};` to {conf}"
        for name, where in sorted(names_read(package).items())
        if name not in allowed
    ]
