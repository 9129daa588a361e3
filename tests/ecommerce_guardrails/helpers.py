"""Shared helpers of the ecommerce-guardrails tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from kong_plugins.ecommerce_guardrails.engine import Decision, evaluate
from kong_plugins.ecommerce_guardrails.policy import Policy

HERE = Path(__file__).parent
CORPUS = HERE / "corpus" / "prompts.yaml"
CONFIGS = HERE / "configs"
PAD_UNIT = "The quick brown fox orders a scarf in size M and pays on delivery. "


def load_corpus() -> dict[str, list[dict[str, Any]]]:
    return yaml.safe_load(CORPUS.read_text(encoding="utf-8"))


def prompt_text(entry: dict[str, Any]) -> str:
    pad = int(entry.get("pad_before", 0))
    padding = (PAD_UNIT * (pad // len(PAD_UNIT) + 1))[:pad] if pad else ""
    return padding + entry["text"]


def chat(text: str) -> bytes:
    return json.dumps({"messages": [{"role": "user", "content": text}]}).encode()


def decide(text: str, role: str = "guest", policy: Policy | None = None) -> Decision:
    return evaluate(chat(text), role, policy or Policy())


def rules(text: str, role: str = "guest", policy: Policy | None = None) -> list[str]:
    return [f.rule_id for f, _ in decide(text, role, policy).outcomes]
