"""Functions the plugin server bridges itself (plugin.lua `exposed_api`): snapshot-aware in the log timer."""

from __future__ import annotations

import urllib.parse
from typing import Any

from kong_plugins.testing.kong.pdk import PdkContext, PdkThrow, cjson_encode, pdk
from kong_plugins.testing.kong.pdk_api.common import (
    header_name,
    headers_table,
    serialize,
)


@pdk("kong.log.serialize")
def _serialize(ctx: PdkContext) -> str:
    snap = ctx.snapshot.serialize if ctx.snapshot else serialize(ctx.req)
    return cjson_encode(snap)


_NGX_VARS = {
    "request_uri": lambda r: r.path + (f"?{r.raw_query}" if r.raw_query else ""),
    "uri": lambda r: urllib.parse.unquote(r.path),
    "args": lambda r: r.raw_query or None,
    "is_args": lambda r: "?" if r.raw_query else "",
    "host": lambda r: r.host,
    "scheme": lambda r: r.scheme,
    "server_port": lambda r: str(r.port),
    "remote_addr": lambda r: r.client_ip,
    "remote_port": lambda r: str(r.client_port),
    "request_method": lambda r: r.method,
    "request_id": lambda r: r.request_id,
    "request_length": lambda r: str(len(r.body)),
    "upstream_uri": lambda r: (
        (r.upstream.path + (f"?{r.upstream.query}" if r.upstream.query else "")) if r.upstream else ""
    ),
}


@pdk("kong.nginx.get_var")
def _get_var(ctx: PdkContext, name: str) -> Any:
    if not isinstance(name, str):
        raise PdkThrow("bad variable name")
    if name.startswith("http_"):
        return ctx.req.header(name[5:].replace("_", "-"))
    fn = _NGX_VARS.get(name)
    return fn(ctx.req) if fn else None


@pdk("kong.nginx.get_tls1_version_str")
def _tls_version(ctx: PdkContext) -> None:
    return None  # the harness front speaks plain HTTP


@pdk("kong.nginx.get_ctx")
def _get_ctx(ctx: PdkContext, key: Any) -> Any:
    return (ctx.ngx_ctx if ctx.in_log else ctx.req.ngx_ctx).get(key)


@pdk("kong.nginx.set_ctx")
def _set_ctx(ctx: PdkContext, key: Any, value: Any = None) -> None:
    target = ctx.ngx_ctx if ctx.in_log else ctx.req.ngx_ctx
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


@pdk("kong.nginx.req_start_time")
def _req_start_time(ctx: PdkContext) -> float:
    return round(ctx.snapshot.req_start_time if ctx.snapshot else ctx.req.start_time, 3)


@pdk("kong.ctx.shared.get")
def _shared_get(ctx: PdkContext, key: Any) -> Any:
    shared = ctx.snapshot.ctx_shared if ctx.snapshot else ctx.req.ctx_shared
    return shared.get(key)


@pdk("kong.ctx.shared.set")
def _shared_set(ctx: PdkContext, key: Any, value: Any = None) -> None:
    shared = ctx.snapshot.ctx_shared if ctx.snapshot else ctx.req.ctx_shared
    if value is None:
        shared.pop(key, None)
    else:
        shared[key] = value


@pdk("kong.request.get_headers")
def _req_get_headers(ctx: PdkContext, max_headers: int | None = None) -> dict[str, Any]:
    if ctx.snapshot:
        return headers_table(ctx.snapshot.request_headers, None)
    if max_headers is not None and (not isinstance(max_headers, int) or not 1 <= max_headers <= 1000):
        raise PdkThrow("max_headers must be a number between 1 and 1000")
    return headers_table(ctx.req.headers, max_headers)


@pdk("kong.request.get_header")
def _req_get_header(ctx: PdkContext, name: str) -> str | None:
    if not isinstance(name, str):
        raise PdkThrow("header name must be a string")
    headers = ctx.snapshot.request_headers if ctx.snapshot else ctx.req.headers
    values = headers.get(name.lower()) or ([] if ctx.snapshot else headers.get(name.lower().replace("_", "-")))
    return values[0] if values else None


@pdk("kong.request.get_uri_captures")
def _uri_captures(ctx: PdkContext) -> dict[str, Any]:
    return ctx.req.uri_captures


@pdk("kong.response.get_status")
def _resp_status(ctx: PdkContext) -> int:
    return ctx.snapshot.response_status if ctx.snapshot else ctx.req.response.status


@pdk("kong.response.get_headers")
def _resp_headers(ctx: PdkContext, max_headers: int | None = None) -> dict[str, Any]:
    headers = ctx.snapshot.response_headers if ctx.snapshot else ctx.req.response.headers
    return headers_table(headers, None if ctx.snapshot else max_headers)


@pdk("kong.response.get_header")
def _resp_header(ctx: PdkContext, name: str) -> str | None:
    headers = ctx.snapshot.response_headers if ctx.snapshot else ctx.req.response.headers
    values = headers.get(header_name(name))
    return values[0] if values else None


@pdk("kong.response.get_source")
def _resp_source(ctx: PdkContext) -> str:
    return ctx.req.response.source
