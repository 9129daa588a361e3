"""Render decK-style `${{ env "DECK_NAME" }}` placeholders of a declarative file.

Kong 3.9.3 cannot take a vault reference in `jwt_secrets.key` or `jwt_secrets.rsa_public_key`
(plain strings; the RS256 key is parsed as a PEM when the file loads), so kong-prod.yaml
carries decK's placeholder syntax there. decK substitutes text, which breaks on a multi-line
PEM; this renderer substitutes whole YAML string values instead, so a PEM stays intact.

    python -m kong_plugins.testing.validate.render kong-prod.yaml build/kong-prod.rendered.yaml
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

PLACEHOLDER = re.compile(r'^\$\{\{\s*env\s+"(DECK_[A-Z0-9_]+)"\s*\}\}$')


class RenderError(ValueError):
    pass


def placeholders(data: Any) -> set[str]:
    """Names of every DECK_* variable the document refers to."""
    if isinstance(data, Mapping):
        return set().union(*(placeholders(v) for v in data.values())) if data else set()
    if isinstance(data, list):
        return set().union(*(placeholders(v) for v in data)) if data else set()
    if isinstance(data, str):
        m = PLACEHOLDER.match(data.strip())
        return {m.group(1)} if m else set()
    return set()


def render(data: Any, env: Mapping[str, str]) -> Any:
    """A copy of `data` with each placeholder replaced; RenderError names any unset variable."""
    missing = sorted(n for n in placeholders(data) if not env.get(n))
    if missing:
        raise RenderError(f"unset environment variables: {', '.join(missing)}")
    return _render(data, env)


def _render(data: Any, env: Mapping[str, str]) -> Any:
    if isinstance(data, Mapping):
        return {k: _render(v, env) for k, v in data.items()}
    if isinstance(data, list):
        return [_render(v, env) for v in data]
    if isinstance(data, str):
        m = PLACEHOLDER.match(data.strip())
        return env[m.group(1)] if m else data
    return data


def render_file(src: Path, dst: Path, env: Mapping[str, str]) -> None:
    data = yaml.safe_load(src.read_text())
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(yaml.safe_dump(render(data, env), sort_keys=False, width=1000))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m kong_plugins.testing.validate.render SRC DST", file=sys.stderr)
        return 2
    try:
        render_file(Path(args[0]), Path(args[1]), os.environ)
    except RenderError as exc:
        print(f"render: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
