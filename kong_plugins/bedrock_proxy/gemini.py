"""The Gemini path for role `other`: API key, request headers, and the answer in Converse shape.

The key comes from plugin config `gemini_api_key` (a literal or a `{vault://env/NAME}`
reference, resolved by the shell through kong.vault.get) or else from env GEMINI_API_KEY.
It is sent in the `x-goog-api-key` header (never in the URL, so it cannot reach an access
log) and is never logged.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from kong_plugins.core.errors import GatewayError

ENV_GEMINI_KEY = "GEMINI_API_KEY"
VAULT_CACHE_SECONDS = 60.0


def is_reference(value: str) -> bool:
    return value.startswith("{vault://") and value.endswith("}")


class GeminiKey:
    """Where the key comes from; a vault reference is re-resolved at most once a minute."""

    def __init__(self, configured: str | None, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        value = (configured or "").strip()
        self.reference = value if value and is_reference(value) else None
        self._literal = None if self.reference else (value or env.get(ENV_GEMINI_KEY) or None)
        self._cached: tuple[str, float] | None = None

    def get(self, resolve: Callable[[str], Any]) -> str:
        """The key; `resolve(reference)` is kong.vault.get, called only for a reference."""
        if self._literal:
            return self._literal
        if self.reference:
            now = time.monotonic()
            if self._cached and now - self._cached[1] < VAULT_CACHE_SECONDS:
                return self._cached[0]
            value = resolve(self.reference)
            if isinstance(value, str) and value:
                self._cached = (value, now)
                return value
        raise GatewayError("bad_gateway", "The gateway has no Gemini API key configured.", code="no_credentials")


def gemini_headers(key: str, host_header: str) -> dict[str, str]:
    return {
        "x-goog-api-key": key,
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Accept-Encoding": "identity",
        "Host": host_header,
    }
