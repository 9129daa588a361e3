"""Text normalisation before matching, so that look-alike spellings cannot evade a rule.

Two views of the scanned text are built:
- `clean`: Unicode NFKC (full-width digits and letters become ASCII), zero-width, bidi and
  control characters removed. Case and layout are kept, so positions in it can be masked
  and written back upstream.
- `folded`: `clean` case-folded, common Cyrillic/Greek look-alikes mapped to Latin, and
  whitespace collapsed. Intent rules (block only, no positions) match here, plus on a
  `squeezed` copy where runs of spaced-out single characters ("s e l e c t") are joined.
"""

from __future__ import annotations

import re
import unicodedata

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


class Views:
    """The views of one body's text segments, joined with SEPARATOR."""

    __slots__ = ("clean", "folded", "squeezed", "offsets")

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
