"""What one request cost, read from what the log phase can see: metadata only, never text.

The source is bedrock-proxy's LlmResult in kong.ctx.shared; failing that, Kong's serializer
(`ai.<name>.usage`, ai-proxy's field names), so traffic that Kong's own ai-proxy served is
metered too; failing both (a request refused before any model was called), just the status.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kong_plugins.core.identity import DEFAULT_ROLE
from kong_plugins.core.pricing import estimate_cost
from kong_plugins.core.usage import LlmResult, Usage

NO_MODEL = "none"  # the request never reached a model
GUARDRAIL_HEADER = "x-guardrail-rule"

# Error `type` label: Bedrock exception names and gateway error kinds, in a bounded set.
ERROR_TYPES: dict[str, str] = {
    "ThrottlingException": "throttling",
    "ServiceQuotaExceededException": "quota_exceeded",
    "ServiceUnavailableException": "service_unavailable",
    "InternalServerException": "internal",
    "ModelTimeoutException": "model_timeout",
    "ModelStreamErrorException": "model_stream_error",
    "ModelNotReadyException": "model_not_ready",
    "ModelErrorException": "model_error",
    "ValidationException": "validation",
    "AccessDeniedException": "access_denied",
    "ResourceNotFoundException": "not_found",
    "UnrecognizedClientException": "authentication",
}
GATEWAY_TYPES = frozenset(
    {
        "invalid_request",
        "authentication",
        "permission_denied",
        "not_found",
        "method_not_allowed",
        "payload_too_large",
        "guardrail_blocked",
        "rate_limited",
        "internal_error",
        "bad_gateway",
        "service_unavailable",
        "upstream_timeout",
    }
)


@dataclass(frozen=True)
class Record:
    role: str
    status: int
    model: str = NO_MODEL
    provider: str | None = None
    client_api: str | None = None
    consumer: str | None = None  # username, else id: the Kong consumer (bounded by config)
    consumer_id: str | None = None
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    duration_s: float | None = None
    upstream_latency_ms: int | None = None
    error_type: str | None = None

    @property
    def input_tokens(self) -> int:
        """Every prompt token, cached or not (Bedrock reports cache reads and writes apart)."""
        u = self.usage
        return u.input_tokens + u.cache_read_tokens + u.cache_write_tokens

    @property
    def status_class(self) -> str:
        return f"{self.status // 100}xx" if 100 <= self.status <= 599 else "other"

    @property
    def error_label(self) -> str | None:
        """Bounded `type` label for a failed request, None for a success."""
        if self.status < 400 and not self.error_type:
            return None
        if self.error_type in ERROR_TYPES:
            return ERROR_TYPES[self.error_type]
        if self.error_type in GATEWAY_TYPES:
            return self.error_type
        if self.status == 429:
            return "rate_limited"
        if self.status == 401:
            return "authentication"
        if self.status == 403:
            return "permission_denied"
        return "client_error" if self.status < 500 else "server_error"


def record_from_result(
    result: LlmResult,
    identity: Mapping[str, Any] | None,
    duration_s: float | None,
    pricing: Mapping[str, Mapping[str, float]] | None = None,
) -> Record:
    cost = estimate_cost(result.model, result.usage, pricing) if pricing or not result.cost_usd else result.cost_usd
    return Record(
        **_who(identity),
        status=result.status,
        model=result.model,
        provider=result.provider,
        client_api=result.client_api,
        usage=result.usage,
        cost_usd=cost,
        duration_s=duration_s,
        upstream_latency_ms=result.upstream_latency_ms,
        error_type=result.error_type,
    )


def record_from_serialized(
    serialized: Any,
    identity: Mapping[str, Any] | None,
    pricing: Mapping[str, Mapping[str, float]] | None = None,
) -> Record:
    """From kong.log.serialize() (a JSON string through the plugin-server bridge)."""
    doc = _json_dict(serialized)
    response, latencies = _json_dict(doc.get("response")), _json_dict(doc.get("latencies"))
    status = _int(response.get("status"))
    request_ms = latencies.get("request")
    duration = request_ms / 1000 if isinstance(request_ms, int | float) and request_ms >= 0 else None
    who = _who(identity) if identity else _who_from_consumer(doc.get("consumer"))

    for entry in _json_dict(doc.get("ai")).values():  # one entry per AI plugin; the first with usage wins
        usage_doc = entry.get("usage") if isinstance(entry, dict) else None
        if not isinstance(usage_doc, dict):
            continue
        meta = _json_dict(entry.get("meta"))
        model = str(meta.get("response_model") or meta.get("request_model") or "unknown")
        prompt, completion = _int(usage_doc.get("prompt_tokens")), _int(usage_doc.get("completion_tokens"))
        usage = Usage(input_tokens=prompt, output_tokens=completion)
        kong_cost = usage_doc.get("cost")
        cost = (
            float(kong_cost)
            if isinstance(kong_cost, int | float) and kong_cost > 0 and not pricing
            else estimate_cost(model, usage, pricing)
        )
        llm_latency = meta.get("llm_latency")
        return Record(
            **who,
            status=status,
            model=model,
            provider=str(meta.get("provider_name") or "") or None,
            usage=usage,
            cost_usd=cost,
            duration_s=duration,
            upstream_latency_ms=int(llm_latency) if isinstance(llm_latency, int | float) else None,
        )
    # Refused before any model: ecommerce-guardrails marks its blocks with a rule header.
    blocked = status >= 400 and GUARDRAIL_HEADER in _json_dict(response.get("headers"))
    return Record(**who, status=status, duration_s=duration, error_type="guardrail_blocked" if blocked else None)


def _who(identity: Mapping[str, Any] | None) -> dict[str, Any]:
    identity = identity or {}
    username, cid = identity.get("consumer_username"), identity.get("consumer_id")
    return {
        "role": str(identity.get("role") or DEFAULT_ROLE),
        "consumer": str(username or cid) if (username or cid) else None,
        "consumer_id": str(cid) if cid else None,
    }


def _who_from_consumer(consumer: Any) -> dict[str, Any]:
    c = consumer if isinstance(consumer, dict) else {}
    return _who({"consumer_username": c.get("username"), "consumer_id": c.get("id")})


def _json_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str | bytes) and value[:1] in ("{", b"{"):
        try:
            doc = json.loads(value)
        except ValueError:
            return {}
        return doc if isinstance(doc, dict) else {}
    return {}


def _int(value: Any) -> int:
    return max(0, int(value)) if isinstance(value, int | float) and not isinstance(value, bool) else 0
