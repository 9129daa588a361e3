"""What a compiled intent regex must start with, read from its parse tree.

Python's `re` cannot skip ahead to a pattern that begins with `\\b(?:verb|verb|...)`: it tries
the whole alternation at every position of the text. When every match starts with one of a
few literal strings, the rule instead finds those strings with `str.find` and calls
`pattern.match` only there, which gives exactly the matches `finditer` would give.
"""

from __future__ import annotations

import re
from re import _constants as sre
from re import _parser
from typing import Any

_MAX_PREFIXES = 256  # more alternatives than this: not worth it, search the usual way


_BOUNDARY = "\ue000"  # marks a prefix that a `\b` precedes (a private-use character)

Lead = tuple[tuple[str, ...], tuple[str, ...]]


def leading_literals(pattern: re.Pattern[str], lowered: bool = False) -> Lead | None:
    """(strings that a `\\b` precedes, other strings): every match starts with one of them. None
    when the pattern can start otherwise (a class, `\\w`, an optional part, ignore-case). With
    `lowered` the strings are looked up in the lower-cased text, so an ignore-case pattern
    written in lower case qualifies."""
    flags = pattern.flags
    if flags & re.IGNORECASE:
        if not lowered:
            return None
        flags &= ~re.IGNORECASE
    try:
        found = _lead(list(_parser.parse(pattern.pattern, flags)))
    # re._parser is private: if it ever changes shape, the rule is searched the slow way.
    except (AttributeError, TypeError, ValueError, IndexError, re.error):
        return None
    if found is None or any(s in ("", _BOUNDARY) or s != s.lower() for s in found[0]):
        return None
    # "hack" covers "hacking": keep the shortest prefixes only.
    shortest: list[str] = []
    for s in sorted(found[0], key=len):
        if not any(s.startswith(p) for p in shortest):
            shortest.append(s)
    words = tuple(s[1:] for s in shortest if s[0] == _BOUNDARY)
    return words, tuple(s for s in shortest if s[0] != _BOUNDARY)


def _lead(items: list[tuple[object, object]]) -> tuple[set[str], bool] | None:
    """(prefixes, complete): every match of the sequence starts with one of the prefixes;
    complete when the prefixes are the whole match (so a following item may extend them)."""
    out = {""}
    for op, av in items:
        if op is sre.AT:  # zero width; a leading `\b` is remembered
            if av is sre.AT_BOUNDARY and out == {""}:
                out = {_BOUNDARY}
            continue
        if op in (sre.ASSERT, sre.ASSERT_NOT):  # lookarounds consume nothing
            continue
        part = _item(op, av)
        if part is None:
            return out, False
        strings, complete = part
        out = {a + b[1:] if a and b[:1] == _BOUNDARY else a + b for a in out for b in strings}
        if len(out) > _MAX_PREFIXES:
            return None
        if not complete:
            return out, False
    return out, True


def _item(op: object, av: Any) -> tuple[set[str], bool] | None:
    if op is sre.LITERAL:
        return {chr(av)}, True
    if op is sre.IN:
        chars = [chr(v) for o, v in av if o is sre.LITERAL]
        return ({*chars}, True) if len(chars) == len(av) else None
    if op is sre.SUBPATTERN:
        add_flags, sub = av[1], av[3]
        return None if add_flags & re.IGNORECASE else _lead(list(sub))
    if op is sre.BRANCH:
        strings: set[str] = set()
        complete = True
        for alternative in av[1]:
            part = _lead(list(alternative))
            if part is None:
                return None
            strings |= part[0]
            complete = complete and part[1]
        return strings, complete
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:
        part = _lead(list(av[2]))
        if part is None:
            return None
        return part[0], part[1] and av[0] == av[1] == 1
    return None
