"""Kong schema fields that every plugin shares (Kong's schema DSL, as a Python list)."""

from __future__ import annotations

from typing import Any

STRING_MAP: dict[str, Any] = {"type": "map", "keys": {"type": "string"}, "values": {"type": "string"}}

IDENTITY_FIELDS: list[dict[str, Any]] = [
    # false: no jwt plugin in front, so there is no token to read (saves a PDK call; 0093)
    {"read_jwt": {"type": "boolean", "default": True}},
    {"jwt_role_claim": {"type": "string", "default": "groups"}},
    {"jwt_subject_claim": {"type": "string", "default": "sub"}},
    {"jwt_role_map": {**STRING_MAP, "default": {}}},
    {"consumer_tag_prefix": {"type": "string", "default": "role:"}},
    {"trust_acl_header": {"type": "boolean", "default": False}},
    {"acl_group_map": {**STRING_MAP, "default": {}}},
    {"enterprise_consumer_groups": {"type": "boolean", "default": False}},
]
