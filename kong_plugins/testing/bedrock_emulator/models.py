"""Model catalog: which IDs answer, which are Legacy/EOL, and their output limits (Nov 2026)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import unquote


class Status(Enum):
    ACTIVE = "active"
    LEGACY = "legacy"  # access denied for accounts that did not use it recently
    EOL = "eol"  # "This model version has reached the end of its life."
    UNKNOWN = "unknown"  # "The provided model identifier is invalid."


@dataclass(frozen=True)
class ClaudeModel:
    base_id: str
    max_output: int
    profiles: tuple[str, ...]
    cache_min_tokens: int = 1024
    exclusive_sampling: bool = True  # 4.5+ reject temperature together with top_p


ALL_GEOS = ("global", "us", "eu", "jp", "apac")

CLAUDE: dict[str, ClaudeModel] = {
    m.base_id: m
    for m in (
        ClaudeModel("anthropic.claude-opus-4-6-v1", 128000, ALL_GEOS, 4096),
        ClaudeModel("anthropic.claude-sonnet-4-6", 64000, ("global", "us", "eu", "jp"), 2048),
        ClaudeModel("anthropic.claude-sonnet-4-5-20250929-v1:0", 64000, ("global", "us", "eu", "jp"), 1024),
        ClaudeModel("anthropic.claude-opus-4-5-20251101-v1:0", 64000, ("global", "us", "eu"), 4096),
        ClaudeModel("anthropic.claude-haiku-4-5-20251001-v1:0", 64000, ("global", "us", "eu"), 4096),
        # Opus 4.1 is in public extended access until its EOL on 2027-01-08.
        ClaudeModel("anthropic.claude-opus-4-1-20250805-v1:0", 32000, ("us",), 1024),
    )
}

LEGACY_IDS = {"anthropic.claude-3-haiku-20240307-v1:0"}
EOL_IDS = {
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-5-sonnet-20241022-v2:0",
    "anthropic.claude-3-sonnet-20240229-v1:0",
    "anthropic.claude-3-7-sonnet-20250219-v1:0",
    "anthropic.claude-3-5-haiku-20241022-v1:0",
    "anthropic.claude-sonnet-4-20250514-v1:0",
    "anthropic.claude-opus-4-20250514-v1:0",
}
# Claude 3 Opus is simply gone: it answers like any unknown ID.

_ARN = re.compile(r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d{0,12}:(foundation-model|inference-profile)/(.+)$")


@dataclass(frozen=True)
class ResolvedModel:
    model_id: str  # as the caller sent it (decoded)
    base_id: str
    status: Status
    claude: ClaudeModel | None

    @property
    def anthropic_name(self) -> str:
        """What Anthropic bodies carry in `model`: claude-sonnet-4-5-20250929."""
        name = self.base_id.removeprefix("anthropic.")
        return re.sub(r"-v\d+(:\d+)?$", "", name)


def resolve(model_id: str) -> ResolvedModel:
    ident = model_id
    m = _ARN.match(ident)
    if m:
        ident = m.group(2)
    geo, _, rest = ident.partition(".")
    if geo in ALL_GEOS and rest.startswith("anthropic."):
        base = rest
        claude = CLAUDE.get(base)
        if claude is not None and geo not in claude.profiles:
            return ResolvedModel(model_id, base, Status.UNKNOWN, None)
    else:
        base = ident
        claude = CLAUDE.get(base)
    if claude is not None:
        return ResolvedModel(model_id, base, Status.ACTIVE, claude)
    if base in LEGACY_IDS:
        return ResolvedModel(model_id, base, Status.LEGACY, None)
    if base in EOL_IDS:
        return ResolvedModel(model_id, base, Status.EOL, None)
    return ResolvedModel(model_id, base, Status.UNKNOWN, None)


def model_from_segment(segment: str) -> str:
    """The raw path segment `anthropic.claude...v1%3A0` -> `anthropic.claude...v1:0`."""
    return unquote(segment)


@dataclass(frozen=True)
class GeminiModel:
    name: str
    thinks_by_default: bool
    max_output: int = 65536


GEMINI: dict[str, GeminiModel] = {
    m.name: m
    for m in (
        GeminiModel("gemini-3.5-flash", True),
        GeminiModel("gemini-3.5-flash-lite", False),
        GeminiModel("gemini-3.6-flash", True),
        GeminiModel("gemini-3.7-flash", True),
        GeminiModel("gemini-3.8-flash", True),
        GeminiModel("gemini-3.1-flash-lite", False),
        GeminiModel("gemini-3-flash-preview", True),
        GeminiModel("gemini-2.5-flash", True),  # deprecated, still answering
        GeminiModel("gemini-2.5-flash-lite", False),
    )
}
# Shut-down Gemini models (1.5, 2.0) answer 404 NOT_FOUND like any unknown name.
