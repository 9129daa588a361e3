"""Request dispatch: control surface, auth, injection, Bedrock and Gemini operations, call log."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from . import bedrock, gemini
from .common import OpContext, Response, StreamResponse, Timing, request_id
from .errors import BedrockError, GoogleError, bedrock_for, google_for
from .injection import STREAM_OPERATIONS, Injector, strip_marker
from .sigv4 import SigV4Verifier, check_bearer

TEST_ACCESS_KEY_ID = "AKIAEMULATORTEST0001"
TEST_SECRET_ACCESS_KEY = "emulator/secret/key/for/tests/only/0000000"
TEST_GEMINI_API_KEY = "AIzaSyEmulatorTestKeyForTestsOnly000000"
TEST_BEARER_TOKEN = "ABSKZW11bGF0b3ItdGVzdC1iZWFyZXItdG9rZW4="

REDACTED_HEADERS = ("authorization", "x-amz-security-token", "x-goog-api-key")
MAX_CALLS = 10000


@dataclass
class Request:
    method: str
    target: str  # raw request target as received, still %-encoded
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.target.partition("?")[2]))


def _json_response(status: int, payload: Any) -> Response:
    return Response(status, [("Content-Type", "application/json")], json.dumps(payload).encode())


def _redact_target(target: str) -> str:
    path, sep, query = target.partition("?")
    if not sep:
        return target
    parts = [("key=REDACTED" if p.startswith("key=") else p) for p in query.split("&")]
    return path + "?" + "&".join(parts)


class EmulatorApp:
    """All state of one emulator; handle() runs on the server loop, the rest from any thread."""

    def __init__(self, latency_ms: float = 0, per_token_ms: float = 0, frame_gap_ms: float = 1.0) -> None:
        self.timing = Timing(latency_ms, per_token_ms, frame_gap_ms)
        self._initial_latency = (latency_ms, per_token_ms)
        self.injector = Injector()
        self.verifier = SigV4Verifier({TEST_ACCESS_KEY_ID: TEST_SECRET_ACCESS_KEY})
        self.bearer_tokens = {TEST_BEARER_TOKEN}
        self.gemini_keys = {TEST_GEMINI_API_KEY}
        self.cache: set[str] = set()
        self._calls: deque[tuple[Request, str, str | None, int, str | None, float]] = deque(maxlen=MAX_CALLS)
        self._lock = threading.Lock()
        self.requests_served = 0

    # -- control, callable from tests' threads --------------------------------------------------------------
    def reset(self) -> None:
        """Forget calls, injections and prompt-cache state; latency goes back to the start-up setting."""
        self.injector.clear()
        with self._lock:
            self._calls.clear()
            self.cache.clear()
        self.timing.latency_ms, self.timing.per_token_ms = self._initial_latency

    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            entries = list(self._calls)
        return [_call_view(*entry) for entry in entries]

    # -- serving ---------------------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response | StreamResponse:
        self.requests_served += 1
        if req.path.startswith("/_emulator/"):
            return self._control(req)
        bedrock_route = bedrock.route(req.path) if req.method == "POST" else None
        if bedrock_route is not None:
            operation, model_id = bedrock_route
            response = self._bedrock(req, operation, model_id)
        else:
            gemini_route = gemini.route(req.path) if req.method == "POST" else None
            if gemini_route is not None:
                operation, model_id = gemini_route
                response = self._gemini(req, operation, model_id)
            else:
                operation, model_id = "Unknown", None
                response = _json_response(404, {"message": f"No operation matches {req.method} {req.path}"})
                response.headers.append(("x-amzn-ErrorType", "UnknownOperationException"))
        self._record(req, operation, model_id, response)
        return response

    def _record(self, req: Request, operation: str, model_id: str | None, response: Response | StreamResponse) -> None:
        """Keep the raw request; redaction and JSON parsing wait until someone reads the log."""
        stream_error = response.stream_error if isinstance(response, StreamResponse) else None
        entry = (req, operation, model_id, response.status, stream_error, time.time())
        with self._lock:
            self._calls.append(entry)

    def _bedrock(self, req: Request, operation: str, model_id: str) -> Response | StreamResponse:
        try:
            self._authenticate(req)
            decision = self.injector.decide(operation, (model_id, model_id.partition(".")[2]), req.headers)
            ctx = OpContext(self.timing, self.cache)
            if decision is not None:
                code = bedrock_for(decision.error)
                if not decision.mid_stream:
                    raise BedrockError(
                        code, extra={"resourceName": _arn(model_id)} if code == "ModelErrorException" else {}
                    )
                ctx.mid_stream_error = code
            return bedrock.handle(operation, strip_marker(model_id), req.body, ctx)
        except BedrockError as err:
            headers = [*err.headers(), ("x-amzn-RequestId", request_id())]
            return Response(err.status, headers, err.body())

    def _authenticate(self, req: Request) -> None:
        bearer = check_bearer(req.headers, self.bearer_tokens)
        if bearer is True:
            return
        if bearer is False:
            raise BedrockError(
                "UnrecognizedClientException", "Invalid API Key format: Must be 'ABSK' followed by a valid token.", 403
            )
        self.verifier.verify(req.method, req.target, req.headers, req.body, time.time())

    def _gemini(self, req: Request, operation: str, model: str) -> Response | StreamResponse:
        try:
            query = req.query
            gemini.check_key(req.headers, query, self.gemini_keys)
            decision = self.injector.decide(operation, (model,), req.headers)
            ctx = OpContext(self.timing, self.cache)
            if decision is not None:
                status = google_for(decision.error)
                if not decision.mid_stream:
                    raise GoogleError(status)
                ctx.mid_stream_error = status
            return gemini.handle(operation, strip_marker(model), req.body, query, ctx)
        except GoogleError as err:
            return Response(err.code, [("Content-Type", "application/json; charset=UTF-8")], err.body())

    # -- HTTP control surface ---------------------------------------------------------------------------------
    def _control(self, req: Request) -> Response:
        name = req.path[len("/_emulator/") :]
        try:
            args = json.loads(req.body) if req.body else {}
        except ValueError:
            return _json_response(400, {"error": "body must be JSON"})
        if name == "reset":
            self.reset()
            return _json_response(200, {"ok": True})
        if name == "calls":
            return _json_response(200, self.calls())
        if name == "inject":
            if req.method == "GET":
                return _json_response(200, self.injector.rules())
            try:
                self.injector.add(
                    str(args["error"]),
                    count=args.get("count", 1),
                    model=args.get("model"),
                    operation=args.get("operation"),
                    mid_stream=bool(args.get("mid_stream", False)),
                    rate=float(args.get("rate", 1.0)),
                    seed=int(args.get("seed", 0)),
                )
            except (KeyError, ValueError, TypeError) as exc:
                return _json_response(400, {"error": str(exc)})
            return _json_response(200, {"ok": True, "rules": self.injector.rules()})
        if name == "latency":
            self.timing.latency_ms = float(args.get("latency_ms", self.timing.latency_ms))
            self.timing.per_token_ms = float(args.get("per_token_ms", self.timing.per_token_ms))
            return _json_response(200, {"latency_ms": self.timing.latency_ms, "per_token_ms": self.timing.per_token_ms})
        if name == "health":
            return _json_response(200, {"ok": True})
        if name == "stats":
            return _json_response(200, {"requests": self.requests_served, "cpu_seconds": time.process_time()})
        return _json_response(404, {"error": f"unknown control endpoint {name!r}"})


def _call_view(
    req: Request, operation: str, model_id: str | None, status: int, stream_error: str | None, at: float
) -> dict[str, Any]:
    headers = {k: ("REDACTED" if k in REDACTED_HEADERS else v) for k, v in req.headers.items()}
    try:
        body: Any = json.loads(req.body) if req.body else None
    except ValueError:
        body = req.body.decode("utf-8", "replace")
    call = {
        "method": req.method,
        "path": _redact_target(req.target),
        "operation": operation,
        "model_id": model_id,
        "headers": headers,
        "body": body,
        "status": status,
        "time": at,
    }
    if operation in STREAM_OPERATIONS:
        call["stream_error"] = stream_error
    return call


def _arn(model_id: str) -> str:
    if model_id.startswith("arn:"):
        return model_id
    return f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}"
