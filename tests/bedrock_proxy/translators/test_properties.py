"""Property tests: no JSON input makes a translator raise anything but GatewayError, every
answer it renders is valid JSON, and every synthesized stream ends properly.

Two kinds of input: arbitrary JSON built from the field names and values the translators
look at (so generation reaches deep branches), and golden inputs with one nested value
replaced by arbitrary JSON (wrong types in otherwise valid requests)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kong_plugins.bedrock_proxy.translators import (
    ConverseCall,
    anthropic_converse,
    chat,
    converse_gemini,
    estimate_prompt_chars,
    json_bytes,
    openai_converse,
    usage_from_converse,
    usage_from_invoke,
)
from kong_plugins.core.errors import GatewayError
from kong_plugins.core.usage import Usage
from tests.bedrock_proxy.translators.golden_runner import load_tables, parse_sse

KEYS = """messages role content type text image_url url detail tool_calls id function name arguments tool_call_id
tools tool_choice parameters description max_tokens max_completion_tokens temperature top_p stop n stream
stream_options include_usage response_format json_schema schema model system source media_type data input
tool_use_id is_error cache_control ttl input_schema stop_sequences top_k thinking signature refusal toolUse
toolResult toolUseId json status image format bytes inferenceConfig maxTokens topP stopSequences toolConfig
toolSpec inputSchema toolChoice auto any tool additionalModelRequestFields outputConfig textFormat structure
jsonSchema cachePoint reasoningContent reasoningText redactedContent guardContent output message stopReason
usage inputTokens outputTokens cacheReadInputTokens cacheWriteInputTokens candidates parts functionCall args
finishReason usageMetadata promptTokenCount candidatesTokenCount thoughtsTokenCount cachedContentTokenCount
promptFeedback blockReason thought responseId additionalModelResponseFields stop_sequence properties items
anyOf required enum input_tokens output_tokens""".split()
VALUES = """user assistant system developer tool function text image_url image tool_use tool_result thinking
redacted_thinking auto required none any custom base64 url image/png image/jpeg image/tiff
data:image/png;base64,AAAA data:image/png,AAAA https://x/y.png json_schema json_object end_turn tool_use
max_tokens stop_sequence content_filtered STOP SAFETY MAX_TOKENS 5m 1h {} {"a":1} [1] {bad png object
string null""".split()

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(VALUES)
    | st.text(max_size=8)
    | st.sampled_from(
        ["\ud800", "a\udfffb", "\u00e6\u00f8\u00e5 \u4e2d\u6587"]
    )  # lone surrogates are legal JSON escapes
)
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), children, max_size=6)
    ),
    max_leaves=40,
)

TABLES = load_tables()


def _golden_inputs(prefix: str) -> list[Any]:
    return [case["input"] for path, table in TABLES.items() if path.stem.startswith(prefix) for case in table["cases"]]


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


def _replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


def mutated(prefix: str) -> st.SearchStrategy[Any]:
    """A golden input of the given tables with one nested value replaced by random JSON."""
    inputs = _golden_inputs(prefix)

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        base = draw(st.sampled_from(inputs))
        paths = _paths(base)
        path = draw(st.sampled_from(paths))
        return _replace(base, path, draw(json_values))

    return build()


FAST = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_call(call: ConverseCall) -> None:
    assert isinstance(call, ConverseCall)
    json.dumps(call.body, allow_nan=False)
    json.loads(json_bytes(call.body))
    assert isinstance(call.stream, bool) and isinstance(call.include_usage, bool)
    assert call.requested_model is None or isinstance(call.requested_model, str)
    assert call.max_tokens is None or (isinstance(call.max_tokens, int) and call.max_tokens >= 1)
    assert estimate_prompt_chars(call) >= 0
    # Every Converse call we produce can also be sent to Gemini, or is refused cleanly.
    try:
        json.loads(json_bytes(converse_gemini.to_gemini(call)))
    except GatewayError as err:
        assert err.http_status == 400


def _translate(func: Any, body: Any) -> None:
    try:
        call = func(body)
    except GatewayError as err:
        assert err.http_status == 400 and err.message
        return
    _check_call(call)


@FAST
@given(json_values | mutated("openai_to_converse"))
def test_openai_to_converse_never_crashes(body):
    _translate(openai_converse.to_converse, body)


@FAST
@given(json_values | mutated("anthropic_to_converse"))
def test_anthropic_to_converse_never_crashes(body):
    _translate(anthropic_converse.to_converse, body)


@FAST
@given(json_values | mutated("chat") | mutated("openai_to_converse"))
def test_chat_to_converse_never_crashes(body):
    _translate(chat.to_converse, body)


@FAST
@given(json_values | mutated("gemini_to_gemini"))
def test_to_gemini_never_crashes(call_input):
    body = call_input.get("body") if isinstance(call_input, dict) and "body" in call_input else call_input
    try:
        out = converse_gemini.to_gemini(ConverseCall(body=body))
    except GatewayError as err:
        assert err.http_status == 400
        return
    json.dumps(out, allow_nan=False)


def _render_all(resp: Any) -> None:
    """Every renderer either refuses a malformed answer with a 502 or produces valid output."""
    try:
        openai_doc = openai_converse.from_converse(resp, model="m", request_id="r")
    except GatewayError as err:
        assert err.http_status == 502
        return
    json.loads(json.dumps(openai_doc, allow_nan=False))
    assert openai_doc["choices"][0]["finish_reason"] in {"stop", "length", "tool_calls", "content_filter"}
    json.loads(json.dumps(anthropic_converse.from_converse(resp, model="m", request_id="r"), allow_nan=False))

    for include_usage in (True, False):
        raw = openai_converse.stream_from_converse(resp, model="m", request_id="r", include_usage=include_usage)
        events = parse_sse(raw)
        assert events[-1] == "[DONE]"
        if include_usage:
            assert events[-2]["choices"] == [] and events[-2]["usage"]["total_tokens"] >= 0
            assert events[-3]["choices"][0]["finish_reason"]
        else:
            assert events[-2]["choices"][0]["finish_reason"]
    events = parse_sse(anthropic_converse.stream_from_converse(resp, model="m", request_id="r"))
    names = [e["event"] for e in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert names.count("content_block_start") == names.count("content_block_stop")
    usage = usage_from_converse(resp)
    assert isinstance(usage, Usage) and min(usage.input_tokens, usage.output_tokens) >= 0


@FAST
@given(json_values | mutated("openai_from_converse") | mutated("anthropic_from_converse") | mutated("anthropic_stream"))
def test_renderers_produce_valid_json_and_complete_streams(resp):
    _render_all(resp)


@FAST
@given(json_values | mutated("gemini_from_gemini"))
def test_gemini_answers_render_for_every_client_api(resp):
    try:
        converse = converse_gemini.converse_from_gemini(resp)
    except GatewayError as err:
        assert err.http_status == 502
        return
    _render_all(converse)
    assert converse["stopReason"] in {"end_turn", "tool_use", "max_tokens", "content_filtered", "malformed_tool_use"}


@FAST
@given(json_values, json_values)
def test_usage_from_invoke_never_crashes(body, headers):
    usage = usage_from_invoke(body, headers if isinstance(headers, dict) else None)
    assert min(usage.input_tokens, usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens) >= 0
