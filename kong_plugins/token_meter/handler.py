"""Kong-facing shell of token-meter: reads from and writes to the PDK, calls the core.

No `response` handler, so the plugin never makes Kong buffer a response. PDK calls per
request: access = identity (1 when another plugin resolved it) + 1 set_headers (+1
get_raw_body and +1 ctx set with reservation; a 429 costs get_path + exit instead of
set_headers); log = 1 ctx read (the LlmResult carries the identity; + identity and serialize when no
LlmResult was shared).
"""

from __future__ import annotations

from typing import Any

from kong_plugins import __version__
from kong_plugins.core.client_api import detect_client_api
from kong_plugins.core.identity import SHARED_IDENTITY_KEY
from kong_plugins.core.logging import log_event
from kong_plugins.core.metrics import start_metrics_server
from kong_plugins.core.phase import Event, phase_handler
from kong_plugins.core.shared import load_identity
from kong_plugins.core.usage import SHARED_RESULT_KEY, LlmResult
from kong_plugins.token_meter.meter import METER_KEY, TokenMeter, metrics_endpoint
from kong_plugins.token_meter.schema import SCHEMA

VERSION = __version__
PRIORITY = 935
NAME = "token-meter"

__all__ = ["NAME", "PRIORITY", "SCHEMA", "VERSION", "Plugin"]


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        self.meter = TokenMeter(config)
        port, addr = metrics_endpoint(config)
        if port:
            try:  # once per process; a busy port must not fail StartInstance (Kong answers 500)
                start_metrics_server(port, addr)
            except Exception as exc:  # noqa: BLE001
                log_event("metrics_server_failed", level="warn", plugin=NAME, error_class=type(exc).__name__)

    @phase_handler(NAME, "access")
    def access(self, kong: Any, event: Event) -> None:
        identity = load_identity(kong, self.meter.identity_settings)
        limits = self.meter.limits(identity)
        if not limits:
            return  # unlimited (admin): no store round trip, no headers
        body = kong.request.get_raw_body(0) if self.meter.reserves else None
        admission = self.meter.admit(identity, limits, body)
        if admission.error is not None:
            event.exit_error(admission.error, detect_client_api(str(kong.request.get_path() or "")))
            return
        if admission.shared is not None:
            kong.ctx.shared.set(METER_KEY, admission.shared)
        kong.response.set_headers(admission.headers)

    @phase_handler(NAME, "log")
    def log(self, kong: Any, event: Event) -> None:
        shared = kong.ctx.shared.get(SHARED_RESULT_KEY)
        result = LlmResult.from_shared(shared)
        who = kong.ctx.shared.get(METER_KEY) if self.meter.reserves else LlmResult.shared_identity(shared)
        if who is None:
            who = kong.ctx.shared.get(SHARED_IDENTITY_KEY)
        serialized = kong.log.serialize() if result is None else None
        self.meter.account(who, result, serialized)
