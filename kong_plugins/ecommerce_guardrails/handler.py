"""Kong-facing shell of ecommerce-guardrails: reads from and writes to the PDK, calls the core.

PDK calls in the common (clean) case: the identity (first of our plugins, so it resolves
and shares it: three calls) and the body. On a block: the path (for the client's error
format) and exit; on a mask: set_raw_body plus one response header; shadow: nothing more.
"""

from __future__ import annotations

from typing import Any

from kong_plugins import __version__
from kong_plugins.core.client_api import detect_client_api
from kong_plugins.core.errors import GatewayError
from kong_plugins.core.identity import IdentitySettings
from kong_plugins.core.logging import log_event
from kong_plugins.core.phase import Event, phase_handler
from kong_plugins.core.server import start_native_thread
from kong_plugins.core.shared import load_identity
from kong_plugins.ecommerce_guardrails import prefilter
from kong_plugins.ecommerce_guardrails.engine import evaluate, intent_patterns
from kong_plugins.ecommerce_guardrails.policy import Policy
from kong_plugins.ecommerce_guardrails.report import report
from kong_plugins.ecommerce_guardrails.schema import SCHEMA

VERSION = __version__
PRIORITY = 945
NAME = "ecommerce-guardrails"
RULE_HEADER = "X-Guardrail-Rule"
CATEGORY_HEADER = "X-Guardrail-Category"
MASKED_HEADER = "X-Guardrail-Masked"

__all__ = ["NAME", "PRIORITY", "SCHEMA", "VERSION", "Plugin"]


class Plugin:
    def __init__(self, config: dict[str, Any]) -> None:
        self.identity_settings = IdentitySettings.from_config(config)
        self.policy = Policy.from_config(config)
        prefilter.ensure(intent_patterns(), start_native_thread, _prefilter_ready)  # once per process

    @phase_handler(NAME, "access")
    def access(self, kong: Any, event: Event) -> None:
        identity = load_identity(kong, self.identity_settings, first=True)  # cheap calls before the scan
        # 0 = also read a body nginx spilled to disk, whatever its size: a cap would make Kong
        # return nil for a larger spilled body, which breaks the RPC bridge (a 500). nginx's
        # client_max_body_size bounds what can arrive; past our limit we answer 413 unscanned.
        body = kong.request.get_raw_body(0) or b""
        if len(body) > self.policy.max_body_bytes:
            raise GatewayError("payload_too_large", f"Request body is larger than {self.policy.max_body_bytes} bytes.")
        decision = evaluate(body, identity.role, self.policy)
        if decision.action == "allow":
            return
        blocking = decision.blocking
        if blocking is None:
            report(decision, identity.role)
        else:
            event.client_api = detect_client_api(str(kong.request.get_path() or ""))  # only to answer in its format
            report(decision, identity.role, event.client_api.value)
            message = f"Blocked by the e-commerce guardrail: category {blocking.category}, rule {blocking.rule_id}."
            headers = {RULE_HEADER: blocking.rule_id, CATEGORY_HEADER: blocking.category}
            err = GatewayError("guardrail_blocked", message, self.policy.block_status, "guardrail_blocked", headers)
            event.exit_error(err)
            return
        if decision.body is not None:
            kong.service.request.set_raw_body(decision.body)
            rules = sorted({f.rule_id for f, a in decision.outcomes if a == "mask"})
            kong.response.set_header(MASKED_HEADER, ",".join(rules))


def _prefilter_ready(how: str, seconds: float) -> None:
    level = "warn" if how == "failed" else "info"
    log_event("guardrail_prefilter", level=level, plugin=NAME, decision=how, latency_ms=round(seconds * 1000))
