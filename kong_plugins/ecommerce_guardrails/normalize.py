"""Text normalisation before matching, so that look-alike spellings cannot evade a rule.

Two views of the scanned text are built:
- `clean`: Unicode NFKC (full-width digits and letters become ASCII), zero-width, bidi and
  control characters removed. Case and layout are kept, so positions in it can be masked
  and written back upstream.
- `folded`: `clean` case-folded, common Cyrillic/Greek look-alikes mapped to Latin, and
  whitespace collapsed. Intent rules (block only, no positions) match here, plus on a
  `squeezed` copy where runs of spaced-out single characters ("s e l e c t") are joined.
Two more block-only copies of `folded` exist only when the text shows the trick (a cheap look
first, so ordinary text pays a few memchr calls): `decoded` (percent-encoding and HTML entities
undone, "%27%20or%201%3d1" -> "' or 1=1") and `deleet` (leetspeak inside words undone,
"p4ssw0rd" -> "password"; numbers, prices and codes with other digits stay as they are).
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import unquote_plus

# Characters that render as nothing (or only steer layout) and are used to split keywords.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]"
)
# C0/C1 controls except tab, newline and carriage return (NUL too: it separates segments).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The same characters as _CONTROL, for str.translate: on ASCII text it is several times faster.
_DELETE_CONTROL = str.maketrans(dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]))
_ASCII_BREAKS = str.maketrans("\t\n\r", "   ")
_OTHER_DIGITS = re.compile(r"(?:(?![0-9])\d)")  # Arabic-Indic, Devanagari, ... decimal digits
# Four or more single characters, each followed by exactly one separator: "s e l e c t",
# "p.a.s.s.w.o.r.d", "b-y-p-a-s-s". A double space ends the run, so words stay apart.
_SPACED_RUN = re.compile(r"(?<!\w)(?:\w[ .\-_*·|]){3,}\w(?!\w)")
_SPACED_HINT = re.compile(r"[ .\-_*·|]\w[ .\-_*·|]\w[ .\-_*·|]")  # cheap first look (starts with a class)
_RUN_SEPARATORS = re.compile(r"[ .\-_*·|]")
# For ASCII text without "_" (a word character and a separator at once) the hint is a plain
# substring test after mapping letters/digits to "a", separators to " ", the rest to "#".
_HINT_SHAPE = str.maketrans(
    {chr(c): "a" if chr(c).isalnum() else " " if chr(c) in " .-*|" else "#" for c in range(128)}
)

# Letters of other scripts that look like Latin ones (after case folding).
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
        "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
        "ɡ": "g", "ο": "o", "α": "a", "ν": "v", "ρ": "p", "τ": "t", "κ": "k", "ι": "i", "ε": "e",
        "υ": "u", "χ": "x", "ѵ": "v", "ӏ": "l", "ɩ": "i",
    }
)  # fmt: skip

SEPARATOR = "\x00"  # joins the text segments of one body; never left inside a segment


def clean(text: str) -> str:
    """NFKC, without invisible and control characters. Case and line breaks are kept."""
    if text.isascii():
        return text.translate(_DELETE_CONTROL)
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    # NFKC can produce characters removed above (rare); a second pass is cheap.
    text = _INVISIBLE.sub("", text)
    if _OTHER_DIGITS.search(text):
        text = _OTHER_DIGITS.sub(lambda m: str(unicodedata.digit(m.group(), 0)), text)
    return _CONTROL.sub("", text)


def casefold(cleaned: str) -> str:
    """Case-folded with look-alike letters mapped to Latin; layout kept."""
    text = cleaned.casefold()
    return text if text.isascii() else text.translate(_CONFUSABLES)


def collapse(text: str) -> str:
    if text.isascii():  # after clean(), ASCII whitespace is space, tab, LF and CR
        spaced = text.translate(_ASCII_BREAKS) if "\n" in text or "\t" in text or "\r" in text else text
        if "  " not in spaced:
            return spaced.strip()  # split/join below would build one string per word
    return " ".join(text.split())  # str.split() knows the same whitespace as re's \s


def fold(cleaned: str) -> str:
    """Case-folded, look-alikes mapped, whitespace collapsed: the view intent rules match."""
    return collapse(casefold(cleaned))


def squeeze(text: str) -> str | None:
    """Spaced-out single characters joined ("s e l e c t" -> "select"); None when there are
    none. Runs on the uncollapsed text, so two or more spaces still separate words."""
    if text.isascii() and "_" not in text:
        if " a a " not in text.translate(_HINT_SHAPE):
            return None
    elif not _SPACED_HINT.search(text):
        return None
    if not _SPACED_RUN.search(text):
        return None
    return _SPACED_RUN.sub(lambda m: _RUN_SEPARATORS.sub("", m.group()), text)


# Percent-encoded bytes and HTML character references ("&#39;", "&#x27;", "&apos;").
_PERCENT = re.compile(r"%[0-9a-f]{2}")
_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9a-f]+|[a-z][a-z0-9]{1,9});")


# A long text gets these views only around the tricks: a finding there holds a changed
# character, and a match reaches less than RADIUS (400) either side of its anchor.
_MARGIN = 1000
_WORD_SLACK = 100  # a part is widened to whole words, up to this much


def merged_spans(sorted_hits: list[int], before: int, after: int, end: int) -> list[tuple[int, int]]:
    """[hit - before, hit + after] around each hit, overlapping ones merged, clipped to [0, end]."""
    spans: list[tuple[int, int]] = []
    lo, hi = max(0, sorted_hits[0] - before), sorted_hits[0] + after
    for h in sorted_hits:
        if h - before <= hi:
            hi = h + after
        else:
            spans.append((lo, min(hi, end)))
            lo, hi = h - before, h + after
    spans.append((lo, min(hi, end)))
    return spans


def _around(text: str, spots: list[int]) -> list[str]:
    """The parts of `text` within _MARGIN of a spot (sorted), in order; [text] when short."""
    n = len(text)
    if n <= 4 * _MARGIN or not spots:
        return [text]
    parts = []
    for lo, hi in merged_spans(spots, _MARGIN, _MARGIN, n):
        if lo > 0:
            back = max(0, lo - _WORD_SLACK)
            lo = max(text.rfind(" ", back, lo), text.rfind(SEPARATOR, back, lo), lo - 1) + 1
        if hi < n:
            ends = (text.find(" ", hi, hi + _WORD_SLACK), text.find(SEPARATOR, hi, hi + _WORD_SLACK))
            hi = min((i for i in ends if i >= 0), default=hi)
        parts.append(text[lo:hi])
    return parts


def decode(folded: str) -> str | None:
    """`folded` with percent-encoding and HTML entities undone (up to three layers, for
    "%2527"), folded again; None when the text has neither."""
    if not (("%" in folded and _PERCENT.search(folded)) or ("&" in folded and _ENTITY.search(folded))):
        return None
    spots: list[int] = []
    if len(folded) > 4 * _MARGIN:
        spots = sorted(m.start() for pattern in (_PERCENT, _ENTITY) for m in pattern.finditer(folded))
    parts = []
    for part in SEPARATOR.join(_around(folded, spots)).split(SEPARATOR):  # "%00" must not split a segment
        for _ in range(3):
            decoded = html.unescape(unquote_plus(part))
            if decoded == part:
                break
            part = decoded
        parts.append(fold(clean(part)))
    decoded = SEPARATOR.join(parts)
    return decoded if decoded != folded else None


_LEET_CHARS = "013457@$"
# "1" is "i" (cr3d1t) as often as "l" (exp1oit): a second copy reads it as "l" when it occurs.
_LEET = str.maketrans(_LEET_CHARS, "oieastas")
# ASCII shape for the cheap look: letters "a", digits 0 1 3 4 5 7 "1", "@" and "$" "$", rest " ".
_LEET_SHAPE = bytes(
    ord("a") if chr(c).isalpha() and c < 128 else ord("1") if chr(c) in "013457" else ord("$") if chr(c) in "@$"
    else ord(" ") for c in range(256)
)  # fmt: skip
# Literal patterns: re looks for their rare first byte in a C loop (bytes.find would test
# every "a" of the shape, the frequent last byte).
_LEET_NEEDLES = (re.compile(rb"1a"), re.compile(rb"\$a"))
_LEET_HINT = re.compile(r"[a-z][013457@$]+[a-z]|(?<![\w@$.])[@$][a-z]")  # non-ASCII text only
# Words mixing letters with 0 1 3 4 5 7 @ $ (a pure number never matches). Tried only where a
# word starts, so the greedy scan back to the mixed pair is linear.
_LEET_TOKEN = re.compile(r"(?<![a-z0-9@$])[a-z0-9@$]*(?:[a-z][013457@$]|[013457@$][a-z])[a-z0-9@$]*")
_DOMAIN = re.compile(r"[a-z0-9-]+\.[a-z]")


def _leet_spots(folded: str) -> list[int]:
    """Where a digit, "@" or "$" sits between letters, or "@"/"$" starts a word (not an
    e-mail's "@"); only the first one when the text is short."""
    if not any(c in folded for c in _LEET_CHARS):  # memchr each: most text stops here
        return []
    every = len(folded) > 4 * _MARGIN
    spots = []
    if not folded.isascii():
        for m in _LEET_HINT.finditer(folded):
            if m.group()[0] != "@" or not _DOMAIN.match(folded, m.start() + 1):
                spots.append(m.start())
                if not every:
                    break
        return spots
    shape = folded.encode("ascii").translate(_LEET_SHAPE)
    needles = _LEET_NEEDLES if "@" in folded or "$" in folded else _LEET_NEEDLES[:1]
    for needle in needles:
        for found in needle.finditer(shape):
            i = j = found.start()
            while j > 0 and shape[j - 1] in b"1$":
                j -= 1
            if (shape[i] == ord("$") or (j > 0 and shape[j - 1] == ord("a"))) and not (
                folded[i] == "@" and _DOMAIN.match(folded, i + 1)
            ):
                spots.append(i)
                if not every:
                    return spots
    return sorted(spots)


def _deleet_token(m: re.Match[str]) -> str:
    token = m.group()
    word = token.translate(_LEET)
    if not word.isalpha() or (len(token) < 4 and sum(map(str.isalpha, token)) < 2):
        return token  # a code with other digits ("b2b", "128gb"), or "x1", "4k"
    if "@" in token and _DOMAIN.match(m.string, m.end() - token[::-1].index("@")):
        return token  # an e-mail address
    return word


def deleet(folded: str) -> tuple[str, str | None] | None:
    """`folded` with leetspeak undone inside words ("cr3d1t c4rd" -> "credit card"; same
    length), and a copy with "1" as "l" when a changed word has a "1" (else None). None when
    nothing looks like leetspeak."""
    spots = _leet_spots(folded)
    if not spots:
        return None
    source = SEPARATOR.join(_around(folded, spots))
    text = _LEET_TOKEN.sub(_deleet_token, source)
    if text == source:
        return None
    folded = source
    chars = None  # same length: the "l" copy only differs where a "1" became "i"
    i = folded.find("1")
    while i >= 0:
        if text[i] == "i":
            chars = chars or list(text)
            chars[i] = "l"
        i = folded.find("1", i + 1)
    return text, "".join(chars) if chars else None


class Views:
    """The views of one body's text segments, joined with SEPARATOR."""

    __slots__ = ("clean", "folded", "squeezed", "decoded", "deleet", "deleet_l", "offsets")

    def __init__(self, segments: list[str]) -> None:
        parts = [clean(s) for s in segments]
        self.clean = SEPARATOR.join(parts)
        # offsets[i] = where segment i starts in `clean`
        self.offsets: list[int] = []
        pos = 0
        for part in parts:
            self.offsets.append(pos)
            pos += len(part) + 1
        folded = casefold(self.clean)
        self.folded = collapse(folded)
        squeezed = squeeze(folded)
        self.squeezed: str | None = collapse(squeezed) if squeezed is not None else None
        self.decoded = decode(self.folded)
        leet = deleet(self.folded)
        self.deleet: str | None = leet[0] if leet is not None else None
        self.deleet_l: str | None = leet[1] if leet is not None else None

    def view(self, name: str) -> str:
        """The text of a block-only view by its name in Finding.view (folded when unknown)."""
        text = getattr(self, name, None) if name in ("squeezed", "decoded", "deleet", "deleet_l") else None
        return text if text is not None else self.folded

    def segment_of(self, pos: int) -> int:
        """Index of the segment that holds position `pos` of `clean`."""
        lo, hi = 0, len(self.offsets) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.offsets[mid] <= pos:
                lo = mid
            else:
                hi = mid - 1
        return lo
