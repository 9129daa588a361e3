"""Estimated cost of a call, per model and inference-profile geography.

Prices are USD per million tokens, list prices read on 2026-11-28. Cache reads cost 10% of
input, cache writes 125%. From the 4.5 generation on, Bedrock bills regional and geo profiles
(`us.`, `eu.`, ... and bare in-region IDs) 10% above `global.`. Operators override any price
in plugin config; keys are base model IDs (no geo prefix, no ARN).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kong_plugins.core.usage import Usage

PRICE_VERSION = "2026-11-28"

GEO_PREFIXES = ("global", "us", "eu", "apac", "jp", "us-gov", "ca", "au")
REGIONAL_PREMIUM = 1.10
CACHE_READ_FACTOR = 0.10
CACHE_WRITE_FACTOR = 1.25


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    regional_premium: bool = False  # 4.5+ generation: +10% outside global profiles


PRICES: dict[str, Price] = {
    "anthropic.claude-opus-4-6-v1": Price(5.0, 25.0, regional_premium=True),
    "anthropic.claude-opus-4-5-20251101-v1:0": Price(5.0, 25.0, regional_premium=True),
    "anthropic.claude-sonnet-4-6": Price(3.0, 15.0, regional_premium=True),
    "anthropic.claude-sonnet-4-5-20250929-v1:0": Price(3.0, 15.0, regional_premium=True),
    "anthropic.claude-haiku-4-5-20251001-v1:0": Price(1.0, 5.0, regional_premium=True),
    "anthropic.claude-opus-4-1-20250805-v1:0": Price(15.0, 75.0),
    "anthropic.claude-sonnet-4-20250514-v1:0": Price(3.0, 15.0),
    "anthropic.claude-3-haiku-20240307-v1:0": Price(0.25, 1.25),
    "gemini-3.5-flash": Price(1.50, 9.00),
    "gemini-3.1-flash-lite": Price(0.25, 1.50),
    "gemini-3-flash-preview": Price(0.50, 3.00),
    "gemini-2.5-flash": Price(0.30, 2.50),
    "gemini-2.5-flash-lite": Price(0.10, 0.40),
}


def split_model_id(model_id: str) -> tuple[str, str | None]:
    """(base model ID, geo prefix or None) for a base ID, profile ID or ARN."""
    mid = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
    head, dot, rest = mid.partition(".")
    if dot and head in GEO_PREFIXES and "." in rest:
        return rest, head
    return mid, None


def price_for(model_id: str, overrides: Mapping[str, Mapping[str, float]] | None = None) -> Price | None:
    base, _ = split_model_id(model_id)
    for key in (model_id, base):
        if overrides and key in overrides:
            o = overrides[key]
            return Price(
                float(o.get("input", 0.0)),
                float(o.get("output", 0.0)),
                _opt(o.get("cache_read")),
                _opt(o.get("cache_write")),
                regional_premium=False,  # an operator's price is the price
            )
    return PRICES.get(base)


def estimate_cost(model_id: str, usage: Usage, overrides: Mapping[str, Mapping[str, float]] | None = None) -> float:
    """USD for one call; 0.0 for a model with no known price."""
    price = price_for(model_id, overrides)
    if price is None:
        return 0.0
    _, geo = split_model_id(model_id)
    factor = REGIONAL_PREMIUM if price.regional_premium and geo != "global" else 1.0
    cache_read = price.cache_read if price.cache_read is not None else price.input * CACHE_READ_FACTOR
    cache_write = price.cache_write if price.cache_write is not None else price.input * CACHE_WRITE_FACTOR
    dollars = (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_read_tokens * cache_read
        + usage.cache_write_tokens * cache_write
    ) / 1_000_000
    return dollars * factor


def _opt(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
