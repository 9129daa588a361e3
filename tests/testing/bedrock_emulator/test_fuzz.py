"""Any JSON body gets an answer or Bedrock's/Google's error, never an emulator crash (500)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kong_plugins.testing.bedrock_emulator import bedrock, gemini
from kong_plugins.testing.bedrock_emulator.common import OpContext, Response, StreamResponse, Timing
from kong_plugins.testing.bedrock_emulator.errors import BedrockError, GoogleError

from .helpers import SONNET

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(
    ["messages", "system", "toolConfig", "inferenceConfig", "anthropic_version", "max_tokens", "tools", "tool_choice",
     "thinking", "additionalModelRequestFields", "input", "contents", "generationConfig", "systemInstruction"]
)  # fmt: skip
BODIES = st.dictionaries(KEYS, JSON, max_size=5) | JSON


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=BODIES, op=st.sampled_from(sorted(bedrock.HANDLERS)))
def test_bedrock_operations_never_crash(body, op):
    try:
        result = bedrock.handle(op, SONNET, json.dumps(body).encode(), OpContext(Timing()))
    except BedrockError as err:
        assert 400 <= err.status < 500
    else:
        assert isinstance(result, Response | StreamResponse) and result.status == 200


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=BODIES, op=st.sampled_from(sorted(gemini.OPERATIONS.values())))
def test_gemini_operations_never_crash(body, op):
    try:
        result = gemini.handle(op, "gemini-3.5-flash", json.dumps(body).encode(), {}, OpContext(Timing()))
    except GoogleError as err:
        assert err.code == 400
    else:
        assert result.status == 200
