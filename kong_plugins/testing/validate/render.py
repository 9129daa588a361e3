"""Render decK-style `${{ env "DECK_NAME" }}` placeholders of a declarative file.

Kong 3.9.3 cannot take a vault reference in `jwt_secrets.key` or `jwt_secrets.rsa_public_key`
(plain strings; the RS256 key is parsed as a PEM when the file loads), so kong-prod.yaml
carries decK's placeholder syntax there. decK substitutes text, which breaks on a multi-line
PEM; this renderer substitutes whole YAML string values instead, so a PEM stays intact.

    python -m kong_plugins.testing.validate.render kong-prod.yaml build/kong-prod.rendered.yaml \
        [--defer DECK_REDIS_HOST]

`--defer NAME` leaves that placeholder in place for a later step (Terraform substitutes
DECK_REDIS_HOST once ElastiCache exists).
"""

from __future__ import annotations

import argparse
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


def render(data: Any, env: Mapping[str, str], defer: frozenset[str] = frozenset()) -> Any:
    """A copy of `data` with each placeholder replaced (those named in `defer` are kept);
    RenderError names any unset variable."""
    missing = sorted(n for n in placeholders(data) - defer if not env.get(n))
    if missing:
        raise RenderError(f"unset environment variables: {', '.join(missing)}")
    return _render(data, env, defer)


def _render(data: Any, env: Mapping[str, str], defer: frozenset[str]) -> Any:
    if isinstance(data, Mapping):
        return {k: _render(v, env, defer) for k, v in data.items()}
    if isinstance(data, list):
        return [_render(v, env, defer) for v in data]
    if isinstance(data, str):
        m = PLACEHOLDER.match(data.strip())
        return env[m.group(1)] if m and m.group(1) not in defer else data
    return data


def render_file(src: Path, dst: Path, env: Mapping[str, str], defer: frozenset[str] = frozenset()) -> None:
    data = yaml.safe_load(src.read_text())
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(yaml.safe_dump(render(data, env, defer), sort_keys=False, width=1000))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kong_plugins.testing.validate.render")
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--defer", action="append", default=[], help="keep this DECK_* placeholder")
    args = parser.parse_args(argv)
    try:
        render_file(args.src, args.dst, os.environ, frozenset(args.defer))
    except RenderError as exc:
        print(f"render: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
