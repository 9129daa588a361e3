"""Emulation of each Kong 3.9.3 PDK function a plugin server may call, served from KongRequest.

Phase checks happen before these run (pdk.py, from pdk_methods.py); here only argument
checks that make Kong throw, and the effects. In the log timer, the bridged getters answer
from the snapshot (kong/runloop/plugin_servers/plugin.lua `exposed_api`).
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from typing import Any

from kong_plugins.testing.kong.node import DEFAULT_WS_ID
from kong_plugins.testing.kong.pdk import NotEmulated, PdkContext, PdkThrow, cjson_encode, pdk
from kong_plugins.testing.kong.request import KongRequest, UpstreamRequest

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
HTTP_ERROR_MESSAGES = {
    400: "Bad request",
    401: "Unauthorized",
    402: "Payment required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    407: "Proxy authentication required",
    408: "Request timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length required",
    412: "Precondition failed",
    413: "Payload too large",
    414: "URI too long",
    415: "Unsupported media type",
    416: "Range not satisfiable",
    417: "Expectation failed",
    418: "I'm a teapot",
    421: "Misdirected request",
    422: "Unprocessable entity",
    423: "Locked",
    424: "Failed dependency",
    425: "Too early",
    426: "Upgrade required",
    428: "Precondition required",
    429: "Too many requests",
    431: "Request header fields too large",
    451: "Unavailable for legal reasons",
    494: "Request header or cookie too large",
    500: "An unexpected error occurred",
    501: "Not implemented",
    502: "An invalid response was received from the upstream server",
    503: "The upstream server is currently unavailable",
    504: "The upstream server is timing out",
    505: "HTTP version not supported",
    506: "Variant also negotiates",
    507: "Insufficient storage",
    508: "Loop detected",
    510: "Not extended",
    511: "Network authentication required",
}
ERROR_TEMPLATES = {
    "application/json; charset=utf-8": '{\n  "message":"%s",\n  "request_id":"%s"\n}',
    "text/plain; charset=utf-8": "%s\nrequest_id: %s\n",
    "text/html; charset=utf-8": (
        '<!doctype html>\n<html>\n  <head>\n    <meta charset="utf-8">\n    <title>Error</title>\n'
        "  </head>\n  <body>\n    <h1>Error</h1>\n    <p>%s.</p>\n    <p>request_id: %s</p>\n"
        "  </body>\n</html>\n"
    ),
    "application/xml; charset=utf-8": (
        '<?xml version="1.0" encoding="UTF-8"?>\n<error>\n  <message>%s</message>\n'
        "  <requestid>%s</requestid>\n</error>"
    ),
}
_MIME = {
    "application/json": "application/json; charset=utf-8",
    "text/html": "text/html; charset=utf-8",
    "text/plain": "text/plain; charset=utf-8",
    "application/xml": "application/xml; charset=utf-8",
    "application/*": "application/json; charset=utf-8",
    "text/*": "text/plain; charset=utf-8",
}
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_VAULT_RE = re.compile(r"^\{vault://([^/]+)/([^}]+)\}$")
MAX_HEADERS_DEFAULT = 100
MAX_ARGS_DEFAULT = 100


# ---------------------------------------------------------------- helpers shared with the harness


def response_type(accept: str | None) -> str:
    """tools/http.lua get_response_type: the error body's content type from Accept."""
    best, best_q = JSON_CONTENT_TYPE, 0.0
    for part in (accept or "").split(","):
        bits = [b.strip() for b in part.split(";")]
        media = bits[0].lower()
        if "/" not in media:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if q > best_q:
            best_q = q
            best = _MIME.get(media, best)
    return best


def kong_error_body(status: int, message: str | None, request_id: str, accept: str | None) -> tuple[bytes, str]:
    """Body and content type of kong.response.error / Kong's error pages."""
    ctype = response_type(accept)
    text = (
        message
        if message is not None
        else HTTP_ERROR_MESSAGES.get(status, f"The upstream server responded with {status}")
    )
    return (ERROR_TEMPLATES[ctype] % (text, request_id)).encode(), ctype


def exit_response(req: KongRequest, status: int, body: Any = None, headers: dict[str, Any] | None = None) -> None:
    """kong.response.exit's effect on the client response (Kong's `send`)."""
    resp = req.response
    resp.status = status
    has_ctype = False
    for name, value in (headers or {}).items():
        lname = str(name).lower()
        if lname in ("transfer-encoding", "content-length"):
            continue
        resp.headers[lname] = _header_values(value)
        has_ctype = has_ctype or lname == "content-type"
    if isinstance(body, dict | list):
        resp.body = cjson_encode(body).encode()
        if not has_ctype:
            resp.headers["content-type"] = [JSON_CONTENT_TYPE]
    elif isinstance(body, bytes | bytearray):
        resp.body = bytes(body)
    elif isinstance(body, str):
        resp.body = body.encode()
    else:
        resp.body = b""
    resp.source = "exit"
    req.exited = True


def serialize(req: KongRequest, node_id: str = "") -> dict[str, Any]:
    """kong.log.serialize() for http (kong/pdk/log.lua), from the finished request."""
    del node_id
    headers: dict[str, Any] = {k: (v[0] if len(v) == 1 else list(v)) for k, v in req.headers.items()}
    for secret in ("authorization", "proxy-authorization"):
        if secret in headers:
            headers[secret] = "REDACTED"
    request_uri = req.path + (f"?{req.raw_query}" if req.raw_query else "")
    default_port = (req.scheme == "http" and req.port == 80) or (req.scheme == "https" and req.port == 443)
    del default_port  # Kong always prints the port it listens on
    up = req.upstream
    upstream_uri = ""
    if up is not None:
        upstream_uri = up.path + (f"?{up.query}" if up.query else "")
    svc_status = req.service_response.status if req.service_response else None
    resp_headers = {k: (v[0] if len(v) == 1 else list(v)) for k, v in req.response.headers.items()}
    resp_size = len(req.response.body) + sum(len(k) + len(x) + 4 for k, v in req.response.headers.items() for x in v)
    req_size = len(req.body) + sum(len(k) + len(x) + 4 for k, v in req.headers.items() for x in v)
    consumer = req.consumer
    credential = req.credential
    tries = None
    if req.service_response is not None and up is not None:
        tries = [{"ip": up.host, "port": up.port, "balancer_latency": 0}]
    root: dict[str, Any] = {
        "request": {
            "id": req.request_id,
            "uri": request_uri,
            "url": f"{req.scheme}://{req.host}:{req.port}{request_uri}",
            "querystring": _query_table(req.raw_query),
            "method": req.method,
            "headers": headers,
            "size": req_size,
        },
        "upstream_uri": upstream_uri,
        "upstream_status": str(svc_status) if svc_status is not None else "",
        "response": {"status": req.response.status, "headers": resp_headers, "size": resp_size},
        "latencies": {
            "kong": req.latencies.get("kong", 0),
            "proxy": req.latencies.get("proxy", -1),
            "request": req.latencies.get("request", 0),
            "receive": req.latencies.get("receive", 0),
        },
        "tries": tries,
        "route": req.route,
        "service": req.service,
        "consumer": consumer,
        "client_ip": req.client_ip,
        "started_at": int(req.start_time * 1000),
        "source": {"exit": "kong", "error": "kong"}.get(req.response.source, "upstream"),
        "workspace": DEFAULT_WS_ID,
        "workspace_name": "default",
    }
    if credential:  # log.lua build_authenticated_entity: from ctx.authenticated_credential
        cred_consumer = credential.get("consumer")
        root["authenticated_entity"] = {
            "id": credential.get("id"),
            "consumer_id": (cred_consumer or {}).get("id")
            if isinstance(cred_consumer, dict)
            else (consumer or {}).get("id"),
        }
    for key, value, mode in req.serialize_ops:
        _edit(root, key, value, mode)
    return {k: v for k, v in root.items() if v is not None}


def _edit(root: dict[str, Any], key: str, value: Any, mode: str) -> None:
    """log.lua edit_result: dotted keys nest; add = only if absent, replace = only if present."""
    parts = key.split(".")
    node = root
    for part in parts[:-1]:
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            if mode == "replace":
                return
            nxt = {}
            node[part] = nxt
        node = nxt
    last = parts[-1]
    if mode == "add" and last in node:
        return
    if mode == "replace" and last not in node:
        return
    node[last] = value


def _header_values(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [_header_str(v) for v in value]
    return [_header_str(value)]


def _header_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise PdkThrow(f"invalid header value: got {type(value).__name__}, expected string, number or boolean")


def _header_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise PdkThrow("header name must be a string")
    return name.lower()


def _query_table(raw: str, max_args: int = MAX_ARGS_DEFAULT) -> dict[str, Any]:
    """ngx.req.get_uri_args: str for one value, list for repeats, True for a bare flag."""
    out: dict[str, Any] = {}
    count = 0
    for part in raw.split("&") if raw else []:
        if not part:
            continue
        count += 1
        if max_args and count > max_args:
            break
        if "=" in part:
            k, v = part.split("=", 1)
            val: Any = urllib.parse.unquote_plus(v)
        else:
            k, val = part, True
        k = urllib.parse.unquote_plus(k)
        if k in out:
            prev = out[k]
            out[k] = [*prev, val] if isinstance(prev, list) else [prev, val]
        else:
            out[k] = val
    return out


def _headers_table(headers: dict[str, list[str]], max_headers: int | None) -> dict[str, Any]:
    limit = max_headers or MAX_HEADERS_DEFAULT
    out: dict[str, Any] = {}
    count = 0
    for k, values in headers.items():
        kept: list[str] = []
        for v in values:
            if count >= limit:
                break
            kept.append(v)
            count += 1
        if kept:
            out[k] = kept[0] if len(kept) == 1 else kept
    return out


def _parse_body(body: bytes, content_type: str | None, mimetype: str | None) -> Any:
    ctype = (mimetype or content_type or "").split(";")[0].strip().lower()
    if ctype == "application/json":
        try:
            decoded = json.loads(body or b"null")
        except ValueError:
            return None
        return decoded if isinstance(decoded, dict | list) else None  # Kong: "invalid json body"
    if ctype == "application/x-www-form-urlencoded":
        return _query_table(body.decode("utf-8", errors="replace"))
    return None


def _upstream(ctx: PdkContext) -> UpstreamRequest:
    if ctx.req.upstream is None:
        raise NotEmulated("the harness built no upstream request before this phase (H2: set req.upstream)")
    return ctx.req.upstream


def _message(args: tuple[Any, ...]) -> str:
    return "".join(a if isinstance(a, str) else ("nil" if a is None else json.dumps(a, default=str)) for a in args)


# ---------------------------------------------------------------- bridged functions (plugin.lua)


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
        return _headers_table(ctx.snapshot.request_headers, None)
    if max_headers is not None and (not isinstance(max_headers, int) or not 1 <= max_headers <= 1000):
        raise PdkThrow("max_headers must be a number between 1 and 1000")
    return _headers_table(ctx.req.headers, max_headers)


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
    return _headers_table(headers, None if ctx.snapshot else max_headers)


@pdk("kong.response.get_header")
def _resp_header(ctx: PdkContext, name: str) -> str | None:
    headers = ctx.snapshot.response_headers if ctx.snapshot else ctx.req.response.headers
    values = headers.get(_header_name(name))
    return values[0] if values else None


@pdk("kong.response.get_source")
def _resp_source(ctx: PdkContext) -> str:
    return ctx.req.response.source


# ---------------------------------------------------------------- kong.client


@pdk("kong.client.get_ip", "kong.client.get_forwarded_ip")
def _client_ip(ctx: PdkContext) -> str:
    return ctx.req.client_ip


@pdk("kong.client.get_port", "kong.client.get_forwarded_port")
def _client_port(ctx: PdkContext) -> int:
    return ctx.req.client_port


@pdk("kong.client.get_credential")
def _get_credential(ctx: PdkContext) -> Any:
    return ctx.req.credential


@pdk("kong.client.get_consumer")
def _get_consumer(ctx: PdkContext) -> Any:
    return ctx.req.consumer


@pdk("kong.client.load_consumer")
def _load_consumer(ctx: PdkContext, consumer_id: Any = None, by_username: Any = None) -> Any:
    if not isinstance(consumer_id, str) or not consumer_id:
        raise PdkThrow("consumer_id must be a string")
    if not by_username and not _UUID_RE.match(consumer_id):
        raise PdkThrow("cannot load a consumer with an id that is not a uuid")
    lookup = ctx.node.consumer_lookup
    if lookup is None:
        raise NotEmulated("kong.client.load_consumer needs node.consumer_lookup (set by the Gateway)")
    return lookup(consumer_id, bool(by_username))


@pdk("kong.client.authenticate")
def _authenticate(ctx: PdkContext, consumer: Any = None, credential: Any = None) -> None:
    if consumer is None and credential is None:
        raise PdkThrow("either credential or consumer must be provided")
    if consumer is not None and not isinstance(consumer, dict):
        raise PdkThrow("consumer must be a table or nil")
    if credential is not None and not isinstance(credential, dict):
        raise PdkThrow("credential must be a table or nil")
    ctx.req.consumer = consumer
    ctx.req.credential = credential


@pdk("kong.client.get_protocol")
def _client_protocol(ctx: PdkContext, allow_terminated: Any = None) -> str:
    return ctx.req.scheme


@pdk(
    "kong.client.tls.request_client_certificate",
    "kong.client.tls.disable_session_reuse",
    "kong.client.tls.get_full_client_certificate_chain",
    "kong.client.tls.set_client_verify",
)
def _client_tls(ctx: PdkContext, *args: Any) -> None:
    return None  # plain HTTP front: no TLS session


# ---------------------------------------------------------------- kong.request


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
    value = _query_table(ctx.req.raw_query).get(name)
    return value[0] if isinstance(value, list) else value


@pdk("kong.request.get_query")
def _query(ctx: PdkContext, max_args: Any = None) -> dict[str, Any]:
    if max_args is not None and (not isinstance(max_args, int) or not 1 <= max_args <= 1000):
        raise PdkThrow("max_args must be a number between 1 and 1000")
    return _query_table(ctx.req.raw_query, max_args or MAX_ARGS_DEFAULT)


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
    return _parse_body(body, ctx.req.header("content-type"), mimetype if isinstance(mimetype, str) else None)


@pdk("kong.request.get_start_time")
def _start_time(ctx: PdkContext) -> float:
    return float(round(ctx.req.start_time * 1000))  # ngx.req.start_time() has ms resolution


# ---------------------------------------------------------------- kong.response


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
    ctx.req.response.headers[_header_name(name)] = _header_values(value)


@pdk("kong.response.add_header")
def _resp_add_header(ctx: PdkContext, name: Any, value: Any = None) -> None:
    ctx.req.response.headers.setdefault(_header_name(name), []).extend(_header_values(value))


@pdk("kong.response.clear_header")
def _resp_clear_header(ctx: PdkContext, name: Any) -> None:
    ctx.req.response.headers.pop(_header_name(name), None)


@pdk("kong.response.set_headers")
def _resp_set_headers(ctx: PdkContext, headers: Any) -> None:
    if not isinstance(headers, dict):
        raise PdkThrow("headers must be a table")
    for name, value in headers.items():
        ctx.req.response.headers[_header_name(name)] = _header_values(value)


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


# ---------------------------------------------------------------- kong.service


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
    up = _upstream(ctx)
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
    _upstream(ctx).scheme = scheme


@pdk("kong.service.request.set_path")
def _up_path(ctx: PdkContext, path: Any) -> None:
    if not isinstance(path, str) or not path.startswith("/"):
        raise PdkThrow("path must start with /")
    _upstream(ctx).path = urllib.parse.quote(path, safe="/%:@!$&'()*+,;=-._~")


# nginx keeps one copy of the request: ngx.req.set_header/set_uri_args/set_method/set_body_data
# change what the upstream gets AND what later kong.request.* getters return. Only the path
# (upstream_uri), the scheme and the target are upstream-only.


def _set_query(ctx: PdkContext, query: str) -> None:
    _upstream(ctx).query = query
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
    _upstream(ctx).method = method
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
    args = _query_table(_upstream(ctx).query, 0)
    args.pop(name, None)
    _set_query(ctx, _encode_query(args))


def _set_request_header(ctx: PdkContext, lname: str, values: list[str] | None) -> None:
    up = _upstream(ctx)
    for headers in (up.headers, ctx.req.headers):
        if values is None:
            headers.pop(lname, None)
        else:
            headers[lname] = list(values)
    if lname == "host":  # also ngx.var.upstream_host: the Host sent upstream
        up.host_header = values[0] if values else None


@pdk("kong.service.request.set_header")
def _up_set_header(ctx: PdkContext, name: Any, value: Any = None) -> None:
    _set_request_header(ctx, _header_name(name), _header_values(value))


@pdk("kong.service.request.add_header")
def _up_add_header(ctx: PdkContext, name: Any, value: Any = None) -> None:
    lname = _header_name(name)
    current = _upstream(ctx).headers.get(lname, [])
    _set_request_header(ctx, lname, [*current, *_header_values(value)])


@pdk("kong.service.request.clear_header")
def _up_clear_header(ctx: PdkContext, name: Any) -> None:
    if not isinstance(name, str):
        raise PdkThrow("header must be a string")
    lname = name.lower()
    _set_request_header(ctx, lname, None)
    if lname == "host":
        _upstream(ctx).host_header = None


@pdk("kong.service.request.set_headers")
def _up_set_headers(ctx: PdkContext, headers: Any) -> None:
    if not isinstance(headers, dict):
        raise PdkThrow("headers must be a table")
    checked = [(_header_name(k), _header_values(v)) for k, v in headers.items()]  # all or nothing
    for lname, values in checked:
        _set_request_header(ctx, lname, values)


def _set_body(ctx: PdkContext, body: bytes) -> None:
    """ngx.req.set_body_data: the new body is held in memory (never spilled)."""
    up = _upstream(ctx)
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
    up = _upstream(ctx)
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
    return _headers_table(sr.headers, max_headers if isinstance(max_headers, int) else None) if sr else {}


@pdk("kong.service.response.get_header")
def _svc_header(ctx: PdkContext, name: Any) -> str | None:
    sr = ctx.req.service_response
    values = sr.headers.get(_header_name(name)) if sr else None
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
    return _parse_body(body, ctype, mimetype if isinstance(mimetype, str) else None)


# ---------------------------------------------------------------- kong.log

_LEVELS = {
    "kong.log": "notice",
    "kong.log.debug": "debug",
    "kong.log.info": "info",
    "kong.log.notice": "notice",
    "kong.log.warn": "warn",
    "kong.log.err": "error",
    "kong.log.crit": "crit",
    "kong.log.alert": "alert",
    "kong.log.emerg": "emerg",
}


def _make_logger(level: str) -> Any:
    def log(ctx: PdkContext, *args: Any) -> None:
        ctx.log(level, _message(args))

    return log


for _name, _level in _LEVELS.items():
    pdk(_name)(_make_logger(_level))


@pdk("kong.log.deprecation")
def _deprecation(ctx: PdkContext, *args: Any) -> None:
    ctx.log("warn", _message(args))


@pdk("kong.log.inspect")
def _inspect(ctx: PdkContext, *args: Any) -> None:
    ctx.log("debug", " ".join(json.dumps(a, default=str) for a in args))


@pdk("kong.log.inspect.on", "kong.log.inspect.off", "kong.log.set_format")
def _log_noop(ctx: PdkContext, *args: Any) -> None:
    return None


@pdk("kong.log.set_serialize_value")
def _set_serialize_value(ctx: PdkContext, key: Any, value: Any = None, options: Any = None) -> None:
    if not isinstance(key, str):
        raise PdkThrow("key must be a string")
    mode = options.get("mode", "set") if isinstance(options, dict) else "set"
    if mode not in ("set", "add", "replace"):
        raise PdkThrow("mode must be 'set', 'add' or 'replace'")
    if ctx.in_log:
        return  # lands in the timer's clone of ngx.ctx: too late for any logger, no visible effect
    ctx.req.serialize_ops.append((key, value, mode))
    _edit(ctx.req.serialize_values, key, value, mode)  # the tree of plugin-set values only


# ---------------------------------------------------------------- router, plugin, node, vault, misc


@pdk("kong.router.get_route")
def _route(ctx: PdkContext) -> Any:
    return ctx.req.route


@pdk("kong.router.get_service")
def _service(ctx: PdkContext) -> Any:
    return ctx.req.service


@pdk("kong.plugin.get_id")
def _plugin_id(ctx: PdkContext) -> str:
    return ctx.plugin_id


@pdk("kong.node.get_id")
def _node_id(ctx: PdkContext) -> str:
    return ctx.node.node_id


@pdk("kong.node.get_hostname")
def _hostname(ctx: PdkContext) -> str:
    return ctx.node.hostname


@pdk("kong.node.get_memory_stats")
def _memory_stats(ctx: PdkContext, unit: Any = None, scale: Any = None) -> dict[str, Any]:
    return {"lua_shared_dicts": {}, "workers_lua_vms": [{"http_allocated_gc": 0, "pid": 0}]}


@pdk("kong.cluster.get_id")
def _cluster_id(ctx: PdkContext) -> None:
    return None  # DB-less, no cluster


@pdk("kong.ip.is_trusted")
def _is_trusted(ctx: PdkContext, address: Any) -> bool:
    return False  # trusted_ips is empty by default


@pdk("kong.nginx.get_subsystem")
def _subsystem(ctx: PdkContext) -> str:
    return "http"


@pdk("kong.nginx.get_statistics")
def _statistics(ctx: PdkContext) -> dict[str, int]:
    return {
        "connections_active": 1,
        "connections_reading": 0,
        "connections_writing": 1,
        "connections_waiting": 0,
        "connections_accepted": 1,
        "connections_handled": 1,
        "total_requests": 1,
    }


def _parse_reference(reference: Any) -> dict[str, Any] | None:
    if not isinstance(reference, str):
        return None
    m = _VAULT_RE.match(reference)
    if not m:
        return None
    resource, _, key = m.group(2).partition("/")
    out: dict[str, Any] = {"name": m.group(1), "resource": resource}
    if key:
        out["key"] = key
    return out


@pdk("kong.vault.get")
def _vault_get(ctx: PdkContext, reference: Any) -> str | None:
    ref = _parse_reference(reference)
    if ref is None:
        ctx.log("error", f"unable to parse vault reference {reference!r}")
        return None
    if ref["name"] != "env":
        raise NotEmulated(f"vault {ref['name']!r} (only the env vault is emulated)")
    env_name = ref["resource"].upper().replace("-", "_")
    value = ctx.node.vault_env.get(env_name)
    if value is not None and "key" in ref:
        try:
            value = json.loads(value).get(ref["key"])
        except (ValueError, AttributeError):
            value = None
    return value


@pdk("kong.vault.is_reference")
def _vault_is_reference(ctx: PdkContext, reference: Any) -> bool:
    return isinstance(reference, str) and reference.startswith("{vault://") and reference.endswith("}")


@pdk("kong.vault.parse_reference")
def _vault_parse(ctx: PdkContext, reference: Any) -> dict[str, Any] | None:
    return _parse_reference(reference)


@pdk("kong.vault.update")
def _vault_update(ctx: PdkContext, options: Any) -> Any:
    return options


@pdk("kong.vault.flush", "kong.telemetry.log", "kong.table.new", "kong.table.clear")
def _noop(ctx: PdkContext, *args: Any) -> None:
    return None


@pdk("kong.table.merge")
def _table_merge(ctx: PdkContext, t1: Any = None, t2: Any = None) -> Any:
    out: dict[Any, Any] = {}
    for t in (t1, t2):
        if isinstance(t, dict):
            out.update(t)
    return out


def now_ms() -> float:
    return time.time() * 1000
