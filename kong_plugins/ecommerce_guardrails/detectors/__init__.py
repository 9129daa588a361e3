"""Detection rules of ecommerce-guardrails: plain functions over normalised text, no PDK.

Every rule has an id (`pii.card.number`) and a category (`payment_card`). A detector
returns Findings; a Finding with a span can be masked, one without (an intent rule, or a
match in the squeezed view) can only be blocked or shadowed.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from kong_plugins.ecommerce_guardrails.detectors.literals import leading_literals

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


# An intent rule's match spans less than this on each side of its anchor (bounded gaps).
RADIUS = 400
_MAX_HITS = 2048


_WORD = re.compile(r"\w+")


@functools.lru_cache(maxsize=1024)
def _first_word(anchor: str) -> tuple[str, bool]:
    """The word an anchor starts with ("" if it starts with a symbol), and whether that is all of it."""
    m = _WORD.match(anchor)
    return (m.group(), m.end() == len(anchor)) if m else ("", False)


class AnchorIndex:
    """Where each anchor occurs in one text, found once and shared by every rule.

    Most anchors are absent from most texts. Rather than scanning the text for each one, an
    anchor that starts with a word character is looked up among the text's distinct words
    (sorted, bisect): the rules' regexes put a word boundary before their anchors, so an
    anchor that starts no word cannot be part of a match.
    """

    __slots__ = ("text", "_hits", "_starts", "_words", "word_anchors")

    def __init__(self, text: str, word_anchors: bool = True) -> None:
        self.text = text
        self._hits: dict[str, list[int]] = {}
        self._starts: dict[tuple[tuple[str, ...] | str, bool], list[int]] = {}
        self._words: list[str] | None = None
        # False for the value patterns, whose anchors may sit inside a word ("api_key").
        self.word_anchors = word_anchors

    def _present(self, anchor: str) -> bool:
        word, whole = _first_word(anchor) if self.word_anchors else ("", False)
        if not word:
            return anchor in self.text
        if self._words is None:
            self._words = sorted(set(_WORD.findall(self.text)))
        i = bisect.bisect_left(self._words, word)
        if i == len(self._words) or not self._words[i].startswith(word):
            return False
        return whole or anchor in self.text

    def hits(self, anchor: str) -> list[int]:
        found = self._hits.get(anchor)
        if found is None:
            found = []
            if not self._present(anchor):
                self._hits[anchor] = found
                return found
            i = self.text.find(anchor)
            while i >= 0 and len(found) <= _MAX_HITS:
                found.append(i)
                i = self.text.find(anchor, i + 1)
            self._hits[anchor] = found
        return found

    def present(self, anchors: tuple[str, ...]) -> bool:
        return any(self.hits(anchor) for anchor in anchors)

    def starts(self, literals: tuple[str, ...], boundary: bool) -> list[int]:
        """Every position (sorted, no cap) where one of `literals` occurs. With `boundary`
        the literals follow a `\\b`, so one that starts no word of the text is skipped unseen."""
        key = (literals, boundary)
        found = self._starts.get(key)
        if found is None:
            found = []
            for literal in literals:
                found += self._all(literal, boundary)
            found.sort()
            self._starts[key] = found
        return found

    def _all(self, literal: str, boundary: bool) -> list[int]:
        key = (literal, boundary)
        found = self._starts.get(key)
        if found is None:
            found = []
            if not (boundary and self.word_anchors and not self._present(literal)):
                text = self.text
                i = text.find(literal)
                while i >= 0:
                    found.append(i)
                    i = text.find(literal, i + 1)
            self._starts[key] = found
        return found

    def anchor_hits(self, anchors: tuple[str, ...]) -> list[int] | None:
        """Sorted positions of all `anchors`; None when some were capped (too many to say)."""
        key = (anchors, False)
        found = self._starts.get(key)
        if found is None:
            found = []
            for anchor in anchors:
                found += self.hits(anchor)
            if len(found) > _MAX_HITS:
                return None
            found.sort()
            self._starts[key] = found
        return found

    def windows(self, anchors: tuple[str, ...]) -> list[tuple[int, int]]:
        """Merged spans of RADIUS around every occurrence of an anchor; [] when none occurs."""
        hits: list[int] = []
        for anchor in anchors:
            hits.extend(self.hits(anchor))
        if not hits:
            return []
        if len(hits) > _MAX_HITS:
            return [(0, len(self.text))]
        hits.sort()
        spans: list[tuple[int, int]] = []
        lo, hi = max(0, hits[0] - RADIUS), hits[0] + RADIUS
        for h in hits[1:]:
            if h - RADIUS <= hi:
                hi = h + RADIUS
            else:
                spans.append((lo, min(hi, len(self.text))))
                lo, hi = h - RADIUS, h + RADIUS
        spans.append((lo, min(hi, len(self.text))))
        return spans


def scan(
    pattern: re.Pattern[str], text: str, index: AnchorIndex | None, anchors: tuple[str, ...]
) -> Iterator[re.Match[str]]:
    """finditer over `text`, only in windows around anchors found by `index` (over
    text.lower() when that has the same length, else None: then the whole text is searched)."""
    if index is None:
        yield from pattern.finditer(text)
        return
    end = -1
    for lo, hi in index.windows(anchors):
        for m in pattern.finditer(text, max(lo, end), hi):
            if hi < len(text) and m.end() + 64 >= hi:
                m = pattern.match(text, m.start())  # type: ignore[assignment]
                if m is None:
                    continue
            end = m.end()
            yield m


def lowered(text: str) -> AnchorIndex | None:
    low = text.lower()
    return AnchorIndex(low, word_anchors=False) if len(low) == len(text) else None


class IntentRule:
    """A block-only rule matched on the folded (and squeezed) view.

    `anchors` are substrings of which one is part of every match: the regex only runs in
    windows around them, so most of a long prompt is never looked at by most rules.
    """

    __slots__ = ("rule_id", "category", "pattern", "anchors", "unless", "lead")

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
        # The literals every match starts with (None: the pattern can start anywhere).
        self.lead = leading_literals(self.pattern)

    def find(self, index: AnchorIndex, view: str) -> Finding | None:
        if self.anchors and not index.present(self.anchors):
            return None
        if self.lead is None:
            return self._find_in_windows(index, view)
        text = index.text
        # A match holds an anchor within RADIUS of its start (as for the windows below).
        anchored = index.anchor_hits(self.anchors) if self.anchors else None
        resume = 0  # like finditer: after a match the next one starts at its end
        for pos in index.starts(*self.lead):
            if pos < resume:
                continue
            if anchored is not None:
                i = bisect.bisect_left(anchored, pos)
                if i == len(anchored) or anchored[i] >= pos + RADIUS:
                    continue
            m = self.pattern.match(text, pos)
            if m is None:
                continue
            if self.unless is not None and self.unless.search(text, max(0, m.start() - 60), m.end() + 40):
                resume = m.end()
                continue
            return Finding(
                self.rule_id, self.category, view=view, view_start=m.start(), view_end=m.end(), matched=m.group()
            )
        return None

    def _find_in_windows(self, index: AnchorIndex, view: str) -> Finding | None:
        text = index.text
        for lo, hi in index.windows(self.anchors) if self.anchors else [(0, len(text))]:
            for m in self.pattern.finditer(text, lo, hi):
                if hi < len(text) and m.end() + 64 >= hi:
                    # Near the window's end `$`, `\b` and lookaheads saw a cut text: redo unbounded.
                    m = self.pattern.match(text, m.start())  # type: ignore[assignment]
                    if m is None:
                        continue
                if self.unless is not None and self.unless.search(text, max(0, m.start() - 60), m.end() + 40):
                    continue
                return Finding(
                    self.rule_id, self.category, view=view, view_start=m.start(), view_end=m.end(), matched=m.group()
                )
        return None


def run_intent_rules(
    rules: tuple[IntentRule, ...], folded_index: AnchorIndex, squeezed_index: AnchorIndex | None
) -> list[Finding]:
    """At most one finding per rule; the squeezed view is tried only where folded had none."""
    found: list[Finding] = []
    for rule in rules:
        hit = rule.find(folded_index, "folded")
        if hit is None and squeezed_index is not None:
            hit = rule.find(squeezed_index, "squeezed")
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
