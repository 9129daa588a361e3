"""Which models a role may use, what an alias means, and where a failed call falls back to.

The tables below are the plugin's config defaults (schema.py uses them); operators replace
them in the plugin config. A role's `models` may contain "*" (every model). A client may
name a full model ID, an alias, or nothing (the role's default). Aliases map to candidate
IDs in preference order, and resolve to the first candidate the role may use, so `sonnet`
means Sonnet 4.6 for a developer and Sonnet 4.5 for an analyst.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kong_plugins.core.errors import GatewayError
from kong_plugins.core.identity import DEFAULT_ROLE

ANY_MODEL = "*"

SONNET_46_GLOBAL = "global.anthropic.claude-sonnet-4-6"
SONNET_46_US = "us.anthropic.claude-sonnet-4-6"
SONNET_45_US = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SONNET_45_GLOBAL = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU_45_US = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
HAIKU_45_GLOBAL = "global.anthropic.claude-haiku-4-5-20251001-v1:0"
OPUS_46_GLOBAL = "global.anthropic.claude-opus-4-6-v1"
OPUS_46_US = "us.anthropic.claude-opus-4-6-v1"
GEMINI_FLASH_LITE = "gemini-3.1-flash-lite"
GEMINI_FLASH = "gemini-3.5-flash"

# role -> {models, default_model, fallbacks}; see docs/decisions/0041-model-policy-defaults.md
DEFAULT_ROLES: dict[str, dict[str, Any]] = {
    "admin": {
        "models": [ANY_MODEL],
        "default_model": SONNET_46_GLOBAL,
        "fallbacks": [SONNET_46_GLOBAL, SONNET_46_US, SONNET_45_GLOBAL],
    },
    "developer": {
        "models": [SONNET_46_GLOBAL, SONNET_46_US],
        "default_model": SONNET_46_GLOBAL,
        "fallbacks": [SONNET_46_GLOBAL, SONNET_46_US, SONNET_45_GLOBAL],
    },
    "analyst": {
        "models": [SONNET_45_US],
        "default_model": SONNET_45_US,
        "fallbacks": [SONNET_45_US, SONNET_46_US],
    },
    "ecommerce_ops": {
        "models": [SONNET_45_US],
        "default_model": SONNET_45_US,
        "fallbacks": [SONNET_45_US, SONNET_46_US],
    },
    "guest": {
        "models": [HAIKU_45_US],
        "default_model": HAIKU_45_US,
        "fallbacks": [HAIKU_45_US, HAIKU_45_GLOBAL],
    },
    "other": {
        "models": [GEMINI_FLASH_LITE],
        "default_model": GEMINI_FLASH_LITE,
        "fallbacks": [GEMINI_FLASH_LITE, GEMINI_FLASH],
    },
}

DEFAULT_ALIASES: dict[str, list[str]] = {
    "sonnet": [SONNET_46_GLOBAL, SONNET_46_US, SONNET_45_US, SONNET_45_GLOBAL],
    "haiku": [HAIKU_45_US, HAIKU_45_GLOBAL],
    "opus": [OPUS_46_GLOBAL, OPUS_46_US],
    "gemini-flash": [GEMINI_FLASH, GEMINI_FLASH_LITE],
}


@dataclass(frozen=True)
class RolePolicy:
    models: tuple[str, ...]
    default_model: str
    fallbacks: tuple[str, ...] = ()

    @property
    def any_model(self) -> bool:
        return ANY_MODEL in self.models


@dataclass(frozen=True)
class ModelChoice:
    model: str  # the ID sent upstream
    chosen_by_client: bool  # the client named this exact ID (not an alias or the default)
    chain: tuple[str, ...]  # this model, then the fallbacks to try in order


class ModelPolicy:
    def __init__(self, roles: Mapping[str, RolePolicy], aliases: Mapping[str, tuple[str, ...]]) -> None:
        self.roles = dict(roles)
        self.aliases = dict(aliases)

    @classmethod
    def from_config(cls, conf: Mapping[str, Any]) -> ModelPolicy:
        raw_roles = conf.get("roles")
        raw_aliases = conf.get("aliases")
        roles_in = raw_roles if isinstance(raw_roles, Mapping) and raw_roles else DEFAULT_ROLES
        # Kong sends an empty map as an empty list: no aliases. Absent (not from Kong): defaults.
        aliases_in = raw_aliases if isinstance(raw_aliases, Mapping) else {} if raw_aliases == [] else DEFAULT_ALIASES
        roles = {}
        for name, rec in roles_in.items():
            if not isinstance(rec, Mapping):
                continue
            models = tuple(str(m) for m in _list(rec.get("models")))
            default = str(rec.get("default_model") or (models[0] if models else ""))
            roles[str(name)] = RolePolicy(models, default, tuple(str(m) for m in _list(rec.get("fallbacks"))))
        aliases = {str(k): tuple(str(m) for m in _list(v)) for k, v in aliases_in.items()}
        return cls(roles, aliases)

    def role(self, role: str) -> RolePolicy:
        policy = self.roles.get(role) or self.roles.get(DEFAULT_ROLE)
        if policy is None or not policy.default_model:
            raise GatewayError("permission_denied", f"Role '{role}' may not use any model.", code="model_not_allowed")
        return policy

    def allows(self, role: str, model: str) -> bool:
        policy = self.role(role)
        return policy.any_model or model in policy.models

    def allowed_models(self, role: str) -> list[str]:
        """The IDs a role may name, for /v1/models and 403 messages."""
        policy = self.role(role)
        if not policy.any_model:
            return list(dict.fromkeys(policy.models))
        known: list[str] = []
        for rp in self.roles.values():
            known.extend(m for m in (*rp.models, rp.default_model, *rp.fallbacks) if m != ANY_MODEL)
        for ids in self.aliases.values():
            known.extend(ids)
        return sorted(set(known))

    def choose(self, role: str, requested: str | None) -> ModelChoice:
        """The model to call for `requested` (alias, full ID or None) or a 403 naming the allowed ones."""
        policy = self.role(role)
        if requested is None or requested == "":
            return ModelChoice(policy.default_model, False, self._chain(policy, policy.default_model))
        candidates = self.aliases.get(requested)
        if candidates is not None:
            for model in candidates:
                if self.allows(role, model):
                    return ModelChoice(model, False, self._chain(policy, model))
        elif self.allows(role, requested):
            return ModelChoice(requested, True, self._chain(policy, requested))
        allowed = ", ".join(self.allowed_models(role)) if not policy.any_model else "any configured model"
        raise GatewayError(
            "permission_denied",
            f"Model '{_printable(requested)}' is not allowed for role '{role}'. Allowed: {allowed}.",
            code="model_not_allowed",
        )

    @staticmethod
    def _chain(policy: RolePolicy, model: str) -> tuple[str, ...]:
        """Fallbacks apply to the role's default and to models on its fallback list; a model
        the client picked outside that list is not silently swapped for another."""
        if model in policy.fallbacks:
            rest = policy.fallbacks[policy.fallbacks.index(model) + 1 :]
        elif model == policy.default_model:
            rest = policy.fallbacks
        else:
            rest = ()
        return (model, *dict.fromkeys(m for m in rest if m != model))

    def models_list(self, role: str, created: int = 0) -> dict[str, Any]:
        """GET /v1/models in OpenAI's list format: the caller's models plus its aliases."""
        data = [
            {"id": m, "object": "model", "created": created, "owned_by": _owner(m)} for m in self.allowed_models(role)
        ]
        for alias, ids in sorted(self.aliases.items()):
            if any(self.allows(role, m) for m in ids):
                data.append({"id": alias, "object": "model", "created": created, "owned_by": "gateway-alias"})
        return {"object": "list", "data": data}


def provider_of(model: str) -> str:
    return "gemini" if model.startswith(("gemini-", "models/gemini-")) else "bedrock"


def _owner(model: str) -> str:
    return "google" if provider_of(model) == "gemini" else "aws-bedrock"


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _printable(value: str) -> str:
    """A requested model name is echoed back to its sender; cut it short and drop control chars."""
    return "".join(c for c in value[:120] if c.isprintable())
