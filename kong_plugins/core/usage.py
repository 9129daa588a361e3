"""Token usage of one LLM call, and how it is handed from bedrock-proxy to the rest.

bedrock-proxy writes an `LlmResult` to kong.ctx.shared (SHARED_RESULT_KEY), to response
headers (USAGE_HEADERS) and to Kong's serializer under `ai.<plugin>` with ai-proxy's field
names, so token-meter and Kong's own prometheus/file-log plugins all see the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SHARED_RESULT_KEY = "llm_gateway_result"
# The shared result also carries the caller's shared identity under this key, so the log
# phase reads one ctx value instead of two.
RESULT_IDENTITY = "identity"

HEADER_MODEL = "X-LLM-Model"
HEADER_INPUT_TOKENS = "X-LLM-Input-Tokens"
HEADER_OUTPUT_TOKENS = "X-LLM-Output-Tokens"
HEADER_TOTAL_TOKENS = "X-LLM-Total-Tokens"
HEADER_CACHE_READ_TOKENS = "X-LLM-Cache-Read-Tokens"
HEADER_CACHE_WRITE_TOKENS = "X-LLM-Cache-Write-Tokens"
HEADER_COST = "X-LLM-Cost-USD"
HEADER_PRICE_VERSION = "X-LLM-Price-Version"
HEADER_FALLBACK = "X-LLM-Fallback"  # "true; from=<first model>" when another model answered


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0  # not counting cache reads and writes, as Bedrock reports it
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens

    @classmethod
    def from_mapping(cls, value: Mapping[str, Any]) -> Usage:
        def n(key: str) -> int:
            v = value.get(key, 0)
            return max(0, int(v)) if isinstance(v, int | float) and not isinstance(v, bool) else 0

        return cls(n("input_tokens"), n("output_tokens"), n("cache_read_tokens"), n("cache_write_tokens"))


@dataclass(frozen=True)
class LlmResult:
    """What one proxied LLM call produced; metadata only, never text."""

    model: str
    provider: str  # bedrock | gemini
    client_api: str
    status: int
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    fallback_from: str | None = None
    attempts: int = 1
    upstream_latency_ms: int = 0
    error_type: str | None = None

    def to_shared(self, identity: Mapping[str, Any] | None = None) -> dict[str, Any]:
        u = self.usage
        d: dict[str, Any] = {  # not dataclasses.asdict: it deep-copies, on every request
            "model": self.model,
            "provider": self.provider,
            "client_api": self.client_api,
            "status": self.status,
            "usage": {
                "input_tokens": u.input_tokens,
                "output_tokens": u.output_tokens,
                "cache_read_tokens": u.cache_read_tokens,
                "cache_write_tokens": u.cache_write_tokens,
                "total_tokens": u.total_tokens,
            },
            "cost_usd": self.cost_usd,
            "fallback_from": self.fallback_from,
            "attempts": self.attempts,
            "upstream_latency_ms": self.upstream_latency_ms,
            "error_type": self.error_type,
        }
        if identity:
            d[RESULT_IDENTITY] = dict(identity)
        return {k: v for k, v in d.items() if v is not None}

    @staticmethod
    def shared_identity(value: Any) -> Mapping[str, Any] | None:
        """The caller's shared identity carried inside a shared result, if any."""
        identity = value.get(RESULT_IDENTITY) if isinstance(value, Mapping) else None
        return identity if isinstance(identity, Mapping) and identity else None

    @classmethod
    def from_shared(cls, value: Any) -> LlmResult | None:
        if not isinstance(value, Mapping) or "model" not in value:
            return None
        usage = value.get("usage")
        try:
            return cls(
                model=str(value["model"]),
                provider=str(value.get("provider", "bedrock")),
                client_api=str(value.get("client_api", "openai")),
                status=int(value.get("status", 0)),
                usage=Usage.from_mapping(usage if isinstance(usage, Mapping) else {}),
                cost_usd=float(value.get("cost_usd", 0.0)),
                fallback_from=value.get("fallback_from") or None,
                attempts=int(value.get("attempts", 1)),
                upstream_latency_ms=int(value.get("upstream_latency_ms", 0)),
                error_type=value.get("error_type") or None,
            )
        except (TypeError, ValueError):
            return None

    def headers(self, price_version: str) -> dict[str, str]:
        h = {
            HEADER_MODEL: self.model,
            HEADER_INPUT_TOKENS: str(self.usage.input_tokens),
            HEADER_OUTPUT_TOKENS: str(self.usage.output_tokens),
            HEADER_TOTAL_TOKENS: str(self.usage.total_tokens),
            HEADER_CACHE_READ_TOKENS: str(self.usage.cache_read_tokens),
            HEADER_CACHE_WRITE_TOKENS: str(self.usage.cache_write_tokens),
            HEADER_COST: f"{self.cost_usd:.6f}",
            HEADER_PRICE_VERSION: price_version,
        }
        if self.fallback_from:
            h[HEADER_FALLBACK] = f"true; from={self.fallback_from}"
        return h

    def kong_ai_serialize(self, plugin_id: str | None = None) -> dict[str, Any]:
        """The `ai.<plugin>` subtree with Kong ai-proxy's field names (never cache.* latencies)."""
        total = self.usage.total_tokens
        meta: dict[str, Any] = {
            "provider_name": self.provider,
            "request_model": self.model,
            "response_model": self.model,
            "llm_latency": self.upstream_latency_ms,
        }
        if plugin_id:
            meta["plugin_id"] = plugin_id
        return {
            "meta": meta,
            "usage": {
                "prompt_tokens": self.usage.input_tokens + self.usage.cache_read_tokens + self.usage.cache_write_tokens,
                "completion_tokens": self.usage.output_tokens,
                "total_tokens": total,
                "time_per_token": (self.upstream_latency_ms / self.usage.output_tokens)
                if self.usage.output_tokens
                else 0,
                "cost": round(self.cost_usd, 8),
            },
        }
