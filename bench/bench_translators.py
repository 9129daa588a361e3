"""CPU cost of the bedrock-proxy translators for a typical ~1 KB request and answer.

Prints microseconds per call (process CPU time, best of 5 rounds) for each translator's
to_converse, from_converse and stream_from_converse, the Gemini legs, and json.loads /
json.dumps of the same bodies for scale. Run: .venv/bin/python bench/bench_translators.py
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from kong_plugins.bedrock_proxy.translators import (
    ConverseCall,
    anthropic_converse,
    chat,
    converse_gemini,
    estimate_prompt_chars,
    openai_converse,
    usage_from_converse,
)

SYSTEM = "You are the shop assistant of an online store. Answer briefly and politely. " * 3
QUESTION = "Where is my order 12345? It was due on Monday and the tracking page shows nothing since Friday. " * 3
ANSWER_TEXT = "Your order 12345 left our warehouse on Friday and is with the carrier; expect it by Wednesday. " * 4
TOOL = {
    "name": "get_order",
    "description": "Look up an order by number",
    "schema": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
}

OPENAI_REQUEST = {
    "model": "sonnet",
    "messages": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": "Let me check that for you."},
        {"role": "user", "content": [{"type": "text", "text": "Thanks, please hurry."}]},
    ],
    "max_tokens": 512,
    "temperature": 0.3,
    "tools": [
        {
            "type": "function",
            "function": {"name": TOOL["name"], "description": TOOL["description"], "parameters": TOOL["schema"]},
        }
    ],
    "stream": True,
    "stream_options": {"include_usage": True},
}
ANTHROPIC_REQUEST = {
    "model": "sonnet",
    "max_tokens": 512,
    "system": [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
    "messages": [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": [{"type": "text", "text": "Let me check that for you."}]},
        {"role": "user", "content": "Thanks, please hurry."},
    ],
    "temperature": 0.3,
    "tools": [{"name": TOOL["name"], "description": TOOL["description"], "input_schema": TOOL["schema"]}],
}
CHAT_REQUEST = {
    "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
    "max_tokens": 512,
}
CONVERSE_ANSWER = {
    "output": {
        "message": {
            "role": "assistant",
            "content": [
                {"text": ANSWER_TEXT},
                {"toolUse": {"toolUseId": "tooluse_abc", "name": "get_order", "input": {"order_id": "12345"}}},
            ],
        }
    },
    "stopReason": "tool_use",
    "usage": {"inputTokens": 310, "outputTokens": 95, "totalTokens": 1405, "cacheReadInputTokens": 1000},
    "metrics": {"latencyMs": 900},
}
GEMINI_ANSWER = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {"text": ANSWER_TEXT},
                    {"functionCall": {"name": "get_order", "args": {"order_id": "12345"}}},
                ],
            },
            "finishReason": "STOP",
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 310,
        "candidatesTokenCount": 95,
        "thoughtsTokenCount": 20,
        "cachedContentTokenCount": 0,
    },
    "responseId": "r1",
}


def cpu_us(func: Callable[[], Any], number: int = 2000) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(number):
            func()
        best = min(best, time.process_time() - start)
    return best / number * 1e6


def main() -> None:
    kw = {"model": "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "request_id": "req-1"}
    openai_call = openai_converse.to_converse(OPENAI_REQUEST)
    anthropic_call = anthropic_converse.to_converse(ANTHROPIC_REQUEST)
    print(
        f"request sizes: openai {len(json.dumps(OPENAI_REQUEST))} B, anthropic {len(json.dumps(ANTHROPIC_REQUEST))} B, "
        f"converse answer {len(json.dumps(CONVERSE_ANSWER))} B, gemini answer {len(json.dumps(GEMINI_ANSWER))} B"
    )
    raw_request = json.dumps(OPENAI_REQUEST)
    rows: list[tuple[str, Callable[[], Any]]] = [
        ("openai    to_converse", lambda: openai_converse.to_converse(OPENAI_REQUEST)),
        ("openai    from_converse", lambda: openai_converse.from_converse(CONVERSE_ANSWER, created=1, **kw)),
        (
            "openai    stream_from_converse",
            lambda: openai_converse.stream_from_converse(CONVERSE_ANSWER, include_usage=True, created=1, **kw),
        ),
        ("anthropic to_converse", lambda: anthropic_converse.to_converse(ANTHROPIC_REQUEST)),
        ("anthropic from_converse", lambda: anthropic_converse.from_converse(CONVERSE_ANSWER, **kw)),
        ("anthropic stream_from_converse", lambda: anthropic_converse.stream_from_converse(CONVERSE_ANSWER, **kw)),
        ("chat      to_converse", lambda: chat.to_converse(CHAT_REQUEST)),
        ("gemini    to_gemini (from openai call)", lambda: converse_gemini.to_gemini(openai_call)),
        ("gemini    converse_from_gemini", lambda: converse_gemini.converse_from_gemini(GEMINI_ANSWER)),
        ("usage_from_converse", lambda: usage_from_converse(CONVERSE_ANSWER)),
        ("estimate_prompt_chars", lambda: estimate_prompt_chars(anthropic_call)),
        ("(scale) json.loads openai request", lambda: json.loads(raw_request)),
        ("(scale) json.dumps converse body", lambda: json.dumps(openai_call.body, separators=(",", ":"))),
    ]
    for name, func in rows:
        print(f"{name:42s} {cpu_us(func):8.1f} us")
    total_openai = sum(cpu_us(f) for n, f in rows[0:3])
    total_anthropic = sum(cpu_us(f) for n, f in rows[3:6])
    print(f"{'openai    request+answer+stream total':42s} {total_openai:8.1f} us")
    print(f"{'anthropic request+answer+stream total':42s} {total_anthropic:8.1f} us")
    assert isinstance(openai_call, ConverseCall)


if __name__ == "__main__":
    main()
