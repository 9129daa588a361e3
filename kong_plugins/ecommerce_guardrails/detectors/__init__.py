"""Detection rules of ecommerce-guardrails: plain functions over normalised text, no PDK.

Every rule has an id (`pii.card.number`) and a category (`payment_card`). A detector
returns Findings; a Finding with a span can be masked, one without (an intent rule, or a
match in the squeezed view) can only be blocked or shadowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PAYMENT_CARD = "payment_card"
CREDENTIALS = "credentials"
SQL_INJECTION = "sql_injection"
ABUSE = "abuse"
CATEGORIES: tuple[str, ...] = (PAYMENT_CARD, CREDENTIALS, SQL_INJECTION, ABUSE)


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    category: str
    # Span in Views.clean when the match can be masked, else (-1, -1).
    start: int = -1
    end: int = -1
    # Text that replaces the span when masking; None when the finding cannot be masked.
    replacement: str | None = None
    # Position of the match in the view it was found in, for the allow-list lookup.
    view: str = "clean"
    view_start: int = -1
    view_end: int = -1
    # The matched text, only for the operator allow-list; never logged or exported.
    matched: str = field(default="", repr=False)

    @property
    def maskable(self) -> bool:
        return self.replacement is not None and self.start >= 0


def redacted(category: str) -> str:
    return f"[REDACTED:{category}]"


@dataclass(frozen=True, slots=True)
class Options:
    """Detector settings taken from the plugin config."""

    allow_test_cards: bool = True  # well-known public test PANs are not cardholder data
    card_keep_bin: bool = True  # mask as first six + last four (else last four only)
    window_budget: int = 50_000  # card windows checked per body before giving up (fail closed)


class IntentRule:
    """A block-only rule matched on the folded (and squeezed) view.

    `anchors` are plain substrings of which at least one must occur before the (slower)
    regex runs: most prompts contain none of them.
    """

    __slots__ = ("rule_id", "category", "pattern", "anchors", "unless")

    def __init__(
        self, rule_id: str, category: str, pattern: str, anchors: tuple[str, ...], unless: re.Pattern[str] | None = None
    ) -> None:
        self.rule_id = rule_id
        self.category = category
        self.pattern = re.compile(pattern)
        self.anchors = anchors
        # Words around a match that make it a question about the abuse, not a request for it
        # ("how do we detect promo abuse?"). Only intent rules have it; values never do.
        self.unless = unless

    def find(self, text: str, view: str) -> Finding | None:
        if self.anchors and not any(a in text for a in self.anchors):
            return None
        for m in self.pattern.finditer(text):
            if self.unless is not None and (self.unless.search(text, max(0, m.start() - 60), m.end() + 40)):
                continue
            return Finding(
                self.rule_id, self.category, view=view, view_start=m.start(), view_end=m.end(), matched=m.group()
            )
        return None


def run_intent_rules(rules: tuple[IntentRule, ...], folded: str, squeezed: str | None) -> list[Finding]:
    """At most one finding per rule; the squeezed view is tried only where folded had none."""
    found: list[Finding] = []
    for rule in rules:
        hit = rule.find(folded, "folded")
        if hit is None and squeezed is not None:
            hit = rule.find(squeezed, "squeezed")
        if hit is not None:
            found.append(hit)
    return found


# Shared by the abuse and credential-theft intent rules.
DEFENSIVE = re.compile(
    r"\b(?:prevent\w*|detect\w*|protect(?:ion)? (?:against|from|our|my|us)|"
    r"stop (?:people|fraudsters|scammers|bots|them|this)|"
    r"report(?:ing)? (?:it|this|them|a|an|the|fake|fraud|abuse|phishing|scams?|suspicious)|"
    r"(?:where|how) (?:do|can|should) (?:i|we) report|resist\w*|harden\w*|secure (?:against|our|the)|"
    r"flag(?:ged|ging)?|spot(?:ting)?|identify\w*|fight\w*|mitigat\w*|defend\w*|fraud team|risk team|"
    r"security team|is it (?:legal|illegal|allowed|a crime)|penalt\w*|scammed|phished|victim of|signs of|recogni[sz]e|"
    r"warn\w* (?:customers|users|shoppers)|training (?:for|on)|awareness)\b"
)
