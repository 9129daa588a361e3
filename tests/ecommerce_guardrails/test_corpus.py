"""The labelled corpus through the real plugin server: false positives on benign prompts at
most 1%, recall on attacks at least 98%. Both figures are printed (run with -s to see them).

Prompts go to the echo route (key-auth + ecommerce-guardrails, no model call), eight at a
time. A prompt counts as flagged when the gateway blocked it (X-Guardrail-Rule) or masked
it (X-Guardrail-Masked). Each prompt is sent as its role: benign ops/analyst/developer
prompts as those roles, attacks as a guest.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import requests

from .helpers import load_corpus, prompt_text

KEYS = {"guest": "guest-key", "ecommerce_ops": "ops-key", "analyst": "analyst-key", "developer": "dev-key"}


def _flagged(session: requests.Session, url: str, entry: dict) -> tuple[dict, bool, str]:
    body = json.dumps({"messages": [{"role": "user", "content": prompt_text(entry)}]}).encode()
    headers = {"Content-Type": "application/json", "X-API-Key": KEYS[entry.get("role", "guest")]}
    r = session.post(url, data=body, headers=headers, timeout=60)
    assert r.status_code in (200, 400), (r.status_code, r.text[:200])  # never a 500
    rule = r.headers.get("X-Guardrail-Rule") or r.headers.get("X-Guardrail-Masked") or ""
    return entry, bool(rule), rule


def test_corpus_false_positives_and_recall(gw):
    corpus = load_corpus()
    url = gw.url + "/echo/v1/chat"
    entries = corpus["benign"] + corpus["attacks"]
    with ThreadPoolExecutor(8) as pool, requests.Session() as session:
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=8))
        results = list(pool.map(lambda e: _flagged(session, url, e), entries))
    benign = [(e, rule) for e, flagged, rule in results[: len(corpus["benign"])] if flagged]
    missed = [e for e, flagged, _ in results[len(corpus["benign"]) :] if not flagged]
    fp_rate = len(benign) / len(corpus["benign"])
    recall = 1 - len(missed) / len(corpus["attacks"])
    print(
        f"\nguardrail corpus through the plugin server: {len(corpus['benign'])} benign, "
        f"{len(corpus['attacks'])} attacks; false positives {fp_rate:.1%} ({len(benign)}), "
        f"recall {recall:.1%} ({len(corpus['attacks']) - len(missed)}/{len(corpus['attacks'])})"
    )
    for entry, rule in benign:
        print(f"  false positive [{rule}]: {entry['text'][:80]!r}")
    for entry in missed:
        print(f"  missed [{entry['category']}]: {entry['text'][:80]!r}")
    assert fp_rate <= 0.01
    assert recall >= 0.98


def test_every_category_has_attacks_and_obfuscations():
    corpus = load_corpus()
    categories = {e["category"] for e in corpus["attacks"]}
    assert categories == {"payment_card", "credentials", "sql_injection", "abuse"}
    assert len(corpus["benign"]) + len(corpus["attacks"]) >= 300
    obfuscated = [e for e in corpus["attacks"] if e.get("note") or e.get("pad_before")]
    assert {e["category"] for e in obfuscated} == categories
