"""Shared by the PDK emulation and the harness: Kong's error bodies, exit, serialize, header and query helpers."""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

from kong_plugins.testing.kong.node import DEFAULT_WS_ID
from kong_plugins.testing.kong.pdk import NotEmulated, PdkContext, PdkThrow, cjson_encode
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
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
VAULT_RE = re.compile(r"^\{vault://([^/]+)/([^}]+)\}$")
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
        resp.headers[lname] = header_values(value)
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
    # Kong's serializer prints ngx.var.request_uri, the URI as the client sent it: a key that
    # key-auth's hide_credentials removed from the upstream query is still in it (use headers).
    request_uri = req.request_uri or req.path + (f"?{req.raw_query}" if req.raw_query else "")
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
            "querystring": query_table(req.raw_query),
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
        edit_serialized(root, key, value, mode)
    return {k: v for k, v in root.items() if v is not None}


def edit_serialized(root: dict[str, Any], key: str, value: Any, mode: str) -> None:
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


def header_values(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [header_str(v) for v in value]
    return [header_str(value)]


def header_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise PdkThrow(f"invalid header value: got {type(value).__name__}, expected string, number or boolean")


def header_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise PdkThrow("header name must be a string")
    return name.lower()


def query_table(raw: str, max_args: int = MAX_ARGS_DEFAULT) -> dict[str, Any]:
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


def headers_table(headers: dict[str, list[str]], max_headers: int | None) -> dict[str, Any]:
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


def parse_body(body: bytes, content_type: str | None, mimetype: str | None) -> Any:
    ctype = (mimetype or content_type or "").split(";")[0].strip().lower()
    if ctype == "application/json":
        try:
            decoded = json.loads(body or b"null")
        except ValueError:
            return None
        return decoded if isinstance(decoded, dict | list) else None  # Kong: "invalid json body"
    if ctype == "application/x-www-form-urlencoded":
        return query_table(body.decode("utf-8", errors="replace"))
    if ctype == "multipart/form-data":
        raise NotEmulated("get_body of multipart/form-data")
    return None  # Kong: nil, "unsupported content type"


def upstream_of(ctx: PdkContext) -> UpstreamRequest:
    if ctx.req.upstream is None:
        raise NotEmulated("no upstream request (the gateway sets req.upstream before access)")
    return ctx.req.upstream


def log_message(args: tuple[Any, ...]) -> str:
    return "".join(a if isinstance(a, str) else ("nil" if a is None else json.dumps(a, default=str)) for a in args)
