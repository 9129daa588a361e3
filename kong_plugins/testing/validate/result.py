"""What a check returns, and how a missing tool is reported (as a failure, never a skip)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

Problems = list[str]


@dataclass
class CheckResult:
    name: str
    files: list[Path]
    problems: Problems = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def find_tool(name: str) -> str | None:
    """A tool from the project venv's bin (next to this interpreter) or from PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    return shutil.which(name)


def run_tool(argv: list[str], cwd: Path | None = None, timeout: float = 120) -> tuple[int, str]:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def missing_tool(name: str, how: str) -> str:
    return f"{name} not found: {how}"
