"""Runs the examples of docs/examples.md: parses the fenced blocks and their `# expect:` lines,
runs bash blocks with the real curl and Python blocks with this interpreter, checks the result.

Expectation lines (comments at the top of a block):
  # expect: status 200
  # expect: header <name> = <value>      (name case-insensitive, exact value)
  # expect: header <name>                (present)
  # expect: json <a.b[0].c> = <value>    (compared as text; JSON strings without quotes)
  # expect: body contains <text>
  # expect: stdout contains <text>       (Python blocks)
A block whose first line is `# production: not executed` is shown, not run.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples.md"
LOCAL_URL = "http://localhost:8000"
PRODUCTION_MARK = "# production: not executed"
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```\s*$", re.M | re.S)
EXPECT = re.compile(r"^#\s*expect:\s*(.+?)\s*$")


@dataclass
class Example:
    lang: str
    code: str
    line: int
    expects: list[str] = field(default_factory=list)

    @property
    def production(self) -> bool:
        return self.code.startswith(PRODUCTION_MARK)

    @property
    def id(self) -> str:
        return f"{self.lang}@L{self.line}"


def parse(text: str) -> list[Example]:
    out = []
    for m in FENCE.finditer(text):
        lang, code = m.group(1), m.group(2)
        if lang not in ("bash", "python", "sh"):
            continue
        expects = [e.group(1) for line in code.splitlines() if (e := EXPECT.match(line.strip()))]
        out.append(Example(lang, code, text.count("\n", 0, m.start()) + 1, expects))
    return out


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


def last_response(stdout: str) -> Response | None:
    """The last HTTP response that `curl -si` printed (a loop prints several)."""
    starts = [m.start() for m in re.finditer(r"(?m)^HTTP/\d(?:\.\d)? \d{3}", stdout)]
    if not starts:
        return None
    text = stdout[starts[-1] :]
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Response(int(lines[0].split()[1]), headers, body.strip())


def json_path(doc: Any, path: str) -> Any:
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        doc = doc[int(part[1:-1])] if part.startswith("[") else doc[part]
    return doc


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def check(example: Example, stdout: str) -> list[str]:
    """Each expectation that does not hold, as a message."""
    failures: list[str] = []
    resp = last_response(stdout) if example.lang != "python" else None
    for exp in example.expects:
        kind, _, rest = exp.partition(" ")
        if kind == "stdout" and rest.startswith("contains "):
            needle = rest[len("contains ") :]
            if needle not in stdout:
                failures.append(f"stdout lacks {needle!r}")
            continue
        if resp is None:
            failures.append(f"{exp}: no HTTP response in the output")
            continue
        if kind == "status":
            if str(resp.status) != rest.strip():
                failures.append(f"status {resp.status}, expected {rest.strip()}")
        elif kind == "header":
            name, eq, value = rest.partition(" = ")
            got = resp.headers.get(name.strip().lower())
            if got is None:
                failures.append(f"no header {name.strip()}")
            elif eq and got != value:
                failures.append(f"header {name.strip()} = {got!r}, expected {value!r}")
        elif kind == "json":
            path, _, value = rest.partition(" = ")
            try:
                got = _text(json_path(json.loads(resp.body), path.strip()))
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                failures.append(f"json {path.strip()}: {type(exc).__name__} in {resp.body[:200]!r}")
                continue
            if got != value:
                failures.append(f"json {path.strip()} = {got!r}, expected {value!r}")
        elif kind == "body" and rest.startswith("contains "):
            needle = rest[len("contains ") :]
            if needle not in resp.body:
                failures.append(f"body lacks {needle!r}: {resp.body[:300]!r}")
        else:
            failures.append(f"unknown expectation {exp!r}")
    return failures


def run(example: Example, base_url: str, timeout: float = 90) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of the example against the gateway at base_url."""
    code = example.code.replace(LOCAL_URL, base_url)
    env = {**os.environ, "GATEWAY_URL": base_url}
    if example.lang == "python":
        cmd = [sys.executable, "-c", code]
    else:
        cmd = ["bash", "-o", "pipefail", "-c", code]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    return proc.returncode, proc.stdout, proc.stderr


def verify(example: Example, base_url: str) -> list[str]:
    if not example.expects:
        return ["no `# expect:` line: a local example must say what it expects"]
    rc, out, err = run(example, base_url)
    failures = [] if rc == 0 else [f"exit code {rc}: {err[-800:]}"]
    return failures + check(example, out)


class DevGateway:
    """`python -m kong_plugins.testing.dev` offline on free ports, as `make dev` runs it."""

    def __init__(self, workdir: Path, timeout: float = 90) -> None:
        env = {**os.environ, "GATEWAY_OFFLINE": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kong_plugins.testing.dev", "--port", "0", "--emulator-port", "0",
             "--config", str(ROOT / "kong-local.yaml")],
            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()
        self.output: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                line = ""
            self.output.append(line)
            m = re.search(r"gateway ready in [0-9.]+s: (http://127\.0\.0\.1:\d+)", line)
            if m:
                self.url = m.group(1)
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the dev gateway did not start:\n" + "".join(self.output))

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
