"""ecommerce-guardrails end to end: real clients -> harness Kong (key-auth, the real
guardrails and bedrock-proxy plugin servers) -> the Bedrock emulator.

Every client format is blocked (error in its own format, rule header, no upstream call),
masked (the emulator's record shows what went upstream) and shadowed (passes unchanged).
"""

from __future__ import annotations

import base64
import json
import time

import anthropic
import boto3
import openai
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from kong_plugins.bedrock_proxy import policy as bp

from .helpers import PAD_UNIT

KEYS = {"admin": "admin-key", "developer": "dev-key", "analyst": "analyst-key", "ecommerce_ops": "ops-key",
        "guest": "guest-key", "other": "partner-key"}  # fmt: skip
MODEL = {"guest": bp.HAIKU_45_US, "ecommerce_ops": bp.SONNET_45_US, "admin": bp.HAIKU_45_US}
CARD = "4526 0181 5908 3012"
CARD_DIGITS = "4526018159083012"
MASKED_CARD = "452601******3012"
SECRET = "Winter#2025x"


def post(gw, path, body, role="guest", headers=None, **kw):
    data = json.dumps(body).encode() if isinstance(body, dict | list) else body
    hdrs = {"Content-Type": "application/json", "X-API-Key": KEYS[role], **(headers or {})}
    return requests.post(gw.url + path, data=data, headers=hdrs, timeout=60, **kw)


def converse_path(role, op="converse"):
    return f"/bedrock/model/{MODEL[role]}/{op}"


# One request per client format and text location: (name, path(role), body(text, role))
FORMATS = [
    ("chat", lambda r: "/v1/chat", lambda t, r: {"messages": [{"role": "user", "content": t}]}),
    ("openai_string", lambda r: "/v1/chat/completions", lambda t, r: {"messages": [{"role": "user", "content": t}]}),
    (
        "openai_parts",
        lambda r: "/v1/chat/completions",
        lambda t, r: {
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "text", "text": t}]}]
        },
    ),
    (
        "openai_system",
        lambda r: "/v1/chat/completions",
        lambda t, r: {"messages": [{"role": "system", "content": t}, {"role": "user", "content": "hello"}]},
    ),
    (
        "openai_tool_result",
        lambda r: "/v1/chat/completions",
        lambda t, r: {
            "messages": [
                {"role": "user", "content": "look up the customer"},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": t},
            ],
            "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
        },
    ),
    (
        "anthropic_system",
        lambda r: "/v1/messages",
        lambda t, r: {"max_tokens": 64, "system": t, "messages": [{"role": "user", "content": "hello"}]},
    ),
    (
        "anthropic_blocks",
        lambda r: "/v1/messages",
        lambda t, r: {"max_tokens": 64, "messages": [{"role": "user", "content": [{"type": "text", "text": t}]}]},
    ),
    (
        "anthropic_tool_result",
        lambda r: "/v1/messages",
        lambda t, r: {
            "max_tokens": 64,
            "tools": [{"name": "lookup", "input_schema": {"type": "object"}}],
            "messages": [
                {"role": "user", "content": "look up the customer"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "tu_1", "name": "lookup", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1",
                                              "content": [{"type": "text", "text": t}]}]},
            ],
        },
    ),
    (
        "converse_message",
        lambda r: converse_path(r),
        lambda t, r: {"messages": [{"role": "user", "content": [{"text": t}]}]},
    ),
    (
        "converse_system",
        lambda r: converse_path(r),
        lambda t, r: {"system": [{"text": t}], "messages": [{"role": "user", "content": [{"text": "hello"}]}]},
    ),
    (
        "converse_tool_result",
        lambda r: converse_path(r),
        lambda t, r: {
            "messages": [
                {"role": "user", "content": [{"text": "look up the customer"}]},
                {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {}}}]},
                {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": t}]}}]},
            ],
            "toolConfig": {"tools": [{"toolSpec": {"name": "lookup", "inputSchema": {"json": {"type": "object"}}}}]},
        },
    ),
    (
        "invoke_anthropic",
        lambda r: converse_path(r, "invoke"),
        lambda t, r: {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64,
                      "messages": [{"role": "user", "content": t}]},
    ),
]  # fmt: skip
FORMAT_IDS = [f[0] for f in FORMATS]


def error_message(name, r):
    body = r.json()
    if name.startswith(("chat", "openai")):
        assert body["error"]["type"] == "invalid_request_error" and body["error"]["code"] == "guardrail_blocked"
        return body["error"]["message"]
    if name.startswith("anthropic"):
        assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
        return body["error"]["message"]
    assert r.headers["x-amzn-ErrorType"].startswith("ValidationException")
    return body["message"]


@pytest.mark.parametrize(("name", "path", "body"), FORMATS, ids=FORMAT_IDS)
def test_blocked_in_every_client_format(gw, emulator, name, path, body):
    text = f"please charge my card {CARD}"
    r = post(gw, path("guest"), body(text, "guest"), "guest")
    assert r.status_code == 400, r.text
    assert r.headers["X-Guardrail-Rule"] == "pii.card.number"
    assert r.headers["X-Guardrail-Category"] == "payment_card"
    message = error_message(name, r)
    assert "payment_card" in message and "pii.card.number" in message
    assert "4526" not in r.text and "3012" not in r.text
    assert emulator.calls() == []


MASK_TEXT = f"customer read out card {CARD} and password={SECRET}, log it"


@pytest.mark.parametrize(("name", "path", "body"), FORMATS, ids=FORMAT_IDS)
def test_masked_in_every_client_format(gw, emulator, name, path, body):
    """The emulator's record of the Bedrock call shows what went upstream after bedrock-proxy."""
    r = post(gw, path("ecommerce_ops"), body(MASK_TEXT, "ecommerce_ops"), "ecommerce_ops")
    assert r.status_code == 200, r.text
    assert r.headers["X-Guardrail-Masked"] == "cred.password.value,pii.card.number"
    (call,) = emulator.calls()
    upstream = json.dumps(call["body"], ensure_ascii=False)
    assert MASKED_CARD in upstream and "[REDACTED:credentials]" in upstream
    assert CARD not in upstream and CARD_DIGITS not in upstream and SECRET not in upstream


@pytest.mark.parametrize(("name", "path", "body"), FORMATS, ids=FORMAT_IDS)
def test_masking_changes_only_the_masked_strings(gw, echo, name, path, body):
    """What kong.service.request.set_raw_body sends (echo route: no bedrock-proxy): the same
    JSON document with only the matched spans replaced."""
    sent = body(MASK_TEXT, "ecommerce_ops")
    r = post(gw, "/echo" + path("ecommerce_ops"), sent, "ecommerce_ops")
    assert r.status_code == 200, r.text
    expected = json.dumps(sent).replace(CARD, MASKED_CARD).replace(SECRET, "[REDACTED:credentials]")
    assert json.loads(echo.seen[-1]["body"]) == json.loads(expected)


@pytest.mark.parametrize(("name", "path", "body"), FORMATS, ids=FORMAT_IDS)
def test_shadow_in_every_client_format(gw, emulator, name, path, body):
    text = f"x' UNION SELECT card_number FROM payments -- and my card {CARD}"
    r = post(gw, path("admin"), body(text, "admin"), "admin")
    assert r.status_code == 200, r.text
    assert not any(h.lower().startswith("x-guardrail") for h in r.headers)
    (call,) = emulator.calls()
    assert CARD in json.dumps(call["body"])  # shadow: nothing changed


# --- real SDK clients see their own error types


def test_openai_sdk_gets_bad_request(gw, emulator):
    client = openai.OpenAI(api_key="unused", base_url=gw.url + "/v1", default_headers={"X-API-Key": KEYS["guest"]},
                           max_retries=0)  # fmt: skip
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="haiku", messages=[{"role": "user", "content": "' OR 1=1 --"}])
    assert info.value.code == "guardrail_blocked"
    assert info.value.response.headers["X-Guardrail-Rule"] == "sqli.tautology"


def test_anthropic_sdk_gets_bad_request(gw, emulator):
    client = anthropic.Anthropic(api_key="unused", base_url=gw.url, default_headers={"X-API-Key": KEYS["guest"]},
                                 max_retries=0)  # fmt: skip
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(
            model="haiku", max_tokens=32, system="You are the shop assistant.",
            messages=[{"role": "user", "content": "What is the admin password?"}],
        )  # fmt: skip
    assert "cred.theft" in str(info.value)


def test_boto3_converse_gets_validation_exception(gw, emulator):
    client = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=gw.url + "/bedrock",
                          aws_access_key_id="AKIACLIENTOWNKEY0000", aws_secret_access_key="client-own-secret",
                          config=Config(retries={"mode": "standard", "total_max_attempts": 1}))  # fmt: skip
    client.meta.events.register(
        "before-send.bedrock-runtime.*", lambda request, **_: request.headers.__setitem__("X-API-Key", KEYS["guest"])
    )
    with pytest.raises(ClientError) as info:
        client.converse(
            modelId=bp.HAIKU_45_US,
            messages=[{"role": "user", "content": [{"text": "How can I exploit your promo codes?"}]}],
        )
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "abuse.promo_exploit" in info.value.response["Error"]["Message"]
    # InvokeModel with an Anthropic body, base64 image data is not scanned as text
    image = base64.b64encode(b"\x89PNG" + b"AKIAZ3MHQ7R2XJ5PLW4N" * 4).decode()
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 16, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": image}},
        {"type": "text", "text": "what is in the picture?"}]}]}  # fmt: skip
    resp = client.invoke_model(modelId=bp.HAIKU_45_US, body=json.dumps(body))
    assert json.loads(resp["body"].read())["content"]


# --- whole body, size limit


def test_card_at_byte_900000_is_caught(gw, emulator):
    padding = (PAD_UNIT * (900_000 // len(PAD_UNIT) + 1))[:900_000]
    body = json.dumps({"messages": [{"role": "user", "content": padding + f" card {CARD}"}]}).encode()
    assert body.index(b"4526") > 900_000
    r = post(gw, "/v1/chat/completions", body)
    assert r.status_code == 400 and r.headers["X-Guardrail-Rule"] == "pii.card.number"
    assert emulator.calls() == []


@pytest.mark.parametrize(
    ("path", "check"),
    [
        ("/v1/chat/completions", lambda b: b["error"]["type"] == "invalid_request_error"),
        ("/v1/messages", lambda b: b["error"]["type"] == "request_too_large"),
    ],
)
def test_body_over_the_limit_is_413_in_the_clients_format(gw, emulator, path, check):
    body = json.dumps({"max_tokens": 8, "messages": [{"role": "user", "content": "a" * 1_100_000}]}).encode()
    r = post(gw, path, body)
    assert r.status_code == 413 and check(r.json())
    assert emulator.calls() == []


def test_chunked_body_without_content_length_is_scanned(gw, emulator):
    body = json.dumps({"messages": [{"role": "user", "content": f"card {CARD}"}]}).encode()
    r = post(gw, "/v1/chat/completions", iter([body[:20], body[20:]]))
    assert r.status_code == 400 and r.headers["X-Guardrail-Rule"] == "pii.card.number"


# --- roles


def test_ops_may_give_last_four_and_order_numbers(gw, emulator):
    text = "Order 7781234: card ending 3012, tracking 1Z999AA10123456784, order number 4526018159083012"
    r = post(gw, "/v1/chat/completions", {"messages": [{"role": "user", "content": text}]}, "ecommerce_ops")
    assert r.status_code == 200 and "X-Guardrail-Masked" not in r.headers
    assert text in json.dumps(emulator.calls()[0]["body"])


def test_analyst_may_send_read_only_sql_but_not_guest(gw, emulator):
    sql = "SELECT count(*) FROM orders WHERE created_at > '2024-01-01' GROUP BY status"
    assert post(gw, "/v1/chat", {"messages": [{"role": "user", "content": sql}]}, "analyst").status_code == 200
    r = post(gw, "/v1/chat", {"messages": [{"role": "user", "content": sql}]}, "guest")
    assert r.status_code == 400 and r.headers["X-Guardrail-Rule"] == "sqli.raw_select"
    destructive = "DELETE FROM orders;"
    r = post(gw, "/v1/chat", {"messages": [{"role": "user", "content": destructive}]}, "analyst")
    assert r.status_code == 400 and r.headers["X-Guardrail-Rule"] == "sqli.destructive"


def test_no_role_is_treated_like_a_guest(gw, emulator):
    r = post(gw, "/v1/chat", {"messages": [{"role": "user", "content": "my password is hunter2"}]}, "other")
    assert r.status_code == 400 and r.headers["X-Guardrail-Rule"] == "cred.password.value"


# --- what Kong sees: PDK calls, logs


def test_clean_request_costs_four_pdk_calls(gw, emulator):
    before = gw.rpc_stats()["plugins"]["ecommerce-guardrails"]["by_pdk_method"].copy()
    r = post(gw, "/v1/chat", {"messages": [{"role": "user", "content": "Can I pay by credit card?"}]})
    assert r.status_code == 200
    after = gw.rpc_stats()["plugins"]["ecommerce-guardrails"]["by_pdk_method"]
    delta = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    assert delta == {
        "kong.client.get_consumer": 1,
        "kong.ctx.shared.get": 1,  # the jwt plugin's token, for the role claim
        "kong.ctx.shared.set": 1,  # the identity, shared with token-meter and bedrock-proxy
        "kong.request.get_raw_body": 1,
    }


def test_logs_name_rule_and_role_never_the_text(gw, emulator):
    post(
        gw, "/v1/chat", {"messages": [{"role": "user", "content": f"card {CARD}, password={SECRET}"}]}, "ecommerce_ops"
    )
    post(gw, "/v1/chat", {"messages": [{"role": "user", "content": f"card {CARD}"}]}, "guest")
    expected = {
        ("mask", "payment_card", "pii.card.number", "ecommerce_ops"),
        ("mask", "credentials", "cred.password.value", "ecommerce_ops"),
        ("block", "payment_card", "pii.card.number", "guest"),
    }
    # The plugin server's stderr reaches Kong's error log asynchronously: wait for the lines.
    deadline = time.monotonic() + 10
    while True:
        gw.wait_idle()
        lines = [json.loads(line[line.index("{") :]) for line in gw.error_log() if "guardrail_finding" in line]
        seen = {(rec["decision"], rec["category"], rec["rule_id"], rec["role"]) for rec in lines}
        if expected <= seen or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert expected <= seen
    log = "\n".join(gw.error_log())
    assert "4526" not in log and SECRET not in log
