import io
import json

from kong_plugins.core import logging as gwlog
from kong_plugins.core.phase import phase_handler


def capture():
    buf = io.StringIO()
    gwlog.set_stream(buf)
    return buf


def lines(buf):
    return [json.loads(x) for x in buf.getvalue().splitlines()]


def test_only_allowed_fields_are_logged():
    buf = capture()
    gwlog.log_event("request", role="guest", prompt="SECRET PROMPT", api_key="k-123", model="m" * 500)
    (rec,) = lines(buf)
    assert rec["role"] == "guest"
    assert "prompt" not in rec and "api_key" not in rec
    assert len(rec["model"]) == gwlog.MAX_VALUE_CHARS


class FakeKong:
    """Records PDK calls the wrapper makes."""

    def __init__(self, path="/v1/messages"):
        self.calls = []
        self.path = path
        outer = self

        class Request:
            def get_path(self):
                outer.calls.append(("get_path",))
                return outer.path

        class Response:
            def exit(self, status, body, headers):
                outer.calls.append(("exit", status, body, headers))

        self.request = Request()
        self.response = Response()


class Plugin:
    @phase_handler("p", "access")
    def access(self, kong, event):
        raise KeyError("secret body text")

    @phase_handler("p", "log")
    def log(self, kong, event):
        raise RuntimeError("boom")

    @phase_handler("p", "response")
    def response(self, kong, event):
        event.exit(200, b"ok")
        raise RuntimeError("after exit")


def test_exception_becomes_500_in_client_format_and_logs_class_only():
    buf = capture()
    kong = FakeKong("/v1/messages")
    Plugin().access(kong)
    exit_call = kong.calls[-1]
    assert exit_call[0] == "exit" and exit_call[1] == 500
    assert json.loads(exit_call[2])["type"] == "error"  # Anthropic shape
    (rec,) = lines(buf)
    assert rec["error_class"] == "KeyError"
    assert "secret" not in buf.getvalue()


def test_log_phase_exception_just_ends():
    capture()
    kong = FakeKong()
    Plugin().log(kong)
    assert kong.calls == []


def test_nothing_is_sent_after_exit():
    capture()
    kong = FakeKong()
    Plugin().response(kong)
    assert kong.calls == [("exit", 200, b"ok", {})]
