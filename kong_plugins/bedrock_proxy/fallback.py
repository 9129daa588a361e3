"""Fallback after a failed first attempt: which failures qualify, and the bounded retry loop.

Kong has already proxied the first attempt when the response phase sees it fail, so a
fallback attempt is made by the plugin itself (see
docs/decisions/0044-fallback-from-response-phase.md). Only failures that another model or
profile can fix qualify (throttling, quota, model not ready, 500, 503), only while the
request is still young (fast failures: APISIX's retry_on_failure_within_ms idea), and only a
bounded number of times. Validation, access and timeout errors never fall back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kong_plugins.bedrock_proxy.bedrock_errors import NOT_READY, QUOTA, SERVER, THROTTLING, UNAVAILABLE, UpstreamError

FALLBACK_CLASSES = frozenset({THROTTLING, QUOTA, NOT_READY, SERVER, UNAVAILABLE})


@dataclass(frozen=True)
class FallbackSettings:
    max_attempts: int = 3  # the first attempt included
    budget_ms: int = 5000  # no new attempt once the request is this old
    attempt_timeout_ms: int = 120_000  # read timeout of one fallback attempt

    @classmethod
    def from_config(cls, conf: Mapping[str, Any]) -> FallbackSettings:
        return cls(
            max_attempts=int(conf.get("fallback_max_attempts") or cls.max_attempts),
            budget_ms=int(conf.get("fallback_budget_ms") or cls.budget_ms),
            attempt_timeout_ms=int(conf.get("fallback_attempt_timeout_ms") or cls.attempt_timeout_ms),
        )


@dataclass(frozen=True)
class Answer:
    """A successful upstream answer."""

    model: str
    body: bytes
    latency_ms: int


# (model, timeout_s) -> outcome; None: this model cannot take the request, skip it
Attempt = Callable[[str, float], "Answer | UpstreamError | None"]


@dataclass(frozen=True)
class FallbackOutcome:
    answer: Answer | None  # None: every attempt failed
    error: UpstreamError  # the last failure (the first one when nothing was tried)
    attempts: int  # upstream calls made for this request, the first (Kong's) included


def should_fall_back(error: UpstreamError) -> bool:
    return error.error_class in FALLBACK_CLASSES


def run_fallbacks(
    chain: tuple[str, ...] | list[str],
    first_error: UpstreamError,
    settings: FallbackSettings,
    attempt: Attempt,
    elapsed_ms: Callable[[], float],
) -> FallbackOutcome:
    """Try chain[1:], in order, while the last failure qualifies and attempts and time remain."""
    last = first_error
    attempts = 1
    for model in list(chain)[1:]:
        if not should_fall_back(last) or attempts >= settings.max_attempts:
            break
        if elapsed_ms() >= settings.budget_ms:
            break
        outcome = attempt(model, settings.attempt_timeout_ms / 1000)
        if outcome is None:
            continue
        attempts += 1
        if isinstance(outcome, Answer):
            return FallbackOutcome(outcome, last, attempts)
        last = outcome
    return FallbackOutcome(None, last, attempts)
