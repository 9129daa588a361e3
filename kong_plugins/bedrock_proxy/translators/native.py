"""Usage of native Bedrock answers, for the /bedrock pass-through (boto3 clients).

Cache read and write tokens are always carried: dropping them bills cache-heavy traffic as
fresh input (LiteLLM #34373, Portkey #1210).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kong_plugins.bedrock_proxy.translators._common import count, usage_from_converse
from kong_plugins.core.usage import Usage

__all__ = ["usage_from_converse", "usage_from_invoke"]

# (input, output, cache read, cache write) key names of the InvokeModel body families.
_BODY_KEYS = (
    # Anthropic Claude Messages
    ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"),
    # Amazon Nova, and Converse-style usage
    ("inputTokens", "outputTokens", "cacheReadInputTokenCount", "cacheWriteInputTokenCount"),
    ("inputTokens", "outputTokens", "cacheReadInputTokens", "cacheWriteInputTokens"),
    # OpenAI-compatible bodies (gpt-oss, DeepSeek, ...)
    ("prompt_tokens", "completion_tokens", "", ""),
)

_HEADERS = (
    "x-amzn-bedrock-input-token-count",
    "x-amzn-bedrock-output-token-count",
    "x-amzn-bedrock-cache-read-input-token-count",
    "x-amzn-bedrock-cache-write-input-token-count",
)


def usage_from_invoke(body: Any, headers: Mapping[str, Any] | None) -> Usage:
    """Usage of an InvokeModel answer: the body's usage when it has one (authoritative),
    else the X-Amzn-Bedrock-*-Token-Count response headers."""
    if isinstance(body, dict):
        usage = body.get("usage")
        if isinstance(usage, dict):
            for keys in _BODY_KEYS:
                if keys[0] in usage or keys[1] in usage:
                    return Usage(*(count(usage.get(k)) if k else 0 for k in keys))
        if "prompt_token_count" in body or "generation_token_count" in body:  # Meta Llama
            return Usage(count(body.get("prompt_token_count")), count(body.get("generation_token_count")))
    return _usage_from_headers(headers or {})


def _usage_from_headers(headers: Mapping[str, Any]) -> Usage:
    lowered = {str(k).lower(): v for k, v in headers.items()}
    return Usage(*(_header_int(lowered.get(name)) for name in _HEADERS))


def _header_int(value: Any) -> int:
    if isinstance(value, list | tuple):  # Kong returns repeated headers as a list
        value = value[0] if value else None
    if isinstance(value, str):
        value = value.strip()
        return int(value) if value.isdigit() else 0
    return count(value)
