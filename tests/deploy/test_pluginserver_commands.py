"""The plugin-server commands exactly as the image (Dockerfile.kong) and the Helm values give
them to Kong: the query command prints the info Kong expects, and the start command, run the
way Kong runs it (`exec <start_cmd>`), listens on the configured socket. Only the prefix and
/usr/local/bin are mapped to a temporary directory and this virtualenv."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.deploy.test_deploy_files import PLUGINS, dockerfile_env, load

BIN = Path(sys.executable).parent


def helm_env() -> dict[str, str]:
    return {f"KONG_{k.upper()}": str(v) for k, v in load("helm/kong-values.yaml")["env"].items()}


SOURCES = {"Dockerfile.kong": (dockerfile_env, "/usr/local/kong"), "helm/kong-values.yaml": (helm_env, "/kong_prefix")}


def _mapped(cmd: str, prefix: str, tmp: Path) -> list[str]:
    argv = shlex.split(cmd.replace(prefix, str(tmp)))
    assert argv[0].startswith("/usr/local/bin/"), argv[0]
    return [str(BIN / Path(argv[0]).name), *argv[1:]]


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("name", PLUGINS)
def test_query_and_start_commands_work_as_kong_runs_them(tmp_path: Path, source: str, name: str) -> None:
    env_of, prefix = SOURCES[source]
    env = env_of()
    key = "KONG_PLUGINSERVER_" + name.upper().replace("-", "_")

    dump = subprocess.run(
        _mapped(env[key + "_QUERY_CMD"], prefix, tmp_path), capture_output=True, text=True, timeout=60, check=True
    )
    (info, *_) = json.loads(dump.stdout)  # stdout must be only the JSON document
    assert info["Name"] == name

    socket = Path(env[key + "_SOCKET"].replace(prefix, str(tmp_path)))
    proc = subprocess.Popen(
        ["/bin/sh", "-c", "exec " + shlex.join(_mapped(env[key + "_START_CMD"], prefix, tmp_path))],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not socket.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert socket.exists(), f"{name} did not listen on {socket}; exit {proc.poll()}"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert b"Traceback" not in out, out.decode(errors="replace")[-2000:]
