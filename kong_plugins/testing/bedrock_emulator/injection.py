"""Error injection: by count, by rate, per request (model-ID marker or header), pre- or mid-stream."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

from . import errors

# Operations that can fail mid-stream.
STREAM_OPERATIONS = {"ConverseStream", "InvokeModelWithResponseStream", "StreamGenerateContent"}
_OP_ALIASES = {
    "invoke": "invokemodel",
    "invokewithresponsestream": "invokemodelwithresponsestream",
    "generate": "generatecontent",
    "streamgenerate": "streamgeneratecontent",
}


def _op_key(name: str) -> str:
    key = name.replace("-", "").replace("_", "").lower()
    return _OP_ALIASES.get(key, key)


@dataclass
class Rule:
    error: str  # normalized Bedrock code or Google status
    remaining: int | None  # None = always
    model: str | None = None
    operation: str | None = None
    mid_stream: bool = False
    rate: float = 1.0
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def matches(self, operation: str, model_ids: tuple[str, ...]) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.operation and _op_key(self.operation) != _op_key(operation):
            return False
        if self.model and self.model not in model_ids:
            return False
        return not (self.mid_stream and operation not in STREAM_OPERATIONS)

    def describe(self) -> dict[str, Any]:
        return {
            "error": self.error,
            "remaining": self.remaining,
            "model": self.model,
            "operation": self.operation,
            "mid_stream": self.mid_stream,
            "rate": self.rate,
        }


@dataclass(frozen=True)
class Decision:
    error: str
    mid_stream: bool


class Injector:
    """Thread-safe: tests configure it from their thread while the server loop consults it."""

    def __init__(self) -> None:
        self._rules: list[Rule] = []
        self._lock = threading.Lock()

    def add(
        self,
        error: str,
        count: int | None = 1,
        model: str | None = None,
        operation: str | None = None,
        mid_stream: bool = False,
        rate: float = 1.0,
        seed: int = 0,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        rule = Rule(errors.normalize(error), count, model, operation, mid_stream, rate, random.Random(seed))
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.describe() for r in self._rules]

    def decide(self, operation: str, model_ids: tuple[str, ...], headers: dict[str, str]) -> Decision | None:
        """The error this request must get, if any. Per-request triggers win over rules."""
        streaming = operation in STREAM_OPERATIONS
        header = headers.get("x-emulator-error")
        if header:
            mid = headers.get("x-emulator-mid-stream", "").lower() in ("1", "true", "yes")
            return Decision(errors.normalize(header), mid and streaming)
        for model_id in model_ids[:1]:
            marked = _marker(model_id)
            if marked is not None:
                return Decision(marked[0], marked[1] and streaming)
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(operation, model_ids):
                    continue
                if rule.rate < 1.0 and rule.rng.random() >= rule.rate:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                return Decision(rule.error, rule.mid_stream and streaming)
        return None


def _marker(model_id: str) -> tuple[str, bool] | None:
    """`...error-throttling...` -> ThrottlingException; `...midstream-error-throttling...` fails mid-stream."""
    if "error-" not in model_id:
        return None
    for kebab, code in errors.KEBAB_MARKERS:
        tag = "error-" + kebab
        at = model_id.find(tag)
        if at >= 0:
            return code, model_id[:at].endswith("midstream-")
    return None


def strip_marker(model_id: str) -> str:
    """The model ID without its error marker: `us.anthropic.claude-sonnet-4-6-midstream-error-throttling` ->
    `us.anthropic.claude-sonnet-4-6`, so a mid-stream error still streams from a real model first."""
    if "error-" not in model_id:
        return model_id
    for kebab, _code in errors.KEBAB_MARKERS:
        at = model_id.find("error-" + kebab)
        if at >= 0:
            head = model_id[:at].removesuffix("midstream-")
            return head.rstrip("-.:_")
    return model_id
