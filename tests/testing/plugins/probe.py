"""Test-only dedicated kong-pdk plugin server `probe`: each config `mode` exercises one Kong behaviour.

Run by the harness exactly like our console scripts (`probe.py -kong-prefix <dir> [-g]`,
`probe.py -dump`). Python-style PDK returns (--no-lua-style), like our plugins. The probe
reports what it saw through a response header `x-probe-report` (JSON) or the error log.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from kong_pdk.cli import start_dedicated_server

from kong_plugins.core.phase import Event, phase_handler

NAME = "probe"
VERSION = "0.1.0"
PRIORITY = 940
SCHEMA = [
    {"mode": {"type": "string", "default": "noop"}},
    {"log_mode": {"type": "string", "default": "noop"}},
    {"response_mode": {"type": "string", "default": "noop"}},
    {"tag": {"type": "string", "default": "probe"}},
]


def _types(value: Any) -> Any:
    if isinstance(value, dict):
        return {"dict": {str(k): _types(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"list": [_types(v) for v in value]}
    return type(value).__name__


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def access(self, kong: Any) -> None:
        mode = self.config.get("mode", "noop")
        if mode == "noop":
            return
        if mode == "mark":  # prove this plugin ran, and with which config
            kong.response.set_header("x-probe-" + self.config["tag"], "ran")
            kong.ctx.shared.set("probe_config", {k: v for k, v in self.config.items() if not k.startswith("__")})
            return
        if mode == "exit":
            kong.response.exit(403, {"message": "blocked by " + self.config["tag"]}, {"X-Probe": "exit"})
            return
        if mode == "error":
            kong.response.error(429)
            return
        if mode == "raise_before":
            raise RuntimeError("boom before any PDK call")
        if mode == "raise_after":
            kong.request.get_header("x-anything")
            raise RuntimeError("boom after a PDK call")
        if mode == "wrapped_raise":
            self._wrapped_raise(kong)
            return
        if mode == "unknown":
            groups = kong.client.get_consumer_groups()
            shared = kong.nginx.shared.get("k")
            kong.response.set_header("x-probe-report", json.dumps({"groups": groups, "shared": shared}))
            return
        if mode == "fixups":
            self._fixups(kong)
            return
        if mode == "raw_body":
            body = kong.request.get_raw_body()
            kong.response.set_header("x-probe-report", json.dumps({"len": len(body)}))
            return
        if mode == "raw_body_0":
            body = kong.request.get_raw_body(0)
            kong.response.set_header("x-probe-report", json.dumps({"len": len(body), "type": type(body).__name__}))
            return
        if mode == "upstream":
            kong.service.request.set_header("host", "other.example")
            kong.service.request.set_path("/rewritten")
            kong.service.request.set_raw_query("a=1")
            kong.service.request.enable_buffering()
            kong.response.set_header("x-from-access", "kept")
            kong.log.set_serialize_value("ai.probe.usage.total_tokens", 7)
            kong.ctx.shared.set("probe_shared", {"n": 1})
            kong.nginx.set_ctx("probe_ctx", "v")
            return
        if mode == "response_in_access":  # throws: kong.service.response needs buffering/response phase
            kong.service.response.get_status()
            return
        if mode == "serialize_in_access":
            kong.log.serialize()
            return
        if mode == "sleep_before":
            time.sleep(0.3)
            kong.request.get_header("x")
            return
        if mode == "returns":  # lua style gives (value, err) tuples, python style the value
            value = kong.request.get_header("x-probe-in")
            kong.response.set_header("x-probe-report", json.dumps({"value": value}))
            return
        if mode == "vault":
            kong.response.set_header("x-probe-report", json.dumps({"v": kong.vault.get("{vault://env/probe-secret}")}))
            return
        raise ValueError("unknown probe mode " + mode)

    def response(self, kong: Any) -> None:
        mode = self.config.get("response_mode", "noop")
        if mode == "noop":
            return
        if mode == "replace":
            body = kong.service.response.get_raw_body()
            status = kong.service.response.get_status()
            kong.response.exit(status, body.upper(), {"X-Replaced": "yes"})
            return
        if mode == "header":
            kong.response.set_header("x-probe-response-" + self.config["tag"], "ran")
            return
        if mode == "set_upstream_header":  # kong.service.request.* throws in response
            kong.service.request.set_header("x-late", "1")
            return
        raise ValueError("unknown response mode " + mode)

    def log(self, kong: Any) -> None:
        mode = self.config.get("log_mode", "noop")
        if mode == "noop":
            return
        if mode == "serialize":
            kong.log.notice("probe-serialize " + kong.log.serialize())
            return
        if mode == "snapshot":
            report = {
                "header": kong.request.get_header("x-probe-in"),
                "headers": _types(kong.request.get_headers()),
                "status": kong.response.get_status(),
                "resp_header": kong.response.get_header("x-from-access"),
                "shared": kong.ctx.shared.get("probe_shared"),
                "ctx": kong.nginx.get_ctx("probe_ctx"),
                "consumer": (kong.client.get_consumer() or {}).get("username"),
                "route": (kong.router.get_route() or {}).get("name"),
                "start": kong.request.get_start_time() > 0,
                "plugin_id": kong.plugin.get_id(),
            }
            kong.log.notice("probe-snapshot " + json.dumps(report))
            return
        if mode.startswith("getter:"):  # e.g. getter:kong.request.get_path -> throws in the timer
            fn: Any = kong
            for part in mode.split(":", 1)[1].split(".")[1:]:
                fn = getattr(fn, part)
            value = fn()
            kong.log.notice("probe-getter-returned " + repr(value))
            return
        raise ValueError("unknown log mode " + mode)

    @phase_handler(NAME, "access")
    def _wrapped_raise(self, kong: Any, event: Event) -> None:
        raise RuntimeError("boom inside phase_handler")

    def _fixups(self, kong: Any) -> None:
        kong.ctx.shared.set("empty_dict", {})
        kong.ctx.shared.set("nested", {"a": {}, "b": [1, 2.0, "x"], "c": None})
        report = {
            "headers": _types(kong.request.get_headers()),
            "headers_value": kong.request.get_headers(),
            "query": kong.request.get_query(),
            "query_types": _types(kong.request.get_query()),
            "raw_body_type": type(kong.request.get_raw_body()).__name__,
            "empty_dict": kong.ctx.shared.get("empty_dict"),
            "nested": kong.ctx.shared.get("nested"),
            "captures": kong.request.get_uri_captures(),
            "missing_header": kong.request.get_header("x-not-there"),
            "consumer": kong.client.get_consumer(),
            "start_time_ms": kong.request.get_start_time() > 1e12,
            "path": kong.request.get_path(),
        }
        kong.response.set_header("x-probe-report", json.dumps(report))


if __name__ == "__main__":
    if any(a in ("-g", "--gevent") for a in sys.argv) and "-dump" not in sys.argv:
        from gevent import monkey

        monkey.patch_all()
    if "--no-lua-style" not in sys.argv and not os.environ.get("PROBE_LUA_STYLE"):
        sys.argv.append("--no-lua-style")
    start_dedicated_server(NAME, Plugin, VERSION, PRIORITY, SCHEMA)
