"""Starting, querying, supervising and stopping plugin servers the way Kong 3.9.3 does."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

from kong_plugins.testing.kong.node import ErrorLog, KongNode
from kong_plugins.testing.kong.plugin_server import (
    PLUGIN_SCRIPTS,
    PluginInfoError,
    PluginServer,
    PluginServerError,
    ServerDef,
    parse_plugin_info,
    query_plugin_info,
)
from kong_plugins.testing.kong.servers import ExternalPlugins
from tests.testing.plugins.support import BAD_DUMP, PROBE

GOOD = {"Name": "p", "Version": "1.2.3", "Priority": 900, "Phases": ["access", "log"], "Schema": {"fields": []}}


def dump(**changes: object) -> str:
    info = {**GOOD, **changes}
    return json.dumps([{k: v for k, v in info.items() if v is not ...}])


def test_our_three_servers_dump_what_kong_accepts() -> None:
    infos = {}
    for script in PLUGIN_SCRIPTS:
        sd = ServerDef.for_script(script, "/tmp/unused")
        infos[script] = query_plugin_info(sd.query_cmd)
    assert {k: v.name for k, v in infos.items()} == {s: s for s in PLUGIN_SCRIPTS}
    assert [infos[s].priority for s in ("ecommerce-guardrails", "token-meter", "bedrock-proxy")] == [945, 935, 925]
    for info in infos.values():
        assert "access" in info.phases
        assert info.config_fields, "the dumped schema carries the config fields"


@pytest.mark.parametrize(
    ("stdout", "message"),
    [
        (dump(Version=...), 'VERSION field does not follow the "x.y.z" format, got: "nil"'),
        (dump(Version=None), 'VERSION field does not follow the "x.y.z" format, got: "nil"'),
        (dump(Version="1.0"), 'got: "1.0"'),
        (dump(Version="1.2.3.4"), 'got: "1.2.3.4"'),
        (dump(Version="1.2.3\n"), "VERSION field does not follow"),
        (dump(Priority=1.5), "PRIORITY field is not a valid integer number"),
        (dump(Priority="10"), "PRIORITY field is not a valid integer number"),
        (dump(Priority=...), "PRIORITY field is not a valid integer number"),
        (dump(Phases=["access", "header_filter"]), "unknown phase(s) ['header_filter']"),
        ("not json", "failed decoding plugin info"),
        ("Hello\n[{}]", "failed decoding plugin info"),
        ("[]", "not a plugin info table"),
        ('"text"', "not a plugin info table"),
        (dump(Name=...), "has no Name"),
    ],
)
def test_dump_refused_like_kong(stdout: str, message: str) -> None:
    with pytest.raises(PluginInfoError) as err:
        parse_plugin_info(stdout)
    assert message in str(err.value)


def test_only_the_first_plugin_counts_and_protocol_object_form() -> None:
    two = json.dumps([GOOD, {**GOOD, "Name": "second"}])
    assert parse_plugin_info(two).name == "p"
    wrapped = json.dumps({"Protocol": "MsgPack:1", "Plugins": [GOOD]})
    info = parse_plugin_info(wrapped)
    assert (info.name, info.version, info.priority, info.protocol) == ("p", "1.2.3", 900, "MsgPack:1")
    assert parse_plugin_info(dump(Priority=900.0)).priority == 900


def test_query_command_runs_with_env_and_is_validated() -> None:
    cmd = [sys.executable, BAD_DUMP, "-dump"]
    assert query_plugin_info(cmd, env={**os.environ, "PROBE_DUMP": dump()}).name == "p"
    with pytest.raises(PluginInfoError, match="VERSION"):
        query_plugin_info(cmd, env={**os.environ, "PROBE_DUMP": dump(Version="x")})


def test_start_and_query_commands_are_the_kong_conf_ones() -> None:
    sd = ServerDef.for_script("token-meter", "/kong_prefix")
    bindir = Path(sys.executable).parent
    assert sd.start_cmd == (str(bindir / "token-meter"), "-kong-prefix", "/kong_prefix", "-g")
    assert sd.query_cmd == (str(bindir / "token-meter"), "-dump")
    assert sd.socket == "/kong_prefix/token-meter.sock"
    assert ServerDef.for_script("token-meter", "/p", mode="threads").start_cmd[-1] == "/p"
    conf = sd.kong_conf()
    assert conf["KONG_PLUGINSERVER_TOKEN_METER_SOCKET"] == "/kong_prefix/token-meter.sock"
    assert conf["KONG_PLUGINSERVER_TOKEN_METER_QUERY_CMD"].endswith("token-meter -dump")


def test_server_output_reaches_the_error_log_and_stop_leaves_nothing(tmp_path_factory: pytest.TempPathFactory) -> None:
    log = ErrorLog()
    prefix = Path("/tmp") / f"kt-{os.getpid()}-{time.monotonic_ns()}"
    server = PluginServer.for_script(PROBE, prefix, mode="threads", error_log=log).start()
    pid = server.pid
    assert pid is not None and os.path.exists(server.socket)
    assert log.find(f"[probe:{pid}] ") and log.find("server started at path " + server.socket, "info")
    server.stop()
    assert not os.path.exists(server.socket)
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    prefix.rmdir()


def test_a_dead_server_is_respawned(tmp_path: Path) -> None:
    prefix = Path("/tmp") / f"kt-{os.getpid()}-{time.monotonic_ns()}"
    server = PluginServer.for_script(PROBE, prefix).start()
    try:
        first = server.pid
        server.kill()
        for _ in range(100):
            if server.pid not in (None, first):
                break
            time.sleep(0.05)
        server.wait_ready(10)
        assert server.pid not in (None, first) and server.spawns == 2
        assert server.error_log.find("external pluginserver 'probe' terminated: exit -9", "notice")
    finally:
        server.stop()
        prefix.rmdir()


def test_a_missing_start_command_fails_clearly() -> None:
    sd = ServerDef("ghost", ("/nonexistent/ghost", "-kong-prefix", "/tmp"), ("/nonexistent/ghost", "-dump"), "/tmp/g")
    with pytest.raises(PluginInfoError, match="error loading plugins info"):
        PluginServer(sd).start()
    server = PluginServer(sd)
    server.info = parse_plugin_info(dump(Name="ghost"))
    with pytest.raises(PluginServerError, match="cannot start plugin server ghost"):
        server.start()
    assert server.error_log.find('exited with "command not found"', "error")


def test_socket_wait_is_bounded() -> None:
    prefix = Path("/tmp") / f"kt-{os.getpid()}-{time.monotonic_ns()}"
    env = {"PROBE_DUMP": dump(Name="bad_dump")}
    # bad_dump.py prints and exits at once: it never opens a socket
    server = PluginServer.for_script(BAD_DUMP, prefix, env=env)
    server.respawn = False
    with pytest.raises(PluginServerError, match="did not open"):
        server.start(wait=0.5)
    assert server.pid is None
    prefix.rmdir()


def test_external_plugins_start_all_three_with_one_prefix_and_stop_cleanly() -> None:
    node = KongNode()
    plugins = ExternalPlugins(node, rpc_timeout=5).start()
    try:
        prefix = plugins.prefix
        assert sorted(plugins.names) == sorted(PLUGIN_SCRIPTS)
        assert sorted(os.listdir(prefix)) == sorted(f"{s}.sock" for s in PLUGIN_SCRIPTS)
        assert plugins.infos["bedrock-proxy"].priority == 925
    finally:
        plugins.stop()
    assert not prefix.exists()
    assert node.violations == []


def test_socket_path_too_long_is_refused_before_starting() -> None:
    server = PluginServer.for_script(PROBE, "/tmp/" + "x" * 120)
    with pytest.raises(PluginServerError, match="socket path too long"):
        server.start()
    assert server.pid is None


def test_a_failing_server_stops_the_others_it_started_with() -> None:
    node = KongNode()
    plugins = ExternalPlugins(node, scripts=[PROBE, "/nonexistent/ghost.py"])
    with pytest.raises(PluginInfoError):
        plugins.start(wait=5)
    assert all(s.pid is None for s in plugins.servers)
    assert not plugins.prefix.exists()


def test_harness_uses_the_start_and_query_commands_of_our_kong_image() -> None:
    """Dockerfile.kong's KONG_PLUGINSERVER_* must be what the harness runs (binary dir aside)."""
    text = (Path(__file__).parents[2] / "Dockerfile.kong").read_text()
    image = dict(re.findall(r'(KONG_PLUGINSERVER_[A-Z_]+)="?([^"\\\n]+?)"?\s*\\?\n', text))
    bindir = str(Path(sys.executable).parent)
    for script in PLUGIN_SCRIPTS:
        ours = ServerDef.for_script(script, "/usr/local/kong").kong_conf()
        for key, value in ours.items():
            assert image.get(key) == value.replace(bindir, "/usr/local/bin"), key
