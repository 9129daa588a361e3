"""A Hyperscan prefilter over every intent rule: one pass over the text says which rules can
match at all, and only those run their Python regex.

Hyperscan's prefilter mode compiles each pattern to an automaton that matches a superset of
what the pattern matches (lookarounds dropped, bounded repeats widened), so a rule it does not
report cannot match and skipping it changes no decision. On a 10 KB prompt of trap-word shop
questions it reports one or two of ~60 rules where the Python path would try them all.

Compiling takes seconds, so the database is built once and kept in a file named by a hash of
the patterns and the Hyperscan version: at image build (Dockerfile.kong runs
`python -m kong_plugins.ecommerce_guardrails.prefilter DIR`), else in a background thread of
the first plugin server that needs it. Until it is loaded, and where Hyperscan is not
installed (no aarch64 wheel) or the text is not ASCII, the Python path runs alone. Decision
docs/decisions/0092-guardrails-hyperscan-prefilter.md.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

try:
    import hyperscan
except ImportError:  # optional: no wheel for this platform
    hyperscan = None  # type: ignore[assignment]

DIR_ENV = "GUARDRAILS_PREFILTER_DIR"


class Prefilter:
    """Which of `count` patterns (by position) may match an ASCII text."""

    __slots__ = ("database", "count", "_scratch")

    def __init__(self, database: Any, count: int) -> None:
        self.database = database
        self.count = count
        self._scratch = hyperscan.Scratch(database)

    def flagged(self, text: str) -> set[int] | None:
        """The positions of the patterns that may match; None when it cannot tell (non-ASCII)."""
        if not text.isascii():
            return None
        hits: set[int] = set()

        def on_match(pattern_id: int, start: int, end: int, flags: int, context: Any) -> None:
            hits.add(pattern_id)

        _scan(self.database, self._scratch, text, on_match)
        return hits


class LiteralScanner:
    """Every occurrence of many literals in an ASCII text, in one Hyperscan pass: faster than
    pyahocorasick's walk, which pays a child search per character (bench_guardrails.py prints
    both). Compiles in milliseconds."""

    __slots__ = ("database", "values", "_scratch")

    def __init__(self, keys: Sequence[str], values: Sequence[Any]) -> None:
        self.values = list(values)
        self.database = _compile(keys, 0, literal=True)
        self._scratch = hyperscan.Scratch(self.database)

    def iter(self, text: str) -> list[tuple[int, Any]] | None:
        """(index of the last character, value) per occurrence, like pyahocorasick's `iter`;
        None when the text is not ASCII (byte and character offsets would differ)."""
        if not text.isascii():
            return None
        values = self.values
        hits: list[tuple[int, Any]] = []

        def on_match(key_id: int, start: int, end: int, flags: int, context: Any) -> None:
            hits.append((end - 1, values[key_id]))

        _scan(self.database, self._scratch, text, on_match)
        hits.sort(key=_end)
        return hits


def _scan(database: Any, scratch: Any, text: str, on_match: Callable[..., None]) -> None:
    data = text.encode("ascii")
    try:
        database.scan(data, match_event_handler=on_match, scratch=scratch)
    except hyperscan.ScratchInUseError:  # another OS thread is scanning: give this one its own
        database.scan(data, match_event_handler=on_match, scratch=hyperscan.Scratch(database))


def _compile(expressions: Sequence[str], flags: int, literal: bool = False) -> Any:
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=[e.encode("utf-8") for e in expressions],
        ids=list(range(len(expressions))),
        elements=len(expressions),
        flags=[flags] * len(expressions),
        literal=literal,
    )
    return database


def _end(hit: tuple[int, Any]) -> int:
    return hit[0]


def literal_scanner(keys: Sequence[str], values: Sequence[Any]) -> LiteralScanner | None:
    if hyperscan is None or not keys or not all(k.isascii() for k in keys):
        return None
    try:
        return LiteralScanner(keys, values)
    except hyperscan.error:
        return None


_current: list[Prefilter | None] = [None]
_started: set[str] = set()


def current() -> Prefilter | None:
    return _current[0]


def key(patterns: Sequence[str]) -> str:
    digest = hashlib.sha256(str(getattr(hyperscan, "__version__", "")).encode())
    for pattern in patterns:
        digest.update(pattern.encode("utf-8") + b"\0")
    return digest.hexdigest()[:24]


def default_dir() -> Path:
    return Path(os.environ.get(DIR_ENV) or Path(tempfile.gettempdir()) / "kong-guardrails-prefilter")


def compile_database(patterns: Sequence[str]) -> Any:
    flags = hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_ALLOWEMPTY | hyperscan.HS_FLAG_SINGLEMATCH
    return _compile(patterns, flags)


def load(patterns: Sequence[str], directory: Path) -> Prefilter | None:
    path = directory / f"{key(patterns)}.hsdb"
    try:
        blob = path.read_bytes()
        return Prefilter(hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK), len(patterns))
    except (OSError, hyperscan.error):
        return None


def build(patterns: Sequence[str], directory: Path) -> Prefilter:
    """Compile and store (atomically, so concurrent builders cannot leave half a file)."""
    database = compile_database(patterns)
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "wb") as out:
        out.write(hyperscan.dumpb(database))
    os.replace(tmp, directory / f"{key(patterns)}.hsdb")
    return Prefilter(database, len(patterns))


Ready = Callable[[str, float], None]  # (how: "loaded" | "built" | "failed", seconds)


def ensure(
    patterns: Sequence[str],
    spawn: Callable[[Callable[[], None]], None],
    on_ready: Ready | None = None,
    directory: Path | None = None,
) -> None:
    """Load the stored database now (a few ms), or build it with `spawn` (a native thread: the
    compile releases the GIL, so requests keep being served meanwhile). Once per pattern set."""
    if hyperscan is None or not patterns:
        return
    directory = directory or default_dir()
    wanted = key(patterns)
    if wanted in _started:
        return
    _started.add(wanted)
    started = time.monotonic()
    loaded = load(patterns, directory)
    if loaded is not None:
        _current[0] = loaded
        if on_ready is not None:
            on_ready("loaded", time.monotonic() - started)
        return

    def background() -> None:
        try:
            _current[0] = build(patterns, directory)
            how = "built"
        except Exception:  # noqa: BLE001 - a missing prefilter only costs speed
            how = "failed"
        if on_ready is not None:
            on_ready(how, time.monotonic() - started)

    spawn(background)


def main() -> None:
    """`python -m kong_plugins.ecommerce_guardrails.prefilter [DIR]`: build the database (image build)."""
    from kong_plugins.ecommerce_guardrails.engine import intent_patterns

    if hyperscan is None:
        print("hyperscan is not installed: the guardrails run without a prefilter", file=sys.stderr)
        return
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else default_dir()
    build(intent_patterns(), directory)
    print(f"guardrails prefilter stored in {directory}", file=sys.stderr)


if __name__ == "__main__":
    main()
