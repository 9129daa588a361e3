"""docs/architecture/container.md matches the code: plugin names, priorities, phases and ports."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

CONTAINER = Path(__file__).resolve().parents[2] / "docs" / "architecture" / "container.md"
PLUGINS = {
    "ecommerce-guardrails": "ecommerce_guardrails",
    "token-meter": "token_meter",
    "bedrock-proxy": "bedrock_proxy",
}
PHASES = ("access", "response", "log")


def handler(name: str):
    return importlib.import_module(f"kong_plugins.{PLUGINS[name]}.handler")


def phase_rows(text: str) -> dict[str, list[str]]:
    """Rows of the "Phases and priorities" table: plugin -> cells."""
    section = text.split("## Phases and priorities", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] in PLUGINS:
            rows[cells[0]] = cells
    return rows


def problems(text: str) -> list[str]:
    out = []
    rows = phase_rows(text)
    for name in PLUGINS:
        mod = handler(name)
        row = rows.get(name)
        if row is None:
            out.append(f"{name}: no row in the phases table")
            continue
        if row[1] != str(mod.PRIORITY):
            out.append(f"{name}: priority {row[1]} in the doc, {mod.PRIORITY} in the code")
        if not re.search(rf"{re.escape(name)}.*priority {mod.PRIORITY}\b", text):
            out.append(f"{name}: the diagram does not say priority {mod.PRIORITY}")
        for i, phase in enumerate(PHASES, start=2):
            in_code = callable(getattr(mod.Plugin, phase, None))
            in_doc = row[i] not in ("", "-")
            if in_code != in_doc:
                out.append(f"{name}: phase {phase} is {'in' if in_code else 'not in'} the code, not so in the doc")
    ports = dict(re.findall(r"^\| (\d+) \| ([^|]+)\|", text, re.M))
    meter_port = next(f["metrics_port"]["default"] for f in handler("token-meter").SCHEMA if "metrics_port" in f)
    # 8000 and 4010: `make dev`'s front and emulator ports (kong_plugins/testing/dev.py).
    defaults = {str(meter_port): "token-meter", "8000": "proxy", "4010": "emulator"}
    for port, needle in defaults.items():
        if needle.lower() not in ports.get(port, "").lower():
            out.append(f"port {port} ({needle}) missing from the ports table")
    return out


def test_container_doc_matches_the_code():
    assert problems(CONTAINER.read_text()) == []


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("| token-meter | 935 |", "| token-meter | 930 |", "priority 930 in the doc"),
        ("block / mask / shadow | - |", "block / mask / shadow | scan answer |", "phase response is not in the code"),
        ("| 9542 |", "| 9543 |", "port 9542"),
    ],
)  # fmt: skip
def test_a_drifted_doc_fails(old, new, needle):
    text = CONTAINER.read_text()
    assert old in text
    assert any(needle in p for p in problems(text.replace(old, new, 1)))
