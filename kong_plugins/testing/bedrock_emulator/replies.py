"""The model's "answer": deterministic text or tool call, token counts and stop reason.

Every API module turns its request into a Prompt and formats the Reply in its own wire shape.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from . import tokens

MARKER = re.compile(r"\bMARK-[A-Za-z0-9_-]+")
WORDS = re.compile(r"\bEMU-WORDS-(\d{1,6})\b")
FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor".split()


@dataclass(frozen=True)
class ToolDef:
    name: str
    schema: dict[str, Any]


@dataclass
class Prompt:
    model_id: str
    texts: list[str] = field(default_factory=list)  # every countable piece, system first
    extra_tokens: int = 0  # images, message overhead
    last_user_text: str = ""
    after_tool_result: bool = False
    tools: list[ToolDef] = field(default_factory=list)
    forced_tool: str | None = None
    tools_disabled: bool = False
    max_tokens: int | None = None
    stop_sequences: list[str] = field(default_factory=list)
    cache_prefix: str = ""  # text up to the last cache point (the cache key)
    cache_tokens: int = 0  # tokens up to the last cache point
    thinking: bool = False  # extended thinking requested (Claude `thinking`)

    def input_tokens(self) -> int:
        return max(1, sum(tokens.count(t) for t in self.texts) + self.extra_tokens)

    def mark_cache_point(self) -> None:
        self.cache_prefix = "\x00".join(self.texts)
        self.cache_tokens = sum(tokens.count(t) for t in self.texts) + self.extra_tokens


@dataclass
class Reply:
    text: str
    tool: ToolDef | None
    tool_input: dict[str, Any]
    tool_id: str
    stop_reason: str  # Bedrock/Anthropic vocabulary: end_turn, tool_use, max_tokens, stop_sequence
    stop_sequence: str | None
    input_tokens: int
    output_tokens: int
    cache_read: int = 0
    cache_write: int = 0
    reasoning: str = ""  # extended-thinking text, billed as output
    signature: str = ""


def reply_text(model_id: str, last_user_text: str) -> str:
    text = f"Hello from {model_id}. This is a deterministic reply from the Bedrock emulator."
    markers = MARKER.findall(last_user_text)
    if markers:
        text += " " + " ".join(markers)
    words = WORDS.search(last_user_text)
    if words:
        n = int(words.group(1))
        text += " " + " ".join(FILLER[i % len(FILLER)] for i in range(n))
    return text


def example_value(schema: dict[str, Any], name: str) -> Any:
    """A value satisfying the schema's type, built from required properties only."""
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    kind = str(kind).lower()  # Gemini uses OBJECT/STRING
    if kind == "object":
        props = schema.get("properties") or {}
        return {key: example_value(props.get(key) or {}, key) for key in schema.get("required") or []}
    if kind == "array":
        if schema.get("minItems"):
            return [example_value(schema.get("items") or {}, name)] * int(schema["minItems"])
        return []
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return f"example-{name}"


def _stable_id(*parts: str, length: int = 22) -> str:
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    num = int(digest, 16)
    out = []
    for _ in range(length):
        num, rem = divmod(num, len(alphabet))
        out.append(alphabet[rem])
    return "".join(out)


def plan_reply(prompt: Prompt, cache_read: int = 0, cache_write: int = 0) -> Reply:
    reply = _plan_answer(prompt, cache_read, cache_write)
    if prompt.thinking:
        reply.reasoning = f"The user wrote to {prompt.model_id}; a short deterministic answer fits the request."
        digest = hashlib.sha256((prompt.model_id + prompt.last_user_text).encode()).digest()
        reply.signature = base64.b64encode(digest * 3).decode()
        reply.output_tokens += tokens.count(reply.reasoning)
    return reply


def _plan_answer(prompt: Prompt, cache_read: int, cache_write: int) -> Reply:
    total_in = prompt.input_tokens()
    input_tokens = max(0, total_in - cache_read - cache_write)
    tool = None
    if prompt.tools and not prompt.tools_disabled and not prompt.after_tool_result:
        tool = next((t for t in prompt.tools if t.name == prompt.forced_tool), prompt.tools[0])
    if tool is not None:
        tool_input = example_value(tool.schema, tool.name)
        if not isinstance(tool_input, dict):
            tool_input = {}
        out = max(1, tokens.count_json(tool_input) + tokens.count(tool.name) + 8)
        tool_id = _stable_id(prompt.model_id, prompt.last_user_text, tool.name)
        return Reply("", tool, tool_input, tool_id, "tool_use", None, input_tokens, out, cache_read, cache_write)
    text = reply_text(prompt.model_id, prompt.last_user_text)
    stop_reason, stop_seq = "end_turn", None
    for seq in prompt.stop_sequences:
        idx = text.find(seq) if seq else -1
        if idx >= 0:
            text, stop_reason, stop_seq = text[:idx], "stop_sequence", seq
            break
    if prompt.max_tokens is not None and tokens.count(text) > prompt.max_tokens:
        text, stop_reason, stop_seq = text[: prompt.max_tokens * 4], "max_tokens", None
    out = max(1, tokens.count(text))
    return Reply(text, None, {}, "", stop_reason, stop_seq, input_tokens, out, cache_read, cache_write)
