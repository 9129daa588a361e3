"""Route matching and the upstream path, as Kong 3.9.3's `traditional_compatible` router does
for what our configs use: paths (prefix and `~` regex), methods and hosts.

Order: routes with more matching criteria first; then regex paths (by regex_priority, then
declaration order) before prefix paths, longest prefix first. A method that does not match
is simply no match: Kong answers 404 "no Route matched with those values", never 405.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote


@dataclass(frozen=True)
class Match:
    route: dict[str, Any]
    service: dict[str, Any] | None
    matched_path: str  # the part of the request path the route's path matched
    upstream_path: str  # path sent to the service (percent-encoding kept)
    captures: dict[str, Any] = field(default_factory=lambda: {"unnamed": [], "named": {}})


@dataclass(frozen=True)
class _Candidate:
    route: dict[str, Any]
    regex: re.Pattern[str] | None
    prefix: str | None
    weight: tuple[int, int, int, int, int]
    order: int


class Router:
    def __init__(self, routes: list[dict[str, Any]], services: dict[str, dict[str, Any]]) -> None:
        self.services = services
        candidates: list[_Candidate] = []
        for order, route in enumerate(routes):
            # kong/router/transform.lua get_priority: match weight = number of fields set, then
            # the regex bit, regex_priority, then the path length.
            criteria = sum(1 for k in ("methods", "hosts", "headers", "paths", "snis") if route.get(k))
            for path in route.get("paths") or [None]:
                if path is not None and path.startswith("~"):
                    regex = compile_path_regex(path)
                    weight = (criteria, 1, int(route.get("regex_priority", 0)), 0, -order)
                    candidates.append(_Candidate(route, regex, None, weight, order))
                else:
                    weight = (criteria, 0, 0, len(path or ""), -order)
                    candidates.append(_Candidate(route, None, path, weight, order))
        self._candidates = sorted(candidates, key=lambda c: c.weight, reverse=True)

    def match(self, method: str, raw_path: str, host: str) -> Match | None:
        # Kong matches on the normalized (percent-decoded) path.
        path = unquote(raw_path)
        host = host.split(":", 1)[0].lower()
        for c in self._candidates:
            route = c.route
            if route.get("methods") and method.upper() not in route["methods"]:
                continue
            if route.get("hosts") and not any(_host_ok(h, host) for h in route["hosts"]):
                continue
            captures: dict[str, Any] = {"unnamed": [], "named": {}}
            if c.regex is not None:
                m = c.regex.match(path)
                if m is None:
                    continue
                matched = m.group(0)
                captures = {"unnamed": list(m.groups()), "named": m.groupdict()}
            elif c.prefix is not None:
                if not path.startswith(c.prefix):
                    continue
                matched = c.prefix
            else:
                matched = ""
            service = self.services.get((route.get("service") or {}).get("id", ""))
            return Match(route, service, matched, upstream_path(route, service, raw_path, matched), captures)
        return None


_PCRE_NAMED = re.compile(r"\(\?<(?=[A-Za-z_])")


def compile_path_regex(path: str) -> re.Pattern[str]:
    """A `~` path as Python regex: PCRE's (?<name>...) becomes (?P<name>...). Raises re.error."""
    return re.compile(_PCRE_NAMED.sub("(?P<", path[1:]))


def _host_ok(pattern: str, host: str) -> bool:
    pattern = pattern.lower()
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    if pattern.endswith(".*"):
        return host.startswith(pattern[:-1])
    return host == pattern


def upstream_path(route: dict[str, Any], service: dict[str, Any] | None, raw_path: str, matched: str) -> str:
    """Kong's upstream URI: service path + request path, minus the matched prefix when strip_path."""
    rest = raw_path
    if route.get("strip_path", True) and matched:
        # The matched part is measured on the decoded path; strip the same decoded length.
        decoded = unquote(raw_path)
        if decoded.startswith(matched):
            rest = decoded[len(matched) :] if raw_path == decoded else _strip_encoded(raw_path, matched)
    base = (service or {}).get("path") or "/"
    if route.get("path_handling", "v0") == "v1" and route.get("strip_path", True) is False:
        return _join(base, rest)
    if rest == "" or rest == "/":
        return base if rest == "" else (base if base.endswith("/") else base + "/")
    return _join(base, rest)


def _join(base: str, rest: str) -> str:
    if not rest:
        return base
    if base.endswith("/") and rest.startswith("/"):
        return base + rest[1:]
    if not base.endswith("/") and not rest.startswith("/"):
        return base + "/" + rest
    return base + rest


def _strip_encoded(raw_path: str, matched: str) -> str:
    i = 0
    decoded_len = 0
    while decoded_len < len(matched) and i < len(raw_path):
        i += 3 if raw_path[i] == "%" else 1
        decoded_len += 1
    return raw_path[i:]
