"""Rate-limit response headers, Kong style, from a limiter decision."""

from __future__ import annotations

from kong_plugins.token_meter.limiter import Decision
from kong_plugins.token_meter.limits import Limit

RESET = "RateLimit-Reset"
RETRY_AFTER = "Retry-After"
RESERVED = "X-RateLimit-Reserved-Tokens"
DEGRADED = "X-RateLimit-Degraded"


def limit_header(window: str) -> str:
    return f"X-RateLimit-Limit-Tokens-{window.capitalize()}"


def remaining_header(window: str) -> str:
    return f"X-RateLimit-Remaining-Tokens-{window.capitalize()}"


def rate_limit_headers(decision: Decision) -> dict[str, str]:
    """Limit and remaining per window, and RateLimit-Reset for the tightest window: the
    seconds until its whole limit is available again. Retry-After only on a rejection."""
    headers: dict[str, str] = {}
    for state in decision.windows:
        headers[limit_header(state.limit.window)] = str(state.limit.tokens)
        headers[remaining_header(state.limit.window)] = str(state.remaining)
    if decision.windows:
        tightest = min(decision.windows, key=lambda s: s.remaining / s.limit.tokens)
        headers[RESET] = str(tightest.reset_seconds)
    if decision.reserved:
        headers[RESERVED] = str(decision.reserved)
    if not decision.admitted:
        headers[RETRY_AFTER] = str(decision.retry_after)
    return headers


def degraded_headers(limits: tuple[Limit, ...], dependency: str = "redis") -> dict[str, str]:
    """The store was unreachable: the limits are known, the remaining tokens are not."""
    headers = {limit_header(lim.window): str(lim.tokens) for lim in limits}
    headers[DEGRADED] = dependency
    return headers
