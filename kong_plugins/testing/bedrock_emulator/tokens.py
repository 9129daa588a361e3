"""Deterministic token counts: about 4 characters a token, never a constant."""

from __future__ import annotations

import json
from typing import Any

MESSAGE_OVERHEAD = 3  # role markers per message, as real tokenizers add a few tokens per turn
IMAGE_TOKENS = 1600  # a ~1.2 MP image on Claude


def count(text: str) -> int:
    return (len(text) + 3) // 4


def count_json(value: Any) -> int:
    return count(json.dumps(value, separators=(",", ":"), sort_keys=True))


def split_pieces(text: str, size_chars: int = 16) -> list[str]:
    """Split a reply into stream deltas on word boundaries, each about `size_chars` long."""
    pieces: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = word if not current else current + " " + word
        if len(candidate) > size_chars and current:
            pieces.append(current + " ")
            current = word
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces or [""]
