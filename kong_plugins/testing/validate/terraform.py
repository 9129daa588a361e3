"""Terraform without providers or network: every file must parse as HCL2 (python-hcl2),
be formatted the way `terraform fmt` formats it, pin its versions and document its
variables and outputs; checkov (see tools.py) then scans the configuration."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2

from kong_plugins.testing.validate.result import Problems, find_tool, run_tool

EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def _s(value: Any) -> str:
    """python-hcl2 keeps string quotes; drop them."""
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def parse(path: Path) -> tuple[dict[str, Any] | None, Problems]:
    try:
        return hcl2.loads(path.read_text()), []
    except Exception as exc:  # python-hcl2 raises lark errors of several kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, [f"{path}: HCL parse error: {first}"]


def _blocks(doc: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for entry in doc.get(kind, []):
        for label, body in entry.items():
            if label != "__is_block__" and isinstance(body, dict):
                out.append((_s(label), body))
    return out


def check_structure(path: Path, doc: dict[str, Any]) -> Problems:
    problems: Problems = []
    for name, body in _blocks(doc, "variable"):
        if not _s(body.get("description", "")).strip():
            problems.append(f"{path}: variable {name}: no description")
        if "type" not in body:
            problems.append(f"{path}: variable {name}: no type")
    for name, body in _blocks(doc, "output"):
        if not _s(body.get("description", "")).strip():
            problems.append(f"{path}: output {name}: no description")
    for name, body in _blocks(doc, "module"):
        source = _s(body.get("source", ""))
        if source.startswith(("./", "../")):
            continue
        if not EXACT_VERSION.match(_s(body.get("version", ""))):
            problems.append(f"{path}: module {name}: registry source {source} must pin an exact version")
    for block in doc.get("terraform", []):
        if "required_providers" in block and "required_version" not in block:
            problems.append(f"{path}: terraform block: no required_version")
        for providers in block.get("required_providers", []):
            for pname, spec in providers.items():
                if pname == "__is_block__":
                    continue
                if not isinstance(spec, dict) or not _s(spec.get("version", "")).strip():
                    problems.append(f"{path}: provider {pname}: no version constraint")
                elif not isinstance(spec, dict) or "source" not in spec:
                    problems.append(f"{path}: provider {pname}: no source")
    return problems


# -- terraform fmt style ------------------------------------------------------------------
_ATTR = re.compile(r"^(\s*)([A-Za-z_][\w-]*|\"[^\"]*\")(\s*)=(?!=)(\s*)(.*)$")
_HEREDOC = re.compile(r"<<-?([A-Z_]+)\s*$")


def _brackets(line: str) -> list[str]:
    """The brackets of a line in order, ignoring strings, interpolations and comments."""
    out, in_str, i = [], False, 0
    while i < len(line):
        ch = line[i]
        if in_str:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "#" or line.startswith("//", i):
            break
        elif ch in "{[()]}":
            out.append(ch)
        i += 1
    return out


def _leading_closers(line: str) -> int:
    n = 0
    for ch in line.strip():
        if ch in ")]}":
            n += 1
        elif not ch.isspace():
            break
    return n


def _pop(stack: list[int], count: int) -> None:
    while count > 0 and stack:
        stack[-1] -= 1
        if stack[-1] == 0:
            stack.pop()
        count -= 1


def fmt_problems(path: Path, text: str) -> Problems:
    """What `terraform fmt` would change: indentation (two spaces per line that opened
    brackets), `=` alignment within a run of single-line attributes, tabs, trailing spaces,
    final newline."""
    problems: Problems = []
    if text and not text.endswith("\n"):
        problems.append(f"{path}: missing final newline")
    if text.endswith("\n\n"):
        problems.append(f"{path}: blank lines at end of file")
    stack: list[int] = []  # brackets still open, per line that opened them
    heredoc: str | None = None
    run: list[tuple[int, int, int]] = []  # (line number, key end column, '=' column)

    def flush() -> None:
        if len(run) > 1:
            want = max(k for _, k, _ in run) + 1
            for lineno, _, eq in run:
                if eq != want:
                    problems.append(f"{path}:{lineno}: '=' not aligned with the attributes around it")
        elif len(run) == 1 and run[0][2] != run[0][1] + 1:
            problems.append(f"{path}:{run[0][0]}: exactly one space before '='")
        run.clear()

    for lineno, line in enumerate(text.split("\n"), start=1):
        if heredoc is not None:
            if line.strip() == heredoc:
                heredoc = None
            continue
        if "\t" in line:
            problems.append(f"{path}:{lineno}: tab character")
        if line != line.rstrip():
            problems.append(f"{path}:{lineno}: trailing whitespace")
        if not line.strip():
            flush()
            continue
        probe = list(stack)
        _pop(probe, _leading_closers(line))
        want = 2 * len(probe)
        indent = len(line) - len(line.lstrip(" "))
        if indent != want:
            problems.append(f"{path}:{lineno}: indented {indent} spaces, terraform fmt uses {want}")
        brackets = _brackets(line)
        opened = 0
        for ch in brackets:
            if ch in "{[(":
                opened += 1
            elif opened:
                opened -= 1
            else:
                _pop(stack, 1)
        if opened:
            stack.append(opened)
        m = _ATTR.match(line)
        heredoc_start = _HEREDOC.search(line)
        if m and (not brackets or (opened == 0 and brackets[0] in "{[(")):
            key_end = len(m.group(1)) + len(m.group(2))
            run.append((lineno, key_end, key_end + len(m.group(3))))
            if len(m.group(4)) != 1:
                problems.append(f"{path}:{lineno}: exactly one space after '='")
        else:
            flush()
        if heredoc_start:
            heredoc = heredoc_start.group(1)
    flush()
    return problems


def check_fmt(paths: list[Path]) -> Problems:
    """`terraform fmt -check` when the binary exists (it needs no providers), else the
    built-in style check; both are run when possible and every finding is reported."""
    problems: Problems = []
    for path in paths:
        problems += fmt_problems(path, path.read_text())
    exe = find_tool("terraform")
    if exe:
        targets = [str(p) for p in paths if p.suffix in (".tf", ".tfvars")]
        code, out = run_tool([exe, "fmt", "-check", "-diff", "-no-color", *targets])
        if code != 0:
            problems.append(f"terraform fmt -check failed:\n{_strip_cli_warning(out)}")
    return problems


def _strip_cli_warning(out: str) -> str:
    return "\n".join(
        line for line in out.splitlines() if "CLI configuration" not in line and not line.startswith(("│", "╷", "╵"))
    )


def check(paths: list[Path]) -> Problems:
    problems: Problems = []
    for path in paths:
        doc, errs = parse(path)
        problems += errs
        if doc is not None:
            problems += check_structure(path, doc)
    problems += check_fmt(paths)
    return problems
