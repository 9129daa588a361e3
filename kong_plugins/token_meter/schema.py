"""Config schema of token-meter, in Kong's schema DSL."""

from __future__ import annotations

from typing import Any

from kong_plugins.core.schema import IDENTITY_FIELDS

SCHEMA: list[dict[str, Any]] = [
    *IDENTITY_FIELDS,
]
