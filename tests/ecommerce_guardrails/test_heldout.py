"""Held-out prompts, never used to tune the rules: the honest estimate for new phrasings.
Prints false positives and recall per file; asserts only loose floors, because recall on
unseen intent phrasing is known to be lower (docs/decisions/0060).

heldout.yaml  (30 benign, 20 attacks): first run 1/30 FP (bug, fixed), recall 10/20; joined
              prompts.yaml as training data in the generalisation round (file removed).
heldout2.yaml (92 benign, 73 attacks), written before the generalisation round, without
              reading the rules. Before the round: FP 2/92 (2.2%, both abuse.account_takeover
              on defensive ops/dev questions), recall 26/73 (36%: card 5/14, credentials 5/14,
              SQL 10/14, abuse 6/31). Measured once after the round (not tuned on since): FP 2/92
              (the same two), recall 34/73 (47%: card 5/14, credentials 5/14, SQL 13/14, abuse 11/31).
              Those two false positives were then fixed (prompted by this file, so its FP figure is
              no longer blind): FP 0/92, recall unchanged. Then the decoded and deleet views, for
              tricks seen in its misses (so not blind either): recall 38/73 (52%: card 6/14,
              credentials 6/14, SQL 14/14, abuse 12/31), FP 0/92.
"""

from __future__ import annotations

import pytest
import yaml

from .helpers import HERE, decide

# file -> (max false-positive rate, min recall): floors that hold, not targets.
FLOORS = {"heldout2.yaml": (0.03, 0.40)}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_heldout_prompts(name: str) -> None:
    data = yaml.safe_load((HERE / "corpus" / name).read_text(encoding="utf-8"))
    false_positives = [
        e for e in data["benign"] if decide(e["text"], e.get("role", "guest")).action in ("block", "mask")
    ]
    missed = [e for e in data["attacks"] if decide(e["text"]).action not in ("block", "mask")]
    fp_rate = len(false_positives) / len(data["benign"])
    recall = 1 - len(missed) / len(data["attacks"])
    print(
        f"\n{name}: false positives {len(false_positives)}/{len(data['benign'])} ({fp_rate:.1%}), "
        f"recall {recall:.0%} ({len(data['attacks']) - len(missed)}/{len(data['attacks'])})"
    )
    for entry in false_positives:
        print(f"  false positive: {entry['text'][:80]!r}")
    for entry in missed:
        print(f"  missed [{entry['category']}]: {entry['text'][:80]!r}")
    max_fp, min_recall = FLOORS[name]
    assert fp_rate <= max_fp, [e["text"] for e in false_positives]
    assert recall >= min_recall, [e["text"] for e in missed]
