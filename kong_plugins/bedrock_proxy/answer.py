"""What the response phase answers, with no PDK: the upstream answer in the client's format
with its usage, or a mapped error, after bounded fallbacks (decisions 0043, 0044).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kong_plugins.bedrock_proxy import bedrock_errors, transport
from kong_plugins.bedrock_proxy.bedrock_errors import UpstreamError
from kong_plugins.bedrock_proxy.fallback import Answer, run_fallbacks, should_fall_back
from kong_plugins.bedrock_proxy.gemini import gemini_headers
from kong_plugins.bedrock_proxy.outbound import (
    JSON,
    TRANSLATORS,
    KeyResolver,
    Upstream,
    bedrock_request,
    build_request,
    dumps,
    translate_request,
)
from kong_plugins.bedrock_proxy.passthrough import EVENT_STREAM, STREAM_OPERATIONS, native_usage
from kong_plugins.bedrock_proxy.policy import provider_of
from kong_plugins.bedrock_proxy.settings import Settings
from kong_plugins.bedrock_proxy.translators import ConverseCall, converse_gemini, usage_from_converse
from kong_plugins.bedrock_proxy.upstream import gemini_path
from kong_plugins.core.client_api import ClientApi
from kong_plugins.core.errors import GatewayError, render_error
from kong_plugins.core.logging import log_event
from kong_plugins.core.pricing import PRICE_VERSION, estimate_cost
from kong_plugins.core.usage import LlmResult


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes | None  # None: let the upstream body through unchanged
    headers: dict[str, str]
    result: LlmResult


@dataclass(frozen=True)
class UpstreamReads:
    """The response phase's PDK reads besides the body, made only when the answer needs them."""

    status: Callable[[], int]
    error_type: Callable[[], str | None]  # x-amzn-ErrorType
    headers: Callable[[], Mapping[str, Any]]  # InvokeModel usage headers
    request_body: Callable[[], bytes]  # for a fallback attempt
    resolve: KeyResolver  # kong.vault.get


def answer(settings: Settings, state: Mapping[str, Any], body: bytes, reads: UpstreamReads) -> Reply:
    """The client's answer for the upstream's body, logged as one metadata-only line."""
    reply = _reply(settings, state, body, reads)
    r = reply.result
    log_event(
        "llm_call", plugin="bedrock-proxy", client_api=r.client_api, model=r.model, provider=r.provider,
        status=r.status, attempts=r.attempts, fallback_from=r.fallback_from, error_class=r.error_type,
        total_tokens=r.usage.total_tokens, cost_usd=round(r.cost_usd, 8), request_id=state.get("rid"),
    )  # fmt: skip
    return reply


def _reply(settings: Settings, state: Mapping[str, Any], body: bytes, reads: UpstreamReads) -> Reply:
    """The client's answer for the upstream's body; falls back on qualifying errors.

    A body that is a model answer (Converse `output`, Gemini `candidates`) is a success
    without asking Kong for the status: neither service sends those members in an error.
    """
    api = ClientApi(str(state.get("api")))
    model = str(state.get("model"))
    t0 = float(state.get("t0") or time.time())
    latency = int((time.time() - t0) * 1000)
    status = 200
    try:
        native_raw = api is ClientApi.BEDROCK and state.get("op") != "converse"
        parsed = None if native_raw else _parse_answer(body, provider_of(model))
        if parsed is not None:
            return _success(settings, state, api, Answer(model, body, latency), 1, None, reads, parsed)
        status = int(reads.status() or 502)
        if 200 <= status < 300:
            return _success(settings, state, api, Answer(model, body, latency), 1, None, reads)
        error_type = reads.error_type() if provider_of(model) == "bedrock" else None
        err = _map_error(model, status, error_type, body, bool(state.get("by_client")))
        chain = [str(m) for m in state.get("chain") or [model]]
        attempts = 1
        if should_fall_back(err) and len(chain) > 1:
            attempt = _attempt_factory(settings, state, api, reads)
            outcome = run_fallbacks(chain, err, settings.fallback, attempt, lambda: (time.time() - t0) * 1000)
            if outcome.answer is not None:
                return _success(settings, state, api, outcome.answer, outcome.attempts, model, None)
            err, attempts = outcome.error, outcome.attempts
        return _failure(api, model, err, attempts, latency)
    except GatewayError as exc:  # an unreadable upstream answer, a fallback request we cannot build
        return _failure(api, model, UpstreamError(bedrock_errors.UNKNOWN, exc.kind, exc, status), 1, latency)


def _parse_answer(body: bytes, provider: str) -> dict[str, Any] | None:
    if not body.startswith(b"{"):
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(parsed, dict):
        return None
    member = "candidates" if provider == "gemini" else "output"
    return parsed if member in parsed else None


def _map_error(model: str, status: int, error_type: str | None, body: bytes, by_client: bool) -> UpstreamError:
    if provider_of(model) == "gemini":
        return bedrock_errors.map_gemini_error(status, body, model, chosen_by_client=by_client)
    return bedrock_errors.map_bedrock_error(status, error_type, body, model, chosen_by_client=by_client)


def _success(
    settings: Settings,
    state: Mapping[str, Any],
    api: ClientApi,
    ans: Answer,
    attempts: int,
    fallback_from: str | None,
    reads: UpstreamReads | None,
    parsed: Any = None,
) -> Reply:
    provider = provider_of(ans.model)
    rid = str(state.get("rid") or "")
    if api is ClientApi.BEDROCK:
        operation = str(state.get("op"))
        usage = native_usage(operation, ans.body, reads.headers if reads else None)
        out_body: bytes | None = ans.body if fallback_from else None
        content_type = EVENT_STREAM if operation in STREAM_OPERATIONS else JSON
    else:
        resp = parsed if parsed is not None else _parse_upstream(ans.body)
        converse = converse_gemini.converse_from_gemini(resp) if provider == "gemini" else resp
        usage = usage_from_converse(converse)
        translator = TRANSLATORS[api]
        if state.get("stream"):
            out_body = translator.stream_from_converse(
                converse, model=ans.model, request_id=rid, include_usage=bool(state.get("usage"))
            )
            content_type = "text/event-stream"
        else:
            out_body = dumps(translator.from_converse(converse, model=ans.model, request_id=rid))
            content_type = JSON
    cost = estimate_cost(ans.model, usage, settings.prices or None)
    result = LlmResult(
        model=ans.model,
        provider=provider,
        client_api=api.value,
        status=200,
        usage=usage,
        cost_usd=cost,
        fallback_from=fallback_from,
        attempts=attempts,
        upstream_latency_ms=ans.latency_ms,
    )
    headers = result.headers(PRICE_VERSION)
    if out_body is not None:
        headers["Content-Type"] = content_type
        if content_type == "text/event-stream":
            headers["Cache-Control"] = "no-cache"
    return Reply(200, out_body, headers, result)


def _failure(api: ClientApi, model: str, err: UpstreamError, attempts: int, latency: int) -> Reply:
    status, body, headers = render_error(api, err.error)
    result = LlmResult(
        model=model,
        provider=provider_of(model),
        client_api=api.value,
        status=status,
        attempts=attempts,
        upstream_latency_ms=latency,
        error_type=err.error_class,
    )
    return Reply(status, body, headers, result)


def _parse_upstream(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise GatewayError("bad_gateway", "The model service sent an unreadable answer.", code="bad_upstream") from None


def _attempt_factory(
    settings: Settings, state: Mapping[str, Any], api: ClientApi, reads: UpstreamReads
) -> Callable[[str, float], Answer | UpstreamError | None]:
    """A fallback attempt for another model, built from the request body Kong still holds.

    In Kong, set_raw_body replaced the request body, so kong.request.get_raw_body now returns
    what the first attempt sent (Converse, Gemini or native JSON): it is reused, re-signed for
    the next model. A body of another length is the client's own (a Kong-like host that keeps
    it) and is translated again.
    """
    first = str(state.get("model"))
    cache: dict[str, Any] = {}

    def build(model: str) -> Upstream | None:
        if "body" not in cache:
            cache["body"] = reads.request_body()
        body: bytes = cache["body"]
        if api is ClientApi.BEDROCK:
            return bedrock_request(settings, model, str(state.get("op")), body)
        if len(body) != state.get("sent"):
            return build_request(settings, model, translate_request(api, body), reads.resolve)
        if provider_of(model) == provider_of(first) == "bedrock":
            return bedrock_request(settings, model, "converse", body)
        if provider_of(model) == provider_of(first) == "gemini":
            key = settings.gemini_key.get(reads.resolve)
            endpoint = settings.gemini
            return Upstream(endpoint, gemini_path(model), body, gemini_headers(key, endpoint.host_header))
        if provider_of(first) == "bedrock":  # Converse is the pivot: on to Gemini
            return build_request(settings, model, ConverseCall(body=json.loads(body)), reads.resolve)
        return None  # a Gemini body cannot become a Bedrock one

    def attempt(model: str, timeout_s: float) -> Answer | UpstreamError | None:
        if api is ClientApi.BEDROCK and provider_of(model) != "bedrock":
            return None
        try:
            upstream = build(model)
        except (ValueError, GatewayError):
            return None
        if upstream is None:
            return None
        started = time.time()
        try:
            got = transport.post(upstream.endpoint.url(upstream.path), upstream.body, upstream.headers, timeout_s)
        except transport.TransportError as exc:
            return bedrock_errors.map_gateway_status(504 if exc.timed_out else 502)
        if 200 <= got.status < 300:
            return Answer(model, got.body, int((time.time() - started) * 1000))
        return _map_error(model, got.status, got.headers.get("x-amzn-errortype"), got.body, False)

    return attempt
