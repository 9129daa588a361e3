"""acl as in Kong 3.9.3 (kong/plugins/acl/handler.lua, priority 950)."""

from __future__ import annotations

from typing import Any

from kong_plugins.testing.kong.bundled.base import (
    HEADER_AUTHENTICATED_GROUPS,
    HEADER_CONSUMER_GROUPS,
    BundledPlugin,
    kong_error,
    set_upstream_header,
)
from kong_plugins.testing.kong.request import KongRequest

DENIED = "You cannot consume this service"


class Acl(BundledPlugin):
    name = "acl"
    priority = 950
    no_consumer = True
    schema = [
        {"allow": {"type": "array", "elements": {"type": "string"}}},
        {"deny": {"type": "array", "elements": {"type": "string"}}},
        {"hide_groups_header": {"type": "boolean", "required": True, "default": False}},
        {"always_use_authenticated_groups": {"type": "boolean", "required": True, "default": False}},
    ]

    @classmethod
    def entity_check(cls, config: dict[str, Any]) -> str | None:
        has_allow, has_deny = config.get("allow") is not None, config.get("deny") is not None
        if has_allow and has_deny:
            return "exactly one of these fields must be non-empty: 'config.allow', 'config.deny'"
        if not has_allow and not has_deny:
            return "at least one of these fields must be non-empty: 'config.allow', 'config.deny'"
        return None

    def run(self, phase: str, req: KongRequest, config: dict[str, Any]) -> None:
        deny = bool(config.get("deny"))
        listed = set(config["deny"] if deny else (config.get("allow") or []))
        consumer_id = (req.consumer or {}).get("id")
        authenticated = req.ctx_shared.get("authenticated_groups")
        auth_groups = [str(g) for g in authenticated] if isinstance(authenticated, list) and authenticated else None

        groups: list[str] | None
        if not consumer_id or (auth_groups and (req.credential is None or config["always_use_authenticated_groups"])):
            if not auth_groups:
                if req.credential is not None:
                    kong_error(req, 403, DENIED)
                else:
                    kong_error(req, 401)
                return
            groups, header = auth_groups, HEADER_AUTHENTICATED_GROUPS
        else:
            groups = self.db.acl_groups(consumer_id) or None
            header = HEADER_CONSUMER_GROUPS
            if groups is None:
                if not deny:
                    kong_error(req, 403 if req.credential is not None else 401, DENIED if req.credential else None)
                    return
                groups = []
        in_group = any(g in listed for g in groups)
        if in_group == deny:
            kong_error(req, 403, DENIED)
            return
        if not config["hide_groups_header"] and groups:
            set_upstream_header(req, header, ", ".join(groups))
