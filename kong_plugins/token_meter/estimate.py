"""How many tokens a request may use, from its body alone (no tokenizer, no network call).

Prompt: characters of the text in the body / 4, the usual rule of thumb for English and
code (a tokenizer-free estimate, as Kong's streaming framework uses). Images count a fixed
amount instead of their base64 size. Output: the request's own cap (max_tokens and its
spellings per client API), or a configured default when it sets none. The estimate is only a
reservation: the log phase settles with the real usage.
"""

from __future__ import annotations

import json
import math
from typing import Any

CHARS_PER_TOKEN = 4
IMAGE_TOKENS = 1_600  # about what a 1 MP image costs on Claude
IMAGE_KEYS = frozenset({"data", "bytes", "image_url", "inlineData", "inline_data"})
MAX_DEPTH = 32


def estimate_tokens(body: bytes | str | None, default_max_tokens: int) -> int:
    """Estimated prompt tokens plus the output cap; 0 for an unreadable body."""
    if not body:
        return 0
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return math.ceil(len(body) / CHARS_PER_TOKEN)
    if not isinstance(doc, dict):
        return 0
    chars, images = _text_chars(doc, 0)
    return math.ceil(chars / CHARS_PER_TOKEN) + images * IMAGE_TOKENS + max_output_tokens(doc, default_max_tokens)


def max_output_tokens(doc: dict[str, Any], default: int) -> int:
    """The output cap the client asked for, in any of our client APIs."""
    candidates = (
        doc.get("max_completion_tokens"),  # OpenAI (newer)
        doc.get("max_tokens"),  # OpenAI, Anthropic, the chat API, Bedrock InvokeModel (Claude)
        _get(doc, "inferenceConfig", "maxTokens"),  # Bedrock Converse
        _get(doc, "generationConfig", "maxOutputTokens"),  # Gemini
    )
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return max(0, default)


def _text_chars(value: Any, depth: int) -> tuple[int, int]:
    if depth > MAX_DEPTH:
        return 0, 0
    if isinstance(value, str):
        return len(value), 0
    chars = images = 0
    if isinstance(value, dict):
        for key, item in value.items():
            if key in IMAGE_KEYS or (key == "source" and isinstance(item, dict) and "data" in item):
                images += 1  # base64 or a URL: its length says nothing about its tokens
                continue
            c, i = _text_chars(item, depth + 1)
            chars, images = chars + c, images + i
    elif isinstance(value, list):
        for item in value:
            c, i = _text_chars(item, depth + 1)
            chars, images = chars + c, images + i
    return chars, images


def _get(doc: dict[str, Any], *path: str) -> Any:
    cur: Any = doc
    for key in path:
        cur = cur.get(key) if isinstance(cur, dict) else None
    return cur
