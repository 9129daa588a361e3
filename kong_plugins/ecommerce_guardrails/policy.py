"""Which action a finding gets for a role: block, mask, shadow or allow.

Defaults (docs/decisions/0062): guests and unknown roles are blocked on everything;
ecommerce_ops, analysts and developers get card numbers and secrets masked instead, so
their work goes on without the data reaching the model; developers' SQL-injection findings
are shadowed (they paste payloads while fixing code); admins are shadow-only.
Analysts, developers and admins may send plain read-only SQL (sqli.raw_select).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kong_plugins.core.identity import ROLES
from kong_plugins.core.logging import log_event
from kong_plugins.ecommerce_guardrails.detectors import CATEGORIES, Finding, Options
from kong_plugins.ecommerce_guardrails.normalize import clean, fold

ACTIONS = ("block", "mask", "shadow", "allow")
BLOCK_STATUSES = (400, 403, 422)
DEFAULT_MAX_BODY = 1_048_576

_B, _M, _S = "block", "mask", "shadow"
# role -> (payment_card, credentials, sql_injection, abuse)
DEFAULT_ROLE_ACTIONS: dict[str, tuple[str, str, str, str]] = {
    "admin": (_S, _S, _S, _S),
    "developer": (_M, _M, _S, _B),
    "analyst": (_M, _M, _B, _B),
    "ecommerce_ops": (_M, _M, _B, _B),
    "guest": (_B, _B, _B, _B),
    "other": (_B, _B, _B, _B),
}
DEFAULT_READONLY_SQL_ROLES = ("analyst", "developer", "admin")


@dataclass(frozen=True)
class Policy:
    role_actions: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: {r: dict(zip(CATEGORIES, a, strict=True)) for r, a in DEFAULT_ROLE_ACTIONS.items()}
    )
    rule_actions: Mapping[str, str] = field(default_factory=dict)  # "rule_id" or "role:rule_id" -> action
    readonly_sql_roles: frozenset[str] = frozenset(DEFAULT_READONLY_SQL_ROLES)
    allow_phrases: frozenset[str] = frozenset()
    allow_patterns: tuple[re.Pattern[str], ...] = ()
    options: Options = field(default_factory=Options)
    block_status: int = 400
    max_body_bytes: int = DEFAULT_MAX_BODY

    @classmethod
    def from_config(cls, conf: Mapping[str, Any]) -> Policy:
        roles_conf = _mapping(conf.get("roles"))
        role_actions: dict[str, dict[str, str]] = {}
        for role in ROLES:
            defaults = dict(zip(CATEGORIES, DEFAULT_ROLE_ACTIONS[role], strict=True))
            given = _mapping(roles_conf.get(role))
            role_actions[role] = {c: _action(given.get(c), defaults[c]) for c in CATEGORIES}
        rule_actions = _mapping(conf.get("rule_actions"))  # Kong sends an empty map as []
        status = conf.get("block_status")
        return cls(
            role_actions=role_actions,
            rule_actions={str(k): v for k, v in rule_actions.items() if v in ACTIONS},
            readonly_sql_roles=frozenset(_strings(conf.get("readonly_sql_roles", DEFAULT_READONLY_SQL_ROLES))),
            allow_phrases=frozenset(normalise_phrase(p) for p in _strings(conf.get("allow_phrases"))),
            allow_patterns=_compile(_strings(conf.get("allow_patterns"))),
            options=Options(
                allow_test_cards=bool(conf.get("allow_test_cards", True)),
                card_keep_bin=conf.get("card_mask", "bin_last4") != "last4",
            ),
            block_status=status if status in BLOCK_STATUSES else 400,
            max_body_bytes=_positive_int(conf.get("max_body_bytes"), DEFAULT_MAX_BODY),
        )

    def action(self, role: str, finding: Finding) -> str:
        """The action for one finding. A finding that cannot be masked is blocked instead."""
        if finding.rule_id == "sqli.raw_select" and role in self.readonly_sql_roles:
            return "allow"
        action = (
            self.rule_actions.get(f"{role}:{finding.rule_id}")
            or self.rule_actions.get(finding.rule_id)
            or self.role_actions.get(role, self.role_actions["other"]).get(finding.category, "block")
        )
        if action == "mask" and not finding.maskable:
            return "block"
        return action

    def allowed(self, texts: tuple[str, ...]) -> bool:
        """Operator allow-list: an exact phrase equal to, or a regex matching all of, the
        finding's text or the whole text segment it is in (both normalised)."""
        if not self.allow_phrases and not self.allow_patterns:
            return False
        for text in texts:
            if text in self.allow_phrases or any(p.fullmatch(text) for p in self.allow_patterns):
                return True
        return False


def normalise_phrase(text: str) -> str:
    return fold(clean(text)).strip()


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _action(value: Any, default: str) -> str:
    return value if value in ACTIONS else default


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else []


def _positive_int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


def _compile(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE | re.DOTALL))
        except re.error:
            # A broken allow pattern only makes the plugin stricter; say so without the pattern.
            log_event("config_warning", level="warn", plugin="ecommerce-guardrails", error_type="invalid_allow_pattern")
    return tuple(compiled)
