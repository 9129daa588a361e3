"""One body in, one decision out: parse, normalise, detect, apply the role's policy, mask.

This is the whole plugin minus the PDK: the handler reads the body and the role, calls
`evaluate`, and answers, rewrites or passes the request accordingly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kong_plugins.ecommerce_guardrails.detectors import (
    CATEGORIES,
    AnchorIndex,
    Finding,
    abuse,
    credentials,
    intent_patterns,
    lowered,
    payment_card,
    sql_injection,
)
from kong_plugins.ecommerce_guardrails.masking import apply_masks
from kong_plugins.ecommerce_guardrails.normalize import SEPARATOR, Views, fold
from kong_plugins.ecommerce_guardrails.policy import Policy
from kong_plugins.ecommerce_guardrails.scanner import Parsed, parse

_ORDER = {c: i for i, c in enumerate(CATEGORIES)}


def _share_anchors() -> None:
    """Replace each intent rule's anchors by the shortest anchor (of any rule) they start with:
    windows only grow, and far fewer distinct substrings are searched per text."""
    rules = [r for m in (payment_card, credentials, sql_injection, abuse) for r in m.INTENT_RULES]
    every = sorted({a for r in rules for a in r.anchors}, key=len)
    for rule in rules:
        rule.anchors = tuple(dict.fromkeys(next(b for b in every if a.startswith(b)) for a in rule.anchors))


_share_anchors()

__all__ = ["Decision", "detect", "evaluate", "intent_patterns"]


@dataclass
class Decision:
    action: str  # allow | block | mask | shadow (the strongest outcome)
    outcomes: list[tuple[Finding, str]] = field(default_factory=list)  # each finding with its action
    body: bytes | None = None  # the masked body to send upstream

    @property
    def blocking(self) -> Finding | None:
        return next((f for f, a in self.outcomes if a == "block"), None)


def detect(parsed: Parsed, views: Views, policy: Policy) -> list[Finding]:
    folded = AnchorIndex(views.folded)
    squeezed = AnchorIndex(views.squeezed) if views.squeezed is not None else None
    clean_index = lowered(views.clean)
    # Built only when the text shows the trick; SQL rules read decoded text only (deleet would
    # turn digits of a payload into letters).
    decoded = [("decoded", AnchorIndex(views.decoded))] if views.decoded is not None else []
    leet = [
        (name, AnchorIndex(text)) for name, text in (("deleet", views.deleet), ("deleet_l", views.deleet_l)) if text
    ]
    extra = decoded + leet
    findings = payment_card.detect(views.clean, clean_index, folded, squeezed, policy.options, extra)
    findings += credentials.detect(views.clean, clean_index, folded, squeezed, extra)
    for i, segment in enumerate(parsed.segments):
        if segment.key is not None:
            end = views.offsets[i + 1] - 1 if i + 1 < len(views.offsets) else len(views.clean)
            keyed = credentials.find_keyed_value(segment.key, views.offsets[i], views.clean[views.offsets[i] : end])
            if keyed is not None:
                findings.append(keyed)
    findings += sql_injection.detect(folded, squeezed, decoded)
    findings += abuse.detect(folded, squeezed, extra)
    return findings


def evaluate(body: bytes, role: str, policy: Policy) -> Decision:
    if not body:
        return Decision("allow")
    parsed = parse(body)
    if not parsed.segments:
        return Decision("allow")
    views = Views([s.text for s in parsed.segments])
    findings = [f for f in detect(parsed, views, policy) if not _allow_listed(f, views, policy)]
    if not findings:
        return Decision("allow")
    outcomes = [(f, policy.action(role, f)) for f in findings]
    outcomes = [(f, a) for f, a in outcomes if a != "allow"]
    outcomes.sort(key=lambda o: (("block", "mask", "shadow").index(o[1]), _ORDER[o[0].category]))
    if not outcomes:
        return Decision("allow")
    strongest = outcomes[0][1]
    if strongest == "mask":
        masks = [f for f, a in outcomes if a == "mask"]
        try:
            return Decision("mask", outcomes, apply_masks(parsed, views, masks))
        except RecursionError:  # parsed, but nested too deep for json.dumps: never forward it unmasked
            return Decision("block", [(f, "block") for f, _ in outcomes])
    return Decision(strongest, outcomes)


def _allow_listed(finding: Finding, views: Views, policy: Policy) -> bool:
    if not policy.allow_phrases and not policy.allow_patterns:
        return False
    if finding.start >= 0:
        text = views.clean
        matched = fold(text[finding.start : finding.end]).strip()
        pos = finding.start
    else:
        text = views.view(finding.view)
        matched = finding.matched.strip()
        pos = min(finding.view_start, len(text))
    seg_start = text.rfind(SEPARATOR, 0, pos) + 1
    seg_end = text.find(SEPARATOR, pos)
    segment = text[seg_start : seg_end if seg_end >= 0 else len(text)]
    if finding.start >= 0:
        segment = fold(segment)
    return policy.allowed((matched, segment.strip()))
