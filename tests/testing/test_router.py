"""Route matching order and upstream paths (Kong 3.9.3 traditional_compatible, v0 paths)."""

from __future__ import annotations

from typing import Any

import pytest

from kong_plugins.testing.kong.router import Router

SERVICES: dict[str, dict[str, Any]] = {"s": {"id": "s", "path": None}, "p": {"id": "p", "path": "/base"}}


def route(name: str, service: str = "s", **fields: Any) -> dict[str, Any]:
    return {"id": name, "name": name, "service": {"id": service}, "strip_path": True, **fields}


ROUTES = [
    route("short", paths=["/v1"]),
    route("long", paths=["/v1/chat"]),
    route("regex", paths=[r"~/v1/chat/(?<id>\d+)$"]),
    route("post-only", paths=["/v1/chat"], methods=["POST"]),
    route("hosted", paths=["/"], hosts=["*.example.com"]),
    route("based", service="p", paths=["/b"]),
    route("keep", paths=["/keep"], strip_path=False),
]


@pytest.mark.parametrize(
    ("method", "path", "host", "name", "upstream"),
    [
        ("GET", "/v1/models", "x", "short", "/models"),
        ("GET", "/v1/chat", "x", "long", "/"),
        ("POST", "/v1/chat", "x", "post-only", "/"),
        ("GET", "/v1/chat/42", "x", "regex", "/"),
        ("GET", "/anything", "api.example.com", "hosted", "/anything"),
        ("GET", "/b/x/y", "x", "based", "/base/x/y"),
        ("GET", "/b", "x", "based", "/base"),
        ("GET", "/keep/a", "x", "keep", "/keep/a"),
        ("GET", "/v1/a%2Fb", "x", "short", "/a%2Fb"),
    ],
)
def test_matching_and_upstream_path(method: str, path: str, host: str, name: str, upstream: str) -> None:
    m = Router(ROUTES, SERVICES).match(method, path, host)
    assert m is not None and m.route["name"] == name and m.upstream_path == upstream


def test_regex_captures() -> None:
    m = Router(ROUTES, SERVICES).match("GET", "/v1/chat/42", "x")
    assert m is not None and m.captures == {"unnamed": ["42"], "named": {"id": "42"}}


def test_no_match_is_none() -> None:
    assert Router(ROUTES, SERVICES).match("GET", "/other", "x") is None
