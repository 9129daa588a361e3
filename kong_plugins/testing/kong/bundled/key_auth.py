"""key-auth as in Kong 3.9.3 (kong/plugins/key-auth/handler.lua, priority 1250)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from kong_plugins.testing.kong.bundled.base import BundledPlugin, authenticate, kong_error, set_upstream_header
from kong_plugins.testing.kong.request import KongRequest

HEADER_NAME = {"type": "string", "match": r"^[A-Za-z0-9_-]+$"}


class KeyAuth(BundledPlugin):
    name = "key-auth"
    priority = 1250
    no_consumer = True
    schema = [
        {"key_names": {"type": "array", "required": True, "elements": HEADER_NAME, "default": ["apikey"]}},
        {"hide_credentials": {"type": "boolean", "required": True, "default": False}},
        {"anonymous": {"type": "string"}},
        {"key_in_header": {"type": "boolean", "required": True, "default": True}},
        {"key_in_query": {"type": "boolean", "required": True, "default": True}},
        {"key_in_body": {"type": "boolean", "required": True, "default": False}},
        {"run_on_preflight": {"type": "boolean", "required": True, "default": True}},
        {"realm": {"type": "string", "required": False}},
    ]

    def run(self, phase: str, req: KongRequest, config: dict[str, Any]) -> None:
        if not config["run_on_preflight"] and req.method == "OPTIONS":
            return
        if config.get("anonymous"):
            if req.credential is not None:
                return  # already authenticated: logical OR between auth plugins
            if not self._authenticate(req, config):
                consumer = self.db.load_consumer(config["anonymous"])
                authenticate(req, consumer, None, None)
            return
        self._authenticate(req, config, answer=True)

    def _authenticate(self, req: KongRequest, config: dict[str, Any], answer: bool = False) -> bool:
        realm = config.get("realm")
        www = {"WWW-Authenticate": f'Key realm="{realm}"' if realm else "Key"}
        query = parse_qsl(req.raw_query, keep_blank_values=True)
        key: str | None = None
        for name in config["key_names"]:
            values: list[str] = []
            if config["key_in_header"]:
                values = req.headers.get(name.lower().replace("_", "-"), []) or req.headers.get(name.lower(), [])
            if not values and config["key_in_query"]:
                # Kong's query parser: a bare flag is `true` (not a string), repeats make a table.
                values = [v for k, v in query if k == name]
            if not values:
                continue
            if len(values) > 1:
                return self._fail(req, answer, 401, "Duplicate API key found", www)
            key = values[0]
            if config["hide_credentials"]:
                # clear_header / clear_query_arg change the one nginx request: later plugins,
                # the upstream and the log serializer all stop seeing the key.
                set_upstream_header(req, name, None)
                req.raw_query = _without(req.raw_query, name)
                if req.upstream is not None:
                    req.upstream.query = _without(req.upstream.query, name)
            break
        if not key:
            return self._fail(req, answer, 401, "No API key found in request", www)
        credential = self.db.keyauth_by_key.get(key)
        if credential is None:
            return self._fail(req, answer, 401, "Unauthorized", www)
        consumer = self.db.consumer_entity(credential["consumer"]["id"])
        authenticate(req, consumer, credential, credential["id"])
        return True

    @staticmethod
    def _fail(req: KongRequest, answer: bool, status: int, message: str, headers: dict[str, str]) -> bool:
        if answer:
            kong_error(req, status, message, headers)
        return False


def _without(query: str, name: str) -> str:
    if not query:
        return query
    return urlencode([(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != name])
