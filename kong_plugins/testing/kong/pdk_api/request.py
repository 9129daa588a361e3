"""kong.request.*: the client request as nginx holds it."""

from __future__ import annotations

import re
from typing import Any

from kong_plugins.testing.kong.pdk import PdkContext, PdkThrow, pdk
from kong_plugins.testing.kong.pdk_api.common import (
    MAX_ARGS_DEFAULT,
    parse_body,
    query_table,
)


@pdk("kong.request.get_scheme", "kong.request.get_forwarded_scheme")
def _scheme(ctx: PdkContext) -> str:
    return ctx.req.scheme


@pdk("kong.request.get_host", "kong.request.get_forwarded_host")
def _host(ctx: PdkContext) -> str:
    return ctx.req.host


@pdk("kong.request.get_port", "kong.request.get_forwarded_port")
def _port(ctx: PdkContext) -> int:
    return ctx.req.port


@pdk("kong.request.get_forwarded_path")
def _forwarded_path(ctx: PdkContext) -> str:
    return _normalized_path(ctx.req.path)


@pdk("kong.request.get_forwarded_prefix")
def _forwarded_prefix(ctx: PdkContext) -> None:
    return None  # no trusted X-Forwarded-Prefix (trusted_ips is empty by default)


@pdk("kong.request.get_http_version")
def _http_version(ctx: PdkContext) -> float:
    return ctx.req.http_version


@pdk("kong.request.get_method")
def _method(ctx: PdkContext) -> str:
    return ctx.req.method


def _normalized_path(raw: str) -> str:
    """Kong's get_path: percent-decoded unreserved characters, dot segments removed."""
    decoded = re.sub(
        r"%([0-9A-Fa-f]{2})",
        lambda m: chr(int(m.group(1), 16)) if re.match(r"[A-Za-z0-9\-._~]", chr(int(m.group(1), 16))) else m.group(0),
        raw,
    )
    out: list[str] = []
    for seg in decoded.split("/")[1:]:
        if seg == "..":
            if out:
                out.pop()
        elif seg != ".":
            out.append(seg)
    path = "/" + "/".join(out)
    return re.sub(r"/{2,}", "/", path)


@pdk("kong.request.get_path")
def _path(ctx: PdkContext) -> str:
    return _normalized_path(ctx.req.path)


@pdk("kong.request.get_raw_path")
def _raw_path(ctx: PdkContext) -> str:
    return ctx.req.path


@pdk("kong.request.get_path_with_query")
def _path_with_query(ctx: PdkContext) -> str:
    path = _normalized_path(ctx.req.path)
    return f"{path}?{ctx.req.raw_query}" if ctx.req.raw_query else path


@pdk("kong.request.get_raw_query")
def _raw_query(ctx: PdkContext) -> str:
    return ctx.req.raw_query


@pdk("kong.request.get_query_arg")
def _query_arg(ctx: PdkContext, name: Any) -> Any:
    if not isinstance(name, str):
        raise PdkThrow("query argument name must be a string")
    value = query_table(ctx.req.raw_query).get(name)
    return value[0] if isinstance(value, list) else value


@pdk("kong.request.get_query")
def _query(ctx: PdkContext, max_args: Any = None) -> dict[str, Any]:
    if max_args is not None and (not isinstance(max_args, int) or not 1 <= max_args <= 1000):
        raise PdkThrow("max_args must be a number between 1 and 1000")
    return query_table(ctx.req.raw_query, max_args or MAX_ARGS_DEFAULT)


def _raw_body(ctx: PdkContext, max_allowed_file_size: Any = None) -> bytes | None:
    body = ctx.req.body
    if len(body) <= ctx.node.client_body_buffer_size or ctx.req.body_in_memory:
        return body
    # nginx spilled the body to a temp file: Kong only reads it back when allowed to
    if max_allowed_file_size is None:
        return None
    if not isinstance(max_allowed_file_size, int):
        raise PdkThrow("max_allowed_file_size must be a number")
    if max_allowed_file_size == 0 or len(body) <= max_allowed_file_size:
        return body
    return None


@pdk("kong.request.get_raw_body")
def _get_raw_body(ctx: PdkContext, max_allowed_file_size: Any = None) -> bytes | None:
    return _raw_body(ctx, max_allowed_file_size)


@pdk("kong.request.get_body")
def _get_body(ctx: PdkContext, mimetype: Any = None, max_args: Any = None, max_file: Any = None) -> Any:
    body = _raw_body(ctx, max_file)
    if body is None:
        return None
    return parse_body(body, ctx.req.header("content-type"), mimetype if isinstance(mimetype, str) else None)


@pdk("kong.request.get_start_time")
def _start_time(ctx: PdkContext) -> float:
    return float(round(ctx.req.start_time * 1000))  # ngx.req.start_time() has ms resolution
