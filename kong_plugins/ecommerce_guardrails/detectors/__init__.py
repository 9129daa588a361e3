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

from kong_plugins.ecommerce_guardrails.detectors.literals import Lead, leading_literals

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
_PREFILL_MAX_WORDS = 300  # measured: 1 KB prompts have ~100 distinct words, 10 KB ones ~700


_WORD = re.compile(r"\w+")
_NON_WORD = re.compile(r"\W")
# ASCII is the common case: str.translate does what _NON_WORD.sub does, many times faster.
_ASCII_NON_WORD = str.maketrans({chr(c): " " for c in range(128) if not _WORD.match(chr(c))})


@functools.lru_cache(maxsize=1024)
def _first_word(anchor: str) -> tuple[str, bool]:
    """The word an anchor starts with ("" if it starts with a symbol), and whether that is all of it."""
    m = _WORD.match(anchor)
    return (m.group(), m.end() == len(anchor)) if m else ("", False)


class AnchorIndex:
    """Where each anchor occurs in one text, found once and shared by every rule.

    The rules' regexes put a word boundary before their anchors and leading literals, so one
    that starts with a word character can only matter where it starts a word. The text's words
    are listed once with where they start (non-word characters turned into spaces by
    `str.translate`, then `split`): a literal is then a bisect among the distinct words and a
    few dict look-ups, where `str.find` would scan the whole text once per literal (hundreds
    of them). Symbol-led literals are found with `str.find`.
    """

    __slots__ = ("text", "word_anchors", "_words", "_at", "_hits", "_merged", "_capped", "_prefilled")

    def __init__(self, text: str, word_anchors: bool = True) -> None:
        self.text = text
        # False for the value patterns, whose anchors may sit inside a word ("api_key").
        self.word_anchors = word_anchors
        self._words: list[str] | None = None  # distinct words, sorted
        self._at: dict[str, list[int]] = {}  # word -> where it starts
        self._hits: dict[tuple[str, bool], list[int]] = {}
        self._merged: dict[tuple[tuple[str, ...], bool], list[int] | None] = {}
        self._capped: set[str] = set()  # literals found more than _MAX_HITS times by str.find
        self._prefilled = False  # every registry literal's positions are in _hits

    def _index_words(self) -> list[str]:
        text = self.text
        spaced = text.translate(_ASCII_NON_WORD) if text.isascii() else _NON_WORD.sub(" ", text)
        at = self._at
        pos = 0
        for word in spaced.split(" "):  # one space each: positions add up
            if word:
                where = at.get(word)
                if where is None:
                    at[word] = [pos]
                else:
                    where.append(pos)
            pos += len(word) + 1
        self._words = sorted(at)
        if len(at) <= _PREFILL_MAX_WORDS:
            self._prefill(at)
            self._prefilled = True
        return self._words

    def _prefill(self, at: dict[str, list[int]]) -> None:
        """Positions of every rule's word literals at once, walking the text's distinct words:
        with few distinct words that is far fewer steps than one look-up per literal (~450).
        With many, the walk (words x prefix lengths) costs more and literals are looked up."""
        by_first, lengths, _ = _registry()
        hits, text = self._hits, self.text
        for word, where in at.items():
            for n in lengths:
                if n > len(word):
                    break
                for literal in by_first.get(word[:n], ()):
                    found = where if len(literal) == n else [p for p in where if text.startswith(literal, p)]
                    if found:
                        key = (literal, True)
                        before = hits.get(key)
                        hits[key] = found if before is None else sorted(before + found)

    def occurrences(self, literal: str, word_start: bool) -> list[int]:
        """Sorted positions of `literal`; with `word_start` only those where it starts a word.
        A symbol-led literal (or a non-word index) is found with `str.find`, at most
        _MAX_HITS + 1 times: callers treat more as "everywhere"."""
        key = (literal, word_start)
        found = self._hits.get(key)
        if found is not None:
            return found
        word, whole = _first_word(literal) if word_start and self.word_anchors else ("", False)
        text = self.text
        found = []
        if word:
            if self._words is None:
                self._index_words()
                found = self._hits.get(key)
                if found is not None:
                    return found
                found = []
            if self._prefilled and literal in _registry()[2]:
                self._hits[key] = found  # prefilled when present: so it is absent
                return found
            words = self._words or []
            first = i = bisect.bisect_left(words, word)
            while i < len(words) and words[i].startswith(word):
                found = found + self._at[words[i]] if found else self._at[words[i]]  # never mutated
                i += 1
            if not whole:
                found = [p for p in found if text.startswith(literal, p)]
            if i - first > 1:  # several words ("order", "orders"): merge their positions
                found = sorted(found)
        else:
            i = text.find(literal)
            while i >= 0 and len(found) <= _MAX_HITS:
                found.append(i)
                i = text.find(literal, i + 1)
            if i >= 0:
                self._capped.add(literal)
        self._hits[key] = found
        return found

    def hits(self, anchor: str) -> list[int]:
        return self.occurrences(anchor, True)

    def present(self, anchors: tuple[str, ...]) -> bool:
        hits = self._hits
        for anchor in anchors:  # a plain loop: this runs for every rule on every text
            found = hits.get((anchor, True))
            if found is None:
                found = self.occurrences(anchor, True)
            if found:
                return True
        return False

    def merged(self, literals: tuple[str, ...], word_start: bool) -> list[int] | None:
        """Sorted positions of any of `literals` (see `occurrences`); None when a list was capped."""
        key = (literals, word_start)
        if key in self._merged:
            return self._merged[key]
        found: list[int] = []
        hits = self._hits
        for literal in literals:
            found += hits.get((literal, word_start)) or self.occurrences(literal, word_start)
        found.sort()
        capped = self._capped and any(literal in self._capped for literal in literals)
        result = None if capped else found
        self._merged[key] = result
        return result

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


def _before_anchors(starts: list[int], anchored: list[int]) -> list[int]:
    """The starts that have an anchor at most RADIUS - 1 after them (a match holds an anchor
    near its start, as for the windows). Walks the shorter of the two sorted lists."""
    if len(starts) <= len(anchored):
        end = len(anchored)
        return [p for p in starts if (i := bisect.bisect_left(anchored, p)) < end and anchored[i] < p + RADIUS]
    kept: list[int] = []
    done = 0  # starts[:done] are decided
    for h in anchored:
        lo = bisect.bisect_right(starts, h - RADIUS, done)
        hi = bisect.bisect_right(starts, h, lo)
        if hi > lo:
            kept += starts[lo:hi]
            done = hi
    return kept


def scan(
    pattern: re.Pattern[str], text: str, index: AnchorIndex | None, anchors: tuple[str, ...]
) -> Iterator[re.Match[str]]:
    """finditer over `text`, only where it can match: at the pattern's leading literals when it
    has some, else in windows around anchors. `index` is over text.lower() when that has the
    same length, else None: then the whole text is searched."""
    if index is None:
        yield from pattern.finditer(text)
        return
    if anchors and not index.present(anchors):
        return  # every match holds an anchor; fewer of them than leading literals to look up
    lead = _lowered_lead(pattern)
    starts = index.merged(lead[0] + lead[1], False) if lead is not None else None
    if starts is not None:
        resume = 0  # like finditer: the next match starts after this one
        for pos in starts:
            if pos >= resume:
                m = pattern.match(text, pos)
                if m is not None:
                    resume = m.end()
                    yield m
        return
    end = -1
    for lo, hi in index.windows(anchors):
        for m in pattern.finditer(text, max(lo, end), hi):
            if hi < len(text) and m.end() + 64 >= hi:
                m = pattern.match(text, m.start())
                if m is None:
                    continue
            end = m.end()
            yield m


@functools.lru_cache(maxsize=256)
def _lowered_lead(pattern: re.Pattern[str]) -> Lead | None:
    return leading_literals(pattern, lowered=True)


def lowered(text: str) -> AnchorIndex | None:
    low = text.lower()
    return AnchorIndex(low, word_anchors=False) if len(low) == len(text) else None


_RULES: list[IntentRule] = []  # every intent rule, for the literal registry
_REGISTRY: dict[int, tuple[dict[str, list[str]], list[int], frozenset[str]]] = {}


def _registry() -> tuple[dict[str, list[str]], list[int], frozenset[str]]:
    """(first word -> word-led literals of all rules, those words' lengths, all such literals).
    Built on first use, i.e. after engine shared the anchors; a literal added later is simply
    looked up one by one."""
    found = _REGISTRY.get(len(_RULES))
    if found is None:
        by_first: dict[str, list[str]] = {}
        for rule in _RULES:
            for literal in (*rule.anchors, *(rule.lead[0] if rule.lead else ())):
                word = _first_word(literal)[0]
                if word and literal not in by_first.setdefault(word, []):
                    by_first[word].append(literal)
        literals = frozenset(lit for lits in by_first.values() for lit in lits)
        found = _REGISTRY[len(_RULES)] = (by_first, sorted({len(w) for w in by_first}), literals)
    return found


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
        _RULES.append(self)

    def find(self, index: AnchorIndex, view: str) -> Finding | None:
        if self.anchors and not index.present(self.anchors):
            return None
        if self.lead is None:
            return self._find_in_windows(index, view)
        text = index.text
        # A match holds an anchor within RADIUS of its start (as for the windows below).
        words, others = self.lead
        starts = index.merged(words, True)
        if others and starts is not None:
            more = index.merged(others, False)
            starts = None if more is None else sorted(starts + more)
        if starts is None:
            return self._find_in_windows(index, view)  # too many to list: search the usual way
        anchored = index.merged(self.anchors, True) if self.anchors else None
        if anchored is not None:
            starts = _before_anchors(starts, anchored)
        resume = 0  # like finditer: after a match the next one starts at its end
        for pos in starts:
            if pos < resume:
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
