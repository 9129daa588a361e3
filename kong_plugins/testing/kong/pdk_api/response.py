"""kong.response.*: what the client receives."""

from __future__ import annotations

from typing import Any

from kong_plugins.testing.kong.pdk import PdkContext, PdkThrow, cjson_encode, pdk
from kong_plugins.testing.kong.pdk_api.common import (
    exit_response,
    header_name,
    header_values,
    kong_error_body,
)


def _check_status(status: Any, low: int = 100) -> int:
    if not isinstance(status, int) or isinstance(status, bool):
        raise PdkThrow("code must be a number")
    if not low <= status <= 599:
        raise PdkThrow(f"code must be a number between {low} and 599")
    return status


@pdk("kong.response.set_status")
def _set_status(ctx: PdkContext, status: Any) -> None:
    ctx.req.response.status = _check_status(status)


@pdk("kong.response.set_header")
def _resp_set_header(ctx: PdkContext, name: Any, value: Any = None) -> None:
    ctx.req.response.headers[header_name(name)] = header_values(value)


@pdk("kong.response.add_header")
def _resp_add_header(ctx: PdkContext, name: Any, value: Any = None) -> None:
    ctx.req.response.headers.setdefault(header_name(name), []).extend(header_values(value))


@pdk("kong.response.clear_header")
def _resp_clear_header(ctx: PdkContext, name: Any) -> None:
    ctx.req.response.headers.pop(header_name(name), None)


@pdk("kong.response.set_headers")
def _resp_set_headers(ctx: PdkContext, headers: Any) -> None:
    if not isinstance(headers, dict):
        raise PdkThrow("headers must be a table")
    for name, value in headers.items():
        ctx.req.response.headers[header_name(name)] = header_values(value)


@pdk("kong.response.exit")
def _exit(ctx: PdkContext, status: Any = None, body: Any = None, headers: Any = None) -> None:
    _check_status(status)
    if body is not None and not isinstance(body, str | bytes | dict | list):
        raise PdkThrow("body must be a nil, string or table")
    if headers is not None and not isinstance(headers, dict | list):
        raise PdkThrow("headers must be a nil or table")
    exit_response(ctx.req, status, body, headers if isinstance(headers, dict) else None)


@pdk("kong.response.error")
def _error(ctx: PdkContext, status: Any = None, message: Any = None, headers: Any = None) -> None:
    _check_status(status, 400)
    if isinstance(message, dict | list):
        message = cjson_encode(message)
    if message is not None and not isinstance(message, str):
        raise PdkThrow("message must be a nil, a string or a table")
    hdrs = dict(headers) if isinstance(headers, dict) else {}
    ctype = next((v for k, v in hdrs.items() if str(k).lower() == "content-type"), None)
    accept = ctype if isinstance(ctype, str) else ctx.req.header("accept")
    body, real_ctype = kong_error_body(status, message, ctx.req.request_id, accept)
    hdrs = {k: v for k, v in hdrs.items() if str(k).lower() != "content-type"}
    hdrs["Content-Type"] = ctype if isinstance(ctype, str) else real_ctype
    exit_response(ctx.req, status, body, hdrs)
