"""Config schema of ecommerce-guardrails, in Kong's schema DSL.

Defaults per role are documented in docs/decisions/0062-role-defaults.md.
"""

from __future__ import annotations

from typing import Any

from kong_plugins.core.schema import IDENTITY_FIELDS
from kong_plugins.ecommerce_guardrails.detectors import CATEGORIES
from kong_plugins.ecommerce_guardrails.policy import (
    ACTIONS,
    BLOCK_STATUSES,
    DEFAULT_MAX_BODY,
    DEFAULT_READONLY_SQL_ROLES,
    DEFAULT_ROLE_ACTIONS,
)

ACTION: dict[str, Any] = {"type": "string", "one_of": list(ACTIONS)}
STRINGS: dict[str, Any] = {"type": "array", "elements": {"type": "string"}}


def _role(actions: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "record",
        "required": True,
        "fields": [{c: {**ACTION, "required": True, "default": a}} for c, a in zip(CATEGORIES, actions, strict=True)],
    }


SCHEMA: list[dict[str, Any]] = [
    *IDENTITY_FIELDS,
    # Bodies up to this size are scanned whole; larger ones get 413 (never scanned in part).
    {"max_body_bytes": {"type": "integer", "default": DEFAULT_MAX_BODY, "between": [1024, 16 * 1024 * 1024]}},
    {"block_status": {"type": "integer", "default": 400, "one_of": list(BLOCK_STATUSES)}},
    {
        "roles": {
            "type": "record",
            "required": True,
            "fields": [{role: _role(actions)} for role, actions in DEFAULT_ROLE_ACTIONS.items()],
        }
    },
    # Per-rule overrides: {"pii.card.expiry": "shadow", "ecommerce_ops:pii.card.number": "allow"}
    {"rule_actions": {"type": "map", "keys": {"type": "string"}, "values": ACTION, "default": {}}},
    {"readonly_sql_roles": {**STRINGS, "default": list(DEFAULT_READONLY_SQL_ROLES)}},
    {"allow_phrases": {**STRINGS, "default": []}},
    {"allow_patterns": {**STRINGS, "default": []}},
    {"allow_test_cards": {"type": "boolean", "default": True}},
    {"card_mask": {"type": "string", "default": "bin_last4", "one_of": ["bin_last4", "last4"]}},
]
