"""`python -m kong_plugins.testing.validate [--root DIR] [CHECK ...]`: run the deployment
validators (all by default), print one line per check and every problem; exit 1 on any."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kong_plugins.testing.validate.runner import CHECKS, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kong_plugins.testing.validate")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (default: cwd)")
    parser.add_argument("checks", nargs="*", choices=[[], *CHECKS], help="checks to run (default: all)")
    args = parser.parse_args(argv)
    results = run(args.root, args.checks or list(CHECKS))
    for res in results:
        status = "ok  " if res.ok else "FAIL"
        print(f"{status} {res.name:<12} {len(res.files):>3} file(s) {res.seconds:5.1f}s")
        for note in res.notes:
            print(f"     note: {note}")
        for problem in res.problems:
            print(f"     {problem}")
    failed = [r.name for r in results if not r.ok]
    if failed:
        print(f"validate: FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"validate: {len(results)} checks passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
