"""Detection rules of ecommerce-guardrails: plain functions over normalised text, no PDK.

Every rule has an id (`pii.card.number`) and a category (`payment_card`). A detector
returns Findings; a Finding with a span can be masked, one without (an intent rule, or a
match in the squeezed view) can only be blocked or shadowed.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

from kong_plugins.ecommerce_guardrails import prefilter
from kong_plugins.ecommerce_guardrails.detectors.literals import Lead, leading_literals
from kong_plugins.ecommerce_guardrails.normalize import merged_spans

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


class Literals:
    """The literals that rules look up in one kind of text, found together in one pass.

    One walk over the text finds every occurrence of every literal, where `str.find` per literal
    would walk it hundreds of times: Hyperscan's literal mode on ASCII text, an Aho-Corasick
    automaton (pyahocorasick) otherwise.
    Literals are registered as rules and value patterns are first used; the automaton is rebuilt
    (well under a millisecond) when the set grows, which stops after the first request.

    With `words`, word-led literals are only looked for where they start a word: the automaton
    holds " " + literal with non-word characters as spaces, and walks the text shaped the same
    way behind a leading space. A literal with non-word characters inside ("x-api-key") is then
    confirmed on the real text. Symbol-led literals are left to `str.find`.
    """

    __slots__ = ("words", "known", "_automaton")

    def __init__(self, words: bool) -> None:
        self.words = words
        self.known: frozenset[str] = frozenset()
        self._automaton: tuple[Any, frozenset[str], Any] | None = None

    def add(self, literals: Iterable[str]) -> None:
        new = {lit for lit in literals if lit and lit not in self.known}
        if new:
            self.known = self.known | new
            self._automaton = None

    def automaton(self) -> tuple[Any, frozenset[str], Any]:
        """The automaton, the literals whose positions it gives completely, and the Hyperscan
        twin for ASCII text (None without Hyperscan)."""
        if self._automaton is None:
            served = self.known if not self.words else frozenset(lit for lit in self.known if _first_word(lit)[0])
            keyed: dict[str, Any] = {}
            for literal in sorted(served):
                if not self.words:
                    keyed[literal] = (literal, len(literal) - 1)
                    continue
                shaped = " " + word_shape(literal)
                value = keyed.get(shaped)
                # A literal of several words ("e-mail", "e mail" share a shape) is confirmed on the text.
                literals = (*(value[2] or (value[0],) if value else ()), literal)
                if len(literals) == 1 and _first_word(literal)[1]:  # one word: its shape is itself
                    keyed[shaped] = (literal, len(literal), ())
                else:
                    keyed[shaped] = (None, len(literal), literals)
            automaton = ahocorasick.Automaton()
            for key, value in keyed.items():
                automaton.add_word(key, value)
            if len(automaton):
                automaton.make_automaton()
            fast = prefilter.literal_scanner(list(keyed), list(keyed.values()))
            self._automaton = (automaton, served, fast)
        return self._automaton


_NON_WORD = re.compile(r"\W")
# ASCII is the common case: str.translate does what _NON_WORD.sub does, many times faster.
_ASCII_NON_WORD = str.maketrans({chr(c): " " for c in range(128) if not _WORD.match(chr(c))})


def word_shape(text: str) -> str:
    """`text` with every non-word character as a space (same length)."""
    return text.translate(_ASCII_NON_WORD) if text.isascii() else _NON_WORD.sub(" ", text)


WORD_LITERALS = Literals(words=True)  # intent rules, on the folded views
VALUE_LITERALS = Literals(words=False)  # value patterns, on the lower-cased clean view
_NONE: list[int] = []  # shared "no position"; never mutated
# With at most this many rules left by the prefilter, `str.find` per literal beats the full pass.
_FEW_RULES = 12
_NOT_ASKED: tuple[set[int], int] = (set(), -1)


class AnchorIndex:
    """Where each literal occurs in one text, found once and shared by every rule.

    The rules' regexes put a word boundary before their anchors and leading literals, so in the
    folded views (`word_anchors`) a word-led literal only counts where it starts a word. The
    first look-up runs one Aho-Corasick pass for every registered literal; an unregistered one
    is found with `str.find`. Lists of more than _MAX_HITS positions from `str.find` or of the
    value index mark the literal capped: callers then search the whole text the usual way.
    """

    __slots__ = (
        "text", "ascii", "word_anchors", "_complete", "_at", "_extra", "_merged", "_capped", "_reach", "_flagged"
    )  # fmt: skip

    def __init__(self, text: str, word_anchors: bool = True) -> None:
        self.text = text
        self.ascii = text.isascii()  # then rules run their re.ASCII twins (see ascii_version)
        # False for the value patterns, whose anchors may sit inside a word ("api_key").
        self.word_anchors = word_anchors
        self._complete: frozenset[str] | None = None  # literals the pass served; None before it ran
        # registered literal -> positions (word starts if word-led)
        self._at: defaultdict[str, list[int]] = defaultdict(list)
        self._extra: dict[tuple[str, bool], list[int]] = {}  # unregistered literals, found on demand
        self._merged: dict[tuple[tuple[str, ...], bool], list[int] | None] = {}
        self._capped: set[str] = set()
        self._reach: dict[tuple[str, ...], list[tuple[int, int]] | None] = {}
        self._flagged: tuple[set[int], int] | None = _NOT_ASKED

    def may_match(self, serial: int) -> bool:
        """False when the prefilter says intent rule number `serial` cannot match this text."""
        flagged = self._flagged
        if flagged is _NOT_ASKED:
            flagged = self._flagged = self._prefilter()
        return flagged is None or serial >= flagged[1] or serial in flagged[0]

    def _prefilter(self) -> tuple[set[int], int] | None:
        found = prefilter.current() if self.word_anchors and self.ascii else None
        hits = found.flagged(self.text) if found is not None else None
        return None if found is None or hits is None else (hits, found.count)

    def _scan(self) -> frozenset[str]:
        flagged = self._flagged
        if flagged is not None and flagged is not _NOT_ASKED and len(flagged[0]) <= _FEW_RULES:
            self._complete = frozenset()  # few rules left to run: find their literals one by one
            return self._complete
        if self.word_anchors:
            _register_rules()
            automaton, complete, fast = WORD_LITERALS.automaton()
        else:
            automaton, complete, fast = VALUE_LITERALS.automaton()
        self._complete = complete
        if not len(automaton):
            return complete
        at, text = self._at, self.text
        data = " " + word_shape(text) if self.word_anchors else text
        hits = fast.iter(data) if fast is not None else None
        if self.word_anchors:
            for end, (literal, back, confirm) in automaton.iter(data) if hits is None else hits:
                if literal is not None:
                    at[literal].append(end - back)
                    continue
                for literal in confirm:  # a literal with symbols inside: compare on the text
                    if text.startswith(literal, end - back):
                        at[literal].append(end - back)
        else:
            for end, (literal, back) in automaton.iter(data) if hits is None else hits:
                at[literal].append(end - back)
            self._capped.update(lit for lit, found in at.items() if len(found) > _MAX_HITS)
        return complete

    def occurrences(self, literal: str, word_start: bool) -> list[int]:
        """Sorted positions of `literal`; in a folded view those of a word-led literal are
        where it starts a word."""
        complete = self._complete if self._complete is not None else self._scan()
        if literal in complete and (word_start or not self.word_anchors):
            return self._at.get(literal, _NONE)
        key = (literal, word_start and self.word_anchors)
        found = self._extra.get(key)
        if found is not None:
            return found
        text = self.text
        found = []
        if key[1] and _first_word(literal)[0]:
            i = text.find(literal)
            while i >= 0:
                if i == 0 or not ((c := text[i - 1]).isalnum() or c == "_"):
                    found.append(i)
                i = text.find(literal, i + 1)
        else:
            i = text.find(literal)
            while i >= 0 and len(found) <= _MAX_HITS:
                found.append(i)
                i = text.find(literal, i + 1)
            if i >= 0:
                self._capped.add(literal)
        self._extra[key] = found
        return found

    def hits(self, anchor: str) -> list[int]:
        return self.occurrences(anchor, True)

    def present(self, anchors: tuple[str, ...]) -> bool:
        complete = self._complete if self._complete is not None else self._scan()
        at = self._at
        for anchor in anchors:  # a plain loop: this runs for every rule on every text
            if anchor in at:
                return True
            if anchor not in complete and self.occurrences(anchor, True):
                return True
        return False

    def merged(self, literals: tuple[str, ...], word_start: bool) -> list[int] | None:
        """Sorted positions of any of `literals` (see `occurrences`); None when a list was capped."""
        key = (literals, word_start)
        found = self._merged.get(key, _NONE)
        if found is not _NONE:
            return found
        complete = self._complete if self._complete is not None else self._scan()
        at, served = self._at, word_start or not self.word_anchors
        found = []
        for literal in literals:  # most literals of a rule are absent: one dict look-up each
            hit = at.get(literal) if served else None
            if hit is not None:
                found += hit
            elif not served or literal not in complete:
                found += self.occurrences(literal, word_start)
        found.sort()
        result = None if self._capped and any(literal in self._capped for literal in literals) else found
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
        return merged_spans(hits, RADIUS, RADIUS, len(self.text))

    def reach(self, anchors: tuple[str, ...]) -> list[tuple[int, int]] | None:
        """Merged [anchor - RADIUS + 1, anchor] spans: where a match holding one of `anchors`
        can start. None when an anchor list was capped."""
        found = self._reach.get(anchors, _NO_REACH)
        if found is _NO_REACH:
            hits = self.merged(anchors, True)
            found = None if hits is None else merged_spans(hits, RADIUS - 1, 0, len(self.text)) if hits else []
            self._reach[anchors] = found
        return found


_NO_REACH: list[tuple[int, int]] = []


def _before_anchors(starts: list[int], reach: list[tuple[int, int]]) -> list[int]:
    """The starts inside `reach` (AnchorIndex.reach): those with an anchor at most RADIUS - 1
    after them, as a match holds an anchor near its start."""
    if len(reach) == 1 and reach[0][0] <= starts[0] and starts[-1] <= reach[0][1]:
        return starts  # dense text: one span covers every start
    kept: list[int] = []
    spans = iter(reach)
    lo, hi = next(spans)
    for p in starts:
        while p > hi:
            nxt = next(spans, None)
            if nxt is None:
                return kept
            lo, hi = nxt
        if p >= lo:
            kept.append(p)
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
    lead = _lowered_lead(pattern)
    if (pattern, anchors) not in _value_patterns:  # first use: its literals join the one-pass search
        _value_patterns.add((pattern, anchors))
        VALUE_LITERALS.add((*anchors, *(lead[0] + lead[1] if lead else ())))
    if anchors and not index.present(anchors):
        return  # every match holds an anchor; fewer of them than leading literals to look up
    if index.ascii:
        pattern = ascii_version(pattern)
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


_value_patterns: set[tuple[re.Pattern[str], tuple[str, ...]]] = set()


@functools.lru_cache(maxsize=512)
def ascii_version(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """`pattern` compiled with re.ASCII. On ASCII text both match alike (\\w, \\d, \\s and \\b
    agree there; cleaned text has none of the \\x1c-\\x1f that only Unicode \\s knows), but the
    Unicode one asks the Unicode database about every character it tests against \\w or \\d."""
    return re.compile(pattern.pattern, (pattern.flags & ~re.UNICODE) | re.ASCII)


@functools.lru_cache(maxsize=256)
def _lowered_lead(pattern: re.Pattern[str]) -> Lead | None:
    return leading_literals(pattern, lowered=True)


def lowered(text: str) -> AnchorIndex | None:
    low = text.lower()
    if len(low) != len(text):
        return None
    index = AnchorIndex(low, word_anchors=False)
    index.ascii = text.isascii()  # the patterns run on `text` itself ("\u212a".lower() is ASCII)
    return index


_RULES: list[IntentRule] = []  # every intent rule, for WORD_LITERALS
_registered = [0]  # how many of _RULES have their literals in WORD_LITERALS


def intent_patterns() -> list[str]:
    """Every intent rule's regex, in rule order: what the prefilter is built from."""
    return [rule.pattern.pattern for rule in _RULES]


def _register_rules() -> None:
    """Called before a scan: rules built since (and engine's anchor sharing, which runs at import,
    before any scan) add their anchors and leading literals."""
    if _registered[0] != len(_RULES):
        WORD_LITERALS.add(
            lit for rule in _RULES for lit in (*rule.anchors, *(rule.lead[0] + rule.lead[1] if rule.lead else ()))
        )
        _registered[0] = len(_RULES)


class IntentRule:
    """A block-only rule matched on the folded view (and the squeezed, decoded, deleet ones).

    `anchors` are substrings of which one is part of every match: the regex only runs in
    windows around them, so most of a long prompt is never looked at by most rules.
    """

    __slots__ = ("rule_id", "category", "pattern", "anchors", "unless", "lead", "_ascii", "serial")

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
        self._ascii = (ascii_version(self.pattern), ascii_version(unless) if unless is not None else None)
        self.serial = len(_RULES)  # its id in the prefilter
        _RULES.append(self)

    def find(self, index: AnchorIndex, view: str) -> Finding | None:
        if not index.may_match(self.serial):
            return None
        if self.anchors and not index.present(self.anchors):
            return None
        if self.lead is None:
            return self._find_in_windows(index, view)
        text = index.text
        pattern, unless = self._ascii if index.ascii else (self.pattern, self.unless)
        # A match holds an anchor within RADIUS of its start (as for the windows below).
        words, others = self.lead
        starts = index.merged(words, True)
        if others and starts is not None:
            more = index.merged(others, False)
            starts = None if more is None else sorted(starts + more)
        if starts is None:
            return self._find_in_windows(index, view)  # too many to list: search the usual way
        reach = index.reach(self.anchors) if self.anchors else None
        if reach is not None and starts:
            starts = _before_anchors(starts, reach)
        resume = 0  # like finditer: after a match the next one starts at its end
        for pos in starts:
            if pos < resume:
                continue
            m = pattern.match(text, pos)
            if m is None:
                continue
            if unless is not None and unless.search(text, max(0, m.start() - 60), m.end() + 40):
                resume = m.end()
                continue
            return Finding(
                self.rule_id, self.category, view=view, view_start=m.start(), view_end=m.end(), matched=m.group()
            )
        return None

    def _find_in_windows(self, index: AnchorIndex, view: str) -> Finding | None:
        text = index.text
        pattern, unless = self._ascii if index.ascii else (self.pattern, self.unless)
        for lo, hi in index.windows(self.anchors) if self.anchors else [(0, len(text))]:
            for m in pattern.finditer(text, lo, hi):
                if hi < len(text) and m.end() + 64 >= hi:
                    # Near the window's end `$`, `\b` and lookaheads saw a cut text: redo unbounded.
                    m = pattern.match(text, m.start())  # type: ignore[assignment]
                    if m is None:
                        continue
                if unless is not None and unless.search(text, max(0, m.start() - 60), m.end() + 40):
                    continue
                return Finding(
                    self.rule_id, self.category, view=view, view_start=m.start(), view_end=m.end(), matched=m.group()
                )
        return None


# Block-only views beyond folded and squeezed, by name: ("decoded", index), ("deleet", index).
Extra = Sequence[tuple[str, AnchorIndex]]


def run_intent_rules(
    rules: tuple[IntentRule, ...], folded_index: AnchorIndex, squeezed_index: AnchorIndex | None, extra: Extra = ()
) -> list[Finding]:
    """At most one finding per rule; each further view (squeezed, then `extra` in order) is
    tried only where the ones before had none."""
    found: list[Finding] = []
    for rule in rules:
        hit = rule.find(folded_index, "folded")
        if hit is None and squeezed_index is not None:
            hit = rule.find(squeezed_index, "squeezed")
        if hit is None:
            for name, index in extra:
                hit = rule.find(index, name)
                if hit is not None:
                    break
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
