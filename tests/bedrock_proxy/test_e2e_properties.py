"""Property: whatever JSON a client sends, through the real plugin server, the answer is a
well-formed error or success in the client's format - never a 500, never a hang."""

import json
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kong_plugins.testing.kong.fixtures import checked_gateway, offline_env

CONFIG = Path(__file__).parent / "configs" / "gateway.yaml"
PATHS = [
    "/v1/chat",
    "/v1/chat/completions",
    "/v1/messages",
    "/bedrock/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse",
    "/bedrock/model/haiku/invoke",
]
KEYS = ["guest-key", "admin-key", "partner-key"]
FIELDS = [
    "messages", "model", "role", "content", "stream", "stream_options", "include_usage", "max_tokens",
    "max_completion_tokens", "system", "tools", "tool_choice", "tool_calls", "type", "text", "temperature",
    "top_p", "stop", "name", "input", "tool_use_id", "function", "arguments", "image_url", "source", "n",
]  # fmt: skip
ROLES = ["user", "assistant", "system", "tool", "developer", "model"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30), st.sampled_from(ROLES + ["haiku", "sonnet", "opus", "gemini-flash", "text", "tool_use"]),
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), inner, max_size=5),
    ),
    max_leaves=25,
)
message = st.fixed_dictionaries(
    {"role": st.sampled_from(ROLES), "content": st.one_of(st.text(max_size=20), json_values)},
    optional={"tool_calls": json_values, "tool_call_id": scalars, "name": scalars},
)
plausible = st.fixed_dictionaries(
    {"messages": st.lists(message, max_size=4)},
    optional={k: json_values for k in ("model", "stream", "max_tokens", "system", "tools", "temperature", "stop")},
)


@pytest.fixture(scope="module")
def gw(_bedrock_emulator_session):
    with checked_gateway(CONFIG, env=offline_env(_bedrock_emulator_session.url)) as gateway:
        yield gateway


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), key=st.sampled_from(KEYS), body=st.one_of(plausible, json_values))
def test_arbitrary_json_never_gives_a_500(gw, emulator, path, key, body):
    r = requests.post(
        gw.url + path,
        data=json.dumps(body).encode(),
        headers={"X-API-Key": key, "Content-Type": "application/json"},
        timeout=20,
    )
    assert r.status_code != 500, r.text[:300]
    assert r.status_code in (200, 400, 403, 404, 413, 429, 502, 503, 504), (r.status_code, r.text[:300])
    if r.status_code == 200:
        return
    err = r.json()
    if path.startswith("/bedrock"):
        assert "message" in err and "x-amzn-ErrorType" in r.headers
    elif path == "/v1/messages":
        assert err["type"] == "error" and err["error"]["message"]
    else:
        assert err["error"]["message"] and err["error"]["type"]
