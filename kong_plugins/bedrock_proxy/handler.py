"""Kong-facing shell of bedrock-proxy: reads from and writes to the PDK, calls the core
(outbound.py for access, answer.py for response).

access: identity, path, body -> one translated, signed upstream request that Kong sends.
response: the upstream answer -> the client's format, usage headers, ctx and serializer.
PDK calls per request are counted in docs/decisions/0040-bedrock-proxy-pdk-calls.md.
"""

from __future__ import annotations

from typing import Any

from kong_plugins import __version__
from kong_plugins.bedrock_proxy.answer import UpstreamReads, answer
from kong_plugins.bedrock_proxy.outbound import (
    STATE_KEY,
    kong_headers,
    logged_secrets,
    models_answer,
    plan_call,
)
from kong_plugins.bedrock_proxy.schema import SCHEMA
from kong_plugins.bedrock_proxy.settings import Settings
from kong_plugins.core.client_api import ClientApi, detect_client_api
from kong_plugins.core.identity import IdentitySettings
from kong_plugins.core.phase import Event, phase_handler
from kong_plugins.core.shared import load_identity
from kong_plugins.core.usage import SHARED_RESULT_KEY

VERSION = __version__
PRIORITY = 925
NAME = "bedrock-proxy"

__all__ = ["NAME", "PRIORITY", "SCHEMA", "VERSION", "Plugin"]


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        self.identity_settings = IdentitySettings.from_config(config)
        self.settings = Settings.from_config(config)

    @phase_handler(NAME, "access")
    def access(self, kong: Any, event: Event) -> None:
        identity = load_identity(kong, self.identity_settings)
        path, _, query = str(kong.request.get_path_with_query() or "").partition("?")
        api = self.settings.client_api or detect_client_api(path)
        event.client_api = api
        if api is ClientApi.MODELS:
            event.exit(*models_answer(self.settings, identity))
            return
        body = kong.request.get_raw_body(0) or b""
        plan = plan_call(self.settings, identity, api, path, body, kong.vault.get)
        up = plan.upstream
        if up.endpoint.override:
            kong.service.set_target(up.endpoint.host, up.endpoint.port)
            kong.service.request.set_scheme(up.endpoint.scheme)
        if query:
            kong.service.request.set_raw_query("")  # SigV4 signed no query
        kong.service.request.set_path(up.endpoint.base_path + up.path)
        if up.body != body:  # a native call passes the client's body through: Kong has it already
            kong.service.request.set_raw_body(up.body)
        kong.service.request.set_headers(kong_headers(up))
        for key in logged_secrets(up):  # Kong's loggers serialize request headers (decision 0048)
            kong.log.set_serialize_value(key, "REDACTED", {"mode": "replace"})
        kong.ctx.shared.set(STATE_KEY, plan.state)

    @phase_handler(NAME, "response")
    def response(self, kong: Any, event: Event) -> None:
        state = kong.ctx.shared.get(STATE_KEY)
        if not isinstance(state, dict):
            return  # access answered or failed: nothing was proxied by us
        event.client_api = ClientApi(state["api"])
        srv = kong.service.response
        reads = UpstreamReads(
            status=srv.get_status,
            error_type=lambda: srv.get_header("x-amzn-errortype"),
            headers=srv.get_headers,
            request_body=lambda: kong.request.get_raw_body(0) or b"",
            resolve=kong.vault.get,
        )
        reply = answer(self.settings, state, srv.get_raw_body() or b"", reads)
        result = reply.result
        kong.ctx.shared.set(SHARED_RESULT_KEY, result.to_shared(state.get("identity")))
        kong.log.set_serialize_value(f"ai.{NAME}", result.kong_ai_serialize())
        if reply.body is None:
            kong.response.set_headers(reply.headers)
            return
        event.exit(reply.status, reply.body, reply.headers)
