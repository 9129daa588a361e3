"""kong.service.*, kong.service.request.*, kong.service.response.*"""

from __future__ import annotations

import urllib.parse
from typing import Any

from kong_plugins.testing.kong.pdk import NotEmulated, PdkContext, PdkThrow, cjson_encode, pdk
from kong_plugins.testing.kong.pdk_api.common import (
    header_name,
    header_values,
    headers_table,
    parse_body,
    query_table,
    upstream_of,
)


@pdk("kong.service.set_upstream")
def _set_upstream(ctx: PdkContext, host: Any) -> None:
    if not isinstance(host, str):
        raise PdkThrow("host must be a string")
    ctx.log("error", f'could not find an Upstream named "{host}"')
    return None  # the harness knows no Upstream entities


@pdk("kong.service.set_target")
def _set_target(ctx: PdkContext, host: Any, port: Any) -> None:
    if not isinstance(host, str):
        raise PdkThrow("host must be a string")
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise PdkThrow("port must be an integer between 0 and 65535: given " + str(port))
    up = upstream_of(ctx)
    up.host, up.port = host, port
    ctx.req.service_options["target"] = (host, port)


@pdk("kong.service.set_retries")
def _set_retries(ctx: PdkContext, retries: Any) -> None:
    if not isinstance(retries, int) or not 0 <= retries <= 32767:
        raise PdkThrow("retries must be an integer between 0 and 32767: given " + str(retries))
    ctx.req.service_options["retries"] = retries


@pdk("kong.service.set_timeouts")
def _set_timeouts(ctx: PdkContext, connect: Any, write: Any, read: Any) -> None:
    for label, value in (("connect", connect), ("write", write), ("read", read)):
        if not isinstance(value, int) or not 1 <= value <= 2147483646:
            raise PdkThrow(f"{label}_timeout must be an integer between 1 and 2147483646: given {value}")
    ctx.req.service_options["timeouts"] = {"connect": connect, "write": write, "read": read}


@pdk("kong.service.set_tls_verify")
def _set_tls_verify(ctx: PdkContext, on: Any) -> bool:
    if not isinstance(on, bool):
        raise PdkThrow("argument must be a boolean")
    ctx.req.service_options["tls_verify"] = on
    return True


@pdk("kong.service.set_tls_verify_depth")
def _set_tls_verify_depth(ctx: PdkContext, depth: Any) -> bool:
    if not isinstance(depth, int) or isinstance(depth, bool):
        raise PdkThrow("argument must be a number")
    ctx.req.service_options["tls_verify_depth"] = depth
    return True


@pdk("kong.service.request.enable_buffering")
def _enable_buffering(ctx: PdkContext) -> None:
    ctx.req.buffered = True


@pdk("kong.service.request.set_scheme")
def _up_scheme(ctx: PdkContext, scheme: Any) -> None:
    if scheme not in ("http", "https"):
        raise PdkThrow("invalid scheme: " + str(scheme))
    upstream_of(ctx).scheme = scheme


@pdk("kong.service.request.set_path")
def _up_path(ctx: PdkContext, path: Any) -> None:
    if not isinstance(path, str) or not path.startswith("/"):
        raise PdkThrow("path must start with /")
    upstream_of(ctx).path = urllib.parse.quote(path, safe="/%:@!$&'()*+,;=-._~")


# nginx keeps one copy of the request: ngx.req.set_header/set_uri_args/set_method/set_body_data
# change what the upstream gets AND what later kong.request.* getters return. Only the path
# (upstream_uri), the scheme and the target are upstream-only.


def _set_query(ctx: PdkContext, query: str) -> None:
    upstream_of(ctx).query = query
    ctx.req.raw_query = query


@pdk("kong.service.request.set_raw_query")
def _up_raw_query(ctx: PdkContext, query: Any) -> None:
    if not isinstance(query, str):
        raise PdkThrow("query must be a string")
    _set_query(ctx, query)


@pdk("kong.service.request.set_method")
def _up_method(ctx: PdkContext, method: Any) -> None:
    valid = {"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "MKCOL", "COPY", "MOVE", "PROPFIND"}
    valid |= {"PROPPATCH", "LOCK", "UNLOCK", "PATCH", "TRACE"}
    if method not in valid:
        raise PdkThrow("invalid method: " + str(method))
    upstream_of(ctx).method = method
    ctx.req.method = method


def _encode_query(args: dict[str, Any]) -> str:
    parts: list[str] = []
    for k in sorted(args):
        v = args[k]
        for item in v if isinstance(v, list) else [v]:
            if item is True:
                parts.append(urllib.parse.quote(str(k)))
            elif item is not False:
                parts.append(f"{urllib.parse.quote(str(k))}={urllib.parse.quote(str(item))}")
    return "&".join(parts)


@pdk("kong.service.request.set_query")
def _up_query(ctx: PdkContext, args: Any) -> None:
    if not isinstance(args, dict | list):
        raise PdkThrow("args must be a table")
    _set_query(ctx, _encode_query(args if isinstance(args, dict) else {}))


@pdk("kong.service.request.clear_query_arg")
def _up_clear_query_arg(ctx: PdkContext, name: Any) -> None:
    if not isinstance(name, str):
        raise PdkThrow("query argument name must be a string")
    args = query_table(upstream_of(ctx).query, 0)
    args.pop(name, None)
    _set_query(ctx, _encode_query(args))


def _set_request_header(ctx: PdkContext, lname: str, values: list[str] | None) -> None:
    """ngx.req.set_header: an empty table clears the header, as clear_header does."""
    up = upstream_of(ctx)
    for headers in (up.headers, ctx.req.headers):
        if not values:
            headers.pop(lname, None)
        else:
            headers[lname] = list(values)
    if lname == "host":  # also ngx.var.upstream_host: the Host sent upstream
        up.host_header = values[0] if values else None


@pdk("kong.service.request.set_header")
def _up_set_header(ctx: PdkContext, name: Any, value: Any = None) -> None:
    _set_request_header(ctx, header_name(name), header_values(value))


@pdk("kong.service.request.add_header")
def _up_add_header(ctx: PdkContext, name: Any, value: Any = None) -> None:
    lname = header_name(name)
    current = upstream_of(ctx).headers.get(lname, [])
    _set_request_header(ctx, lname, [*current, *header_values(value)])


@pdk("kong.service.request.clear_header")
def _up_clear_header(ctx: PdkContext, name: Any) -> None:
    if not isinstance(name, str):
        raise PdkThrow("header must be a string")
    lname = name.lower()
    _set_request_header(ctx, lname, None)
    if lname == "host":
        upstream_of(ctx).host_header = None


@pdk("kong.service.request.set_headers")
def _up_set_headers(ctx: PdkContext, headers: Any) -> None:
    if not isinstance(headers, dict):
        raise PdkThrow("headers must be a table")
    checked = [(header_name(k), header_values(v)) for k, v in headers.items()]  # all or nothing
    for lname, values in checked:
        _set_request_header(ctx, lname, values)


def _set_body(ctx: PdkContext, body: bytes) -> None:
    """ngx.req.set_body_data: the new body is held in memory (never spilled)."""
    up = upstream_of(ctx)
    up.body = body
    ctx.req.body = body
    ctx.req.body_in_memory = True
    _set_request_header(ctx, "content-length", [str(len(body))])


@pdk("kong.service.request.set_raw_body")
def _up_raw_body(ctx: PdkContext, body: Any) -> None:
    if not isinstance(body, str | bytes):
        raise PdkThrow("body must be a string")
    _set_body(ctx, body.encode() if isinstance(body, str) else body)


@pdk("kong.service.request.set_body")
def _up_body(ctx: PdkContext, args: Any, mimetype: Any = None) -> bool:
    if not isinstance(args, dict | list):
        raise PdkThrow("args must be a table")
    up = upstream_of(ctx)
    ctype = mimetype if isinstance(mimetype, str) else (up.headers.get("content-type") or [""])[0]
    ctype = ctype.split(";")[0].strip().lower()
    if ctype == "application/json":
        body = cjson_encode(args).encode()
    elif ctype == "application/x-www-form-urlencoded":
        body = _encode_query(args if isinstance(args, dict) else {}).encode()
    else:
        raise NotEmulated(f"set_body with content type {ctype!r}")
    _set_body(ctx, body)
    _set_request_header(ctx, "content-type", [ctype])
    return True


# ---------------------------------------------------------------- kong.service.response


@pdk("kong.service.response.get_status")
def _svc_status(ctx: PdkContext) -> int | None:
    return ctx.req.service_response.status if ctx.req.service_response else None


@pdk("kong.service.response.get_headers")
def _svc_headers(ctx: PdkContext, max_headers: Any = None) -> dict[str, Any]:
    sr = ctx.req.service_response
    return headers_table(sr.headers, max_headers if isinstance(max_headers, int) else None) if sr else {}


@pdk("kong.service.response.get_header")
def _svc_header(ctx: PdkContext, name: Any) -> str | None:
    sr = ctx.req.service_response
    values = sr.headers.get(header_name(name)) if sr else None
    return values[0] if values else None


def _buffered_body(ctx: PdkContext) -> bytes:
    sr = ctx.req.service_response
    if not ctx.req.buffered or sr is None:
        raise PdkThrow("service response body is only available with buffered proxying")
    return sr.body


@pdk("kong.service.response.get_raw_body")
def _svc_raw_body(ctx: PdkContext) -> bytes:
    return _buffered_body(ctx)


@pdk("kong.service.response.get_body")
def _svc_body(ctx: PdkContext, mimetype: Any = None, max_args: Any = None) -> Any:
    body = _buffered_body(ctx)
    sr = ctx.req.service_response
    ctype = (sr.headers.get("content-type") or [""])[0] if sr else None
    return parse_body(body, ctype, mimetype if isinstance(mimetype, str) else None)
