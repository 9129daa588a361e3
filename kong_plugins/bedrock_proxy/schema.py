"""Config schema of bedrock-proxy, in Kong's schema DSL.

Defaults are plain data (no Lua functions) so Kong validates them as they are; the model
tables come from policy.py. See docs/decisions/0041-model-policy-defaults.md.
"""

from __future__ import annotations

from typing import Any

from kong_plugins.bedrock_proxy.policy import DEFAULT_ALIASES, DEFAULT_ROLES
from kong_plugins.core.schema import IDENTITY_FIELDS

STRING_ARRAY: dict[str, Any] = {"type": "array", "elements": {"type": "string"}}

ROLE_RECORD: dict[str, Any] = {
    "type": "record",
    "fields": [
        {"models": {**STRING_ARRAY, "required": True}},
        {"default_model": {"type": "string", "required": True}},
        {"fallbacks": {**STRING_ARRAY, "default": []}},
    ],
}

PRICE_RECORD: dict[str, Any] = {
    "type": "record",
    "fields": [
        {"input": {"type": "number", "required": True, "between": [0, 100000]}},
        {"output": {"type": "number", "required": True, "between": [0, 100000]}},
        {"cache_read": {"type": "number", "between": [0, 100000]}},
        {"cache_write": {"type": "number", "between": [0, 100000]}},
    ],
}

SCHEMA: list[dict[str, Any]] = [
    *IDENTITY_FIELDS,
    {"aws_region": {"type": "string", "default": "us-east-1", "match": "^[a-z0-9-]+$"}},
    {"endpoint_url": {"type": "string"}},
    {
        "roles": {
            "type": "map",
            "keys": {"type": "string"},
            "values": ROLE_RECORD,
            "len_min": 1,
            "default": DEFAULT_ROLES,
        }
    },
    {
        "aliases": {
            "type": "map",
            "keys": {"type": "string"},
            "values": STRING_ARRAY,
            "default": DEFAULT_ALIASES,
        }
    },
    {"max_body_bytes": {"type": "integer", "default": 1048576, "between": [1024, 26214400]}},
    {"fallback_max_attempts": {"type": "integer", "default": 3, "between": [1, 5]}},
    {"fallback_budget_ms": {"type": "integer", "default": 5000, "between": [0, 600000]}},
    {"fallback_attempt_timeout_ms": {"type": "integer", "default": 120000, "between": [1000, 3600000]}},
    {"gemini_api_key": {"type": "string", "referenceable": True}},
    {"gemini_endpoint_url": {"type": "string"}},
    {"prices": {"type": "map", "keys": {"type": "string"}, "values": PRICE_RECORD, "default": {}}},
    {"client_api": {"type": "string", "one_of": ["chat", "openai", "anthropic", "bedrock", "models"]}},
]
