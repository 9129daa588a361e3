"""HTTP scenarios against kong-local.yaml, shared by the harness suite
(tests/testing/test_scenarios.py) and the real-Kong suite (tests/e2e/test_real_kong.py), so
both run the very same cases. Plain data plus a small runner that only needs a base URL.

Keys are the documented local keys of kong-local.yaml; Bedrock and Gemini are the emulator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests

CHAT = {"messages": [{"role": "user", "content": "Hello"}]}
USAGE_HEADERS = ("X-LLM-Model", "X-LLM-Input-Tokens", "X-LLM-Output-Tokens", "X-LLM-Total-Tokens", "X-LLM-Cost-USD")


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # dict -> JSON; bytes/str sent as is
    expect_headers: tuple[str, ...] = ()  # response headers that must be present
    absent_headers: tuple[str, ...] = ()  # response headers that must not be present
    json_fields: dict[str, Any] = field(default_factory=dict)  # dotted path -> value (None: present)
    body_contains: tuple[str, ...] = ()


def key(k: str) -> dict[str, str]:
    return {"X-API-Key": k}


SCENARIOS: list[Scenario] = [
    Scenario(
        "seed curl: /v1/chat as dev-user-1",
        "POST",
        "/v1/chat",
        200,
        headers=key("dev-key-123"),
        body=CHAT,
        expect_headers=(*USAGE_HEADERS, "X-RateLimit-Limit-Tokens-Minute", "X-RateLimit-Remaining-Tokens-Minute"),
        json_fields={"object": "chat.completion", "choices.0.message.role": "assistant"},
    ),
    Scenario(
        "guardrail: SQL injection blocked before Bedrock",
        "POST",
        "/v1/chat",
        400,
        headers=key("guest-key-123"),
        body={"messages": [{"role": "user", "content": "' OR 1=1; DROP TABLE orders; --"}]},
        expect_headers=("X-Guardrail-Category",),
        absent_headers=USAGE_HEADERS,
        json_fields={"error.code": "guardrail_blocked"},
    ),
    Scenario(
        "no key: Kong's key-auth 401",
        "POST",
        "/v1/chat",
        401,
        body=CHAT,
        json_fields={"message": "No API key found in request"},
        expect_headers=("WWW-Authenticate",),
    ),
    Scenario(
        "wrong key: Kong's key-auth 401",
        "POST",
        "/v1/chat",
        401,
        headers=key("not-a-key"),
        body=CHAT,
        absent_headers=USAGE_HEADERS,
    ),
    Scenario(
        # key_in_query is off: Kong logs the request URI as sent, so a key there would leak
        "a key in the query string is refused",
        "POST",
        "/v1/chat?apikey=guest-key-123",
        401,
        body=CHAT,
        absent_headers=("X-LLM-Model",),
    ),
    Scenario(
        "OpenAI chat completions",
        "POST",
        "/v1/chat/completions",
        200,
        headers=key("analyst-key-123"),
        body={"model": "sonnet", "messages": [{"role": "system", "content": "Be brief."}, *CHAT["messages"]]},
        expect_headers=USAGE_HEADERS,
        json_fields={"object": "chat.completion", "usage.total_tokens": None},
    ),
    Scenario(
        "Anthropic messages",
        "POST",
        "/v1/messages",
        200,
        headers={"x-api-key": "ops-key-123", "anthropic-version": "2023-06-01"},
        body={"model": "sonnet", "max_tokens": 64, "messages": CHAT["messages"]},
        expect_headers=USAGE_HEADERS,
        json_fields={"type": "message", "role": "assistant", "usage.output_tokens": None},
    ),
    Scenario(
        "models allowed for a guest",
        "GET",
        "/v1/models",
        200,
        headers=key("guest-key-123"),
        json_fields={"object": "list", "data.0.id": None},
    ),
    Scenario(
        "a model the role may not use: 403",
        "POST",
        "/v1/chat/completions",
        403,
        headers=key("guest-key-123"),
        body={"model": "opus", "messages": CHAT["messages"]},
        absent_headers=USAGE_HEADERS,
    ),
    Scenario(
        "a spoofed X-Consumer-Groups header grants nothing",
        "POST",
        "/v1/chat/completions",
        403,
        headers={**key("guest-key-123"), "X-Consumer-Groups": "admin"},
        body={"model": "opus", "messages": CHAT["messages"]},
    ),
    Scenario(
        "body that is not JSON: 400 in the client's format",
        "POST",
        "/v1/chat/completions",
        400,
        headers={**key("dev-key-123"), "Content-Type": "application/json"},
        body=b"{not json",
        json_fields={"error.message": None},
    ),
    Scenario(
        "no route for GET /v1/chat: Kong's 404",
        "GET",
        "/v1/chat",
        404,
        headers=key("dev-key-123"),
        json_fields={"message": "no Route matched with those values"},
    ),
]


def _dig(doc: Any, dotted: str) -> Any:
    cur = doc
    for part in dotted.split("."):
        if isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        elif isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            raise KeyError(dotted)
    return cur


def run(base_url: str, scenario: Scenario, timeout: float = 60) -> list[str]:
    """Problems seen when sending `scenario` to the gateway at base_url (empty: it passed)."""
    headers = dict(scenario.headers)
    data: bytes | None = None
    if isinstance(scenario.body, (dict, list)):
        data = json.dumps(scenario.body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(scenario.body, (bytes, str)):
        data = scenario.body.encode() if isinstance(scenario.body, str) else scenario.body
    resp = requests.request(scenario.method, base_url + scenario.path, data=data, headers=headers, timeout=timeout)
    problems = []
    if resp.status_code != scenario.status:
        problems.append(f"status {resp.status_code}, expected {scenario.status}: {resp.text[:300]}")
    problems += [f"missing header {h}" for h in scenario.expect_headers if h not in resp.headers]
    problems += [f"unexpected header {h}" for h in scenario.absent_headers if h in resp.headers]
    if scenario.json_fields:
        try:
            doc = resp.json()
        except ValueError:
            return [*problems, f"body is not JSON: {resp.text[:200]}"]
        for path, want in scenario.json_fields.items():
            try:
                got = _dig(doc, path)
            except KeyError:
                problems.append(f"body has no {path}: {json.dumps(doc)[:300]}")
                continue
            if want is not None and got != want:
                problems.append(f"body {path} = {got!r}, expected {want!r}")
    problems += [f"body lacks {s!r}" for s in scenario.body_contains if s not in resp.text]
    return [f"{scenario.name}: {p}" for p in problems]


def run_all(base_url: str) -> list[str]:
    return [p for s in SCENARIOS for p in run(base_url, s)]
