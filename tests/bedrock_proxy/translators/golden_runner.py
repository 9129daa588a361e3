"""Loads the golden tables and turns each translator's output into plain JSON data.

A table is golden/<name>.yaml: `function` (module.function of the translators package) and
`cases`, each with `input`, optional `kwargs`, and either `expected` (the output) or `error`
(status and the start of the message). Streams are compared as their parsed SSE events.
Run with GOLDEN_UPDATE=1 to fill in missing `expected` values, then review the diff.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
from pathlib import Path
from typing import Any

import yaml

from kong_plugins.bedrock_proxy.translators.call import ConverseCall

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("GOLDEN_UPDATE") == "1"


def load_tables() -> dict[Path, dict[str, Any]]:
    return {path: yaml.safe_load(path.read_text()) for path in sorted(GOLDEN.glob("*.yaml"))}


def resolve(name: str) -> Any:
    module, _, func = name.rpartition(".")
    return getattr(importlib.import_module(f"kong_plugins.bedrock_proxy.translators.{module}"), func)


def call(function: str, case: dict[str, Any]) -> Any:
    func = resolve(function)
    arg = case["input"]
    if function == "converse_gemini.to_gemini":
        arg = ConverseCall(**arg)
    if function == "native.usage_from_invoke":
        return func(arg.get("body"), arg.get("headers"))
    return func(arg, **case.get("kwargs", {}))


def parse_sse(raw: bytes) -> list[Any]:
    """SSE bytes -> [data] (OpenAI) or [{event, data}] (Anthropic); checks the framing."""
    text = raw.decode()
    assert text.endswith("\n\n"), "an SSE body ends with a blank line"
    events: list[Any] = []
    for frame in text[:-2].split("\n\n"):
        fields = dict(line.split(": ", 1) for line in frame.split("\n"))
        assert set(fields) <= {"event", "data"}, frame
        data = fields["data"] if fields["data"] == "[DONE]" else json.loads(fields["data"])
        events.append({"event": fields["event"], "data": data} if "event" in fields else data)
    return events


def plain(value: Any) -> Any:
    """The translator output as JSON data."""
    if isinstance(value, bytes):
        return parse_sse(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def save(path: Path, table: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(table, sort_keys=False, allow_unicode=True, width=110))
