"""Which token limits apply to a caller: role defaults, per-consumer overrides, windows.

A limit of 0 means unlimited. Roles a config does not name keep the design's defaults, so
an operator can change one role without restating the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kong_plugins.core.identity import DEFAULT_ROLE, Identity

WINDOWS: dict[str, int] = {"minute": 60, "hour": 3600, "day": 86400}

# Tokens per subject per minute, input plus output (the design's table).
DEFAULT_MINUTE_LIMITS: dict[str, int] = {
    "admin": 0,
    "developer": 10_000,
    "analyst": 5_000,
    "ecommerce_ops": 2_000,
    "guest": 500,
    "other": 1_000,
}


@dataclass(frozen=True)
class Limit:
    window: str  # minute | hour | day
    seconds: float
    tokens: int

    @property
    def rate(self) -> float:
        """Tokens the bucket drains per second."""
        return self.tokens / self.seconds


@dataclass(frozen=True)
class LimitPolicy:
    per_role: Mapping[str, Mapping[str, int]]  # role -> window -> tokens
    per_consumer: Mapping[str, Mapping[str, int]]  # consumer username or id -> window -> tokens
    window_seconds: Mapping[str, float]

    @classmethod
    def from_config(cls, conf: Mapping[str, Any]) -> LimitPolicy:
        per_role: dict[str, dict[str, int]] = {role: {"minute": n} for role, n in DEFAULT_MINUTE_LIMITS.items()}
        for window in WINDOWS:
            for role, tokens in _int_map(conf.get(f"limits_per_{window}")).items():
                per_role.setdefault(role, {})[window] = tokens
        per_consumer: dict[str, dict[str, int]] = {}
        for entry in _as_list(conf.get("consumer_limits")):
            if isinstance(entry, Mapping) and entry.get("consumer"):
                windows = {w: int(entry[w]) for w in WINDOWS if isinstance(entry.get(w), int)}
                per_consumer[str(entry["consumer"])] = windows
        # Test configs shorten the windows; production leaves them at 60/3600/86400 s.
        scale = conf.get("window_scale")
        factor = float(scale) if isinstance(scale, int | float) and scale > 0 else 1.0
        return cls(per_role, per_consumer, {w: s * factor for w, s in WINDOWS.items()})

    def limits_for(self, identity: Identity) -> tuple[Limit, ...]:
        """The limits that apply, shortest window first; empty means unlimited."""
        role_limits = self.per_role.get(identity.role) or self.per_role.get(DEFAULT_ROLE, {})
        windows = dict(role_limits)
        for name in (identity.consumer_username, identity.consumer_id):
            if name and name in self.per_consumer:
                windows.update(self.per_consumer[name])
                break
        return tuple(
            Limit(w, self.window_seconds[w], windows[w]) for w in WINDOWS if windows.get(w, 0) and windows[w] > 0
        )


def _int_map(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):  # Kong sends an empty map as an empty list
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def _as_list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else []
