"""Held-out prompts (corpus/heldout.yaml), never used to tune the rules: the honest estimate
for new phrasings. Prints both figures; asserts only the false-positive budget, because
recall on unseen intent phrasing is known to be lower (docs/decisions/0060)."""

from __future__ import annotations

import yaml

from .helpers import HERE, decide


def test_heldout_prompts():
    data = yaml.safe_load((HERE / "corpus" / "heldout.yaml").read_text(encoding="utf-8"))
    false_positives = [
        e for e in data["benign"] if decide(e["text"], e.get("role", "guest")).action in ("block", "mask")
    ]
    missed = [e for e in data["attacks"] if decide(e["text"]).action not in ("block", "mask")]
    recall = 1 - len(missed) / len(data["attacks"])
    print(
        f"\nheld-out: false positives {len(false_positives)}/{len(data['benign'])}, "
        f"recall {recall:.0%} ({len(data['attacks']) - len(missed)}/{len(data['attacks'])})"
    )
    for entry in missed:
        print(f"  missed [{entry['category']}]: {entry['text'][:80]!r}")
    assert len(false_positives) / len(data["benign"]) <= 0.01, [e["text"] for e in false_positives]
