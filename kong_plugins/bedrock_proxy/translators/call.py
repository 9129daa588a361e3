"""What every client-API translator produces: one Bedrock Converse request plus the few
facts the plugin shell needs without digging through the body again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class ConverseCall:
    body: dict[str, Any]  # the Converse request body (no modelId: that goes in the URL)
    stream: bool = False  # the client asked for SSE
    include_usage: bool = False  # OpenAI stream_options.include_usage; always True for Anthropic streams
    requested_model: str | None = None  # the `model` the client sent, for the role policy
    max_tokens: int | None = None  # inferenceConfig.maxTokens, for token-meter reservations


# A rough size for an image or document block, so reservations are not zero for them.
_BINARY_BLOCK_CHARS = 4000


def estimate_prompt_chars(call: ConverseCall) -> int:
    """Characters of prompt text in `call` (system, messages, tool results and tool specs).

    A cheap upper-bound-ish estimate for token reservations (about 4 chars per token);
    it walks the blocks once and never serializes the body.
    """
    total = 0
    body = call.body
    system = body.get("system")
    if isinstance(system, list):
        for block in system:
            if isinstance(block, dict):
                total += _block_chars(block)
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in messages:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, list):
                for block in content:
                    if isinstance(block, dict):
                        total += _block_chars(block)
    tool_config = body.get("toolConfig")
    if isinstance(tool_config, dict) and isinstance(tool_config.get("tools"), list):
        total += 200 * len(tool_config["tools"])
    return total


def _block_chars(block: dict[str, Any]) -> int:
    text = block.get("text")
    if isinstance(text, str):
        return len(text)
    if "image" in block or "document" in block:
        return _BINARY_BLOCK_CHARS
    result = block.get("toolResult")
    if isinstance(result, dict) and isinstance(result.get("content"), list):
        return sum(_block_chars(b) for b in result["content"] if isinstance(b, dict)) + 20
    if "toolUse" in block or "json" in block:
        return 100
    return 0
