"""What the access phase sends upstream, with no PDK: the translated, signed request for the
chosen model (Kong sends it), and the state the response phase needs.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kong_plugins.bedrock_proxy.gemini import gemini_headers
from kong_plugins.bedrock_proxy.passthrough import STREAM_OPERATIONS, parse_native_path
from kong_plugins.bedrock_proxy.policy import ModelChoice, provider_of
from kong_plugins.bedrock_proxy.settings import Settings
from kong_plugins.bedrock_proxy.translators import (
    ConverseCall,
    anthropic_converse,
    chat,
    converse_gemini,
    openai_converse,
)
from kong_plugins.bedrock_proxy.upstream import Endpoint, gemini_path, model_path, upstream_headers
from kong_plugins.core.client_api import ClientApi
from kong_plugins.core.errors import GatewayError
from kong_plugins.core.identity import Identity

STATE_KEY = "bedrock_proxy_call"  # kong.ctx.shared: what the response phase needs
JSON = "application/json"
# Secret headers we set upstream that Kong's serializer would copy into every log line
# (it redacts only Authorization): the AWS session token and the Gemini key (decision 0048).
SECRET_HEADERS = ("x-amz-security-token", "x-goog-api-key")

PATH_SUFFIXES = {ClientApi.CHAT: "/chat", ClientApi.OPENAI: "/chat/completions", ClientApi.ANTHROPIC: "/messages"}

TRANSLATORS: dict[ClientApi, Any] = {
    ClientApi.CHAT: chat,
    ClientApi.OPENAI: openai_converse,
    ClientApi.ANTHROPIC: anthropic_converse,
}


@dataclass(frozen=True)
class Upstream:
    """One upstream request, ready to send (by Kong, or by the plugin for a fallback)."""

    endpoint: Endpoint
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Plan:
    upstream: Upstream
    state: dict[str, Any]  # for kong.ctx.shared[STATE_KEY]


KeyResolver = Callable[[str], Any]  # kong.vault.get


def models_answer(settings: Settings, identity: Identity) -> tuple[int, bytes, dict[str, str]]:
    body = settings.policy.models_list(identity.role)
    return 200, json.dumps(body, separators=(",", ":")).encode(), {"Content-Type": JSON}


def plan_call(
    settings: Settings, identity: Identity, api: ClientApi, raw_path: str, body: bytes, resolve: KeyResolver
) -> Plan:
    """Everything the access phase sends upstream, or a GatewayError for the client."""
    if settings.client_api is None and not raw_path.rstrip("/").endswith(PATH_SUFFIXES.get(api, "")):
        # Kong routes by prefix: /v1/messages/count_tokens reaches us too
        raise GatewayError("not_found", "This API path is not available through the gateway.", code="unknown_path")
    if len(body) > settings.max_body_bytes:
        raise GatewayError(
            "payload_too_large", f"The request body is larger than {settings.max_body_bytes} bytes.", code="too_large"
        )
    if api is ClientApi.BEDROCK:
        native = parse_native_path(raw_path)
        choice = settings.policy.choose(identity.role, native.model)
        if provider_of(choice.model) != "bedrock":
            raise GatewayError(
                "permission_denied", "The native Bedrock API is not available for this role.", code="model_not_allowed"
            )
        upstream = bedrock_request(settings, choice.model, native.operation, body)
        return Plan(upstream, _state(api, choice, None, native.operation, len(upstream.body), identity))
    call = translate_request(api, body)
    choice = settings.policy.choose(identity.role, call.requested_model)
    upstream = build_request(settings, choice.model, call, resolve)
    return Plan(upstream, _state(api, choice, call, "converse", len(upstream.body), identity))


def translate_request(api: ClientApi, body: bytes) -> ConverseCall:
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        raise GatewayError("invalid_request", "The request body is not valid JSON.", code="invalid_json") from None
    translator = TRANSLATORS.get(api)
    if translator is None:
        raise GatewayError("not_found", "Unknown API path.", code="unknown_path")
    call: ConverseCall = translator.to_converse(parsed)
    if call.requested_model is not None and not isinstance(call.requested_model, str):
        raise GatewayError("invalid_request", "model must be a string.", code="invalid_value")
    return call


def build_request(settings: Settings, model: str, call: ConverseCall, resolve: KeyResolver) -> Upstream:
    if provider_of(model) == "gemini":
        key = settings.gemini_key.get(resolve)
        body = dumps(converse_gemini.to_gemini(call))
        endpoint = settings.gemini
        return Upstream(endpoint, gemini_path(model), body, gemini_headers(key, endpoint.host_header))
    return bedrock_request(settings, model, "converse", dumps(call.body))


def bedrock_request(settings: Settings, model: str, operation: str, body: bytes) -> Upstream:
    path = model_path(model, operation)
    headers = {"Content-Type": JSON, "Accept-Encoding": "identity"}
    if operation not in STREAM_OPERATIONS:  # boto3 sends no Accept on the event-stream operations
        headers["Accept"] = JSON
    signed = settings.signer.sign(settings.bedrock, path, body, headers)
    return Upstream(settings.bedrock, path, body, signed)


def logged_secrets(upstream: Upstream) -> list[str]:
    """kong.log.serialize() keys to overwrite with REDACTED for this request."""
    names = {name.lower() for name in upstream.headers}
    return [f"request.headers.{name}" for name in SECRET_HEADERS if name in names]


def kong_headers(upstream: Upstream) -> dict[str, Any]:
    """The single kong.service.request.set_headers argument (signed headers + clears)."""
    return upstream_headers(upstream.headers)


def _state(
    api: ClientApi, choice: ModelChoice, call: ConverseCall | None, operation: str, sent_len: int, identity: Identity
) -> dict[str, Any]:
    return {
        "identity": identity.to_shared(),  # handed on with the result: token-meter's log reads one key
        "api": api.value,
        "model": choice.model,
        "chain": list(choice.chain),
        "by_client": choice.chosen_by_client,
        "stream": bool(call and call.stream),
        "usage": bool(call and call.include_usage),
        "op": operation,
        "sent": sent_len,
        "t0": time.time(),
        "rid": uuid.uuid4().hex[:24],
    }


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
