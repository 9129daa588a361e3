"""Types shared by the operations and the HTTP shell: planned responses and timing."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

from .replies import Prompt


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    delay_s: float = 0.0  # before anything is sent


@dataclass
class StreamResponse:
    """A chunked response: each frame is written after its own delay."""

    status: int
    headers: list[tuple[str, str]]
    frames: list[tuple[float, bytes]]
    delay_s: float = 0.0
    stream_error: str | None = None


@dataclass
class Timing:
    latency_ms: float = 0.0
    per_token_ms: float = 0.0
    frame_gap_ms: float = 1.0  # streams always arrive over time, never as one write

    def total_ms(self, output_tokens: int) -> int:
        return int(self.latency_ms + self.per_token_ms * output_tokens)

    def frame_delay_s(self, piece_tokens: int) -> float:
        return max(self.frame_gap_ms, self.per_token_ms * piece_tokens) / 1000.0


@dataclass
class OpContext:
    """What an operation may read or change besides its request."""

    timing: Timing
    cache: set[str] = field(default_factory=set)
    mid_stream_error: str | None = None  # Bedrock code or Google status to send inside the stream

    def cache_usage(self, model_key: str, prompt: Prompt, min_tokens: int) -> tuple[int, int]:
        """(cache_read, cache_write) for the prompt's cache point, like prompt caching does."""
        if not prompt.cache_prefix or prompt.cache_tokens < min_tokens:
            return 0, 0
        key = hashlib.sha256((model_key + "\x00" + prompt.cache_prefix).encode()).hexdigest()
        if key in self.cache:
            return prompt.cache_tokens, 0
        self.cache.add(key)
        return 0, prompt.cache_tokens


def request_id() -> str:
    return str(uuid.uuid4())
