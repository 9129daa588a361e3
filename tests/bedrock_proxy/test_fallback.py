"""The bounded fallback loop: which errors qualify, attempt and time limits."""

from kong_plugins.bedrock_proxy import bedrock_errors as be
from kong_plugins.bedrock_proxy.fallback import Answer, FallbackSettings, run_fallbacks

THROTTLED = be.map_bedrock_error(429, "ThrottlingException:", b"{}", "a")
VALIDATION = be.map_bedrock_error(400, "ValidationException:", b"{}", "a")
UNAVAILABLE = be.map_bedrock_error(503, "ServiceUnavailableException:", b"{}", "a")
TIMEOUT = be.map_bedrock_error(408, "ModelTimeoutException:", b"{}", "a")
DENIED = be.map_bedrock_error(403, "AccessDeniedException:", b"{}", "a")


class Upstream:
    def __init__(self, outcomes):
        self.outcomes = dict(outcomes)
        self.called = []

    def __call__(self, model, timeout_s):
        self.called.append(model)
        return self.outcomes[model]


def test_throttling_moves_to_the_next_model():
    up = Upstream({"b": Answer("b", b"ok", 5)})
    out = run_fallbacks(("a", "b", "c"), THROTTLED, FallbackSettings(), up, lambda: 0)
    assert out.answer.model == "b" and out.attempts == 2 and up.called == ["b"]


def test_keeps_going_while_failures_qualify():
    up = Upstream({"b": UNAVAILABLE, "c": Answer("c", b"ok", 5)})
    out = run_fallbacks(("a", "b", "c"), THROTTLED, FallbackSettings(), up, lambda: 0)
    assert out.answer.model == "c" and out.attempts == 3


def test_stops_when_a_fallback_fails_with_a_final_error():
    up = Upstream({"b": VALIDATION, "c": Answer("c", b"ok", 5)})
    out = run_fallbacks(("a", "b", "c"), THROTTLED, FallbackSettings(), up, lambda: 0)
    assert out.answer is None and out.error is VALIDATION and up.called == ["b"]


def test_validation_access_and_timeout_never_fall_back():
    for err in (VALIDATION, DENIED, TIMEOUT):
        up = Upstream({})
        out = run_fallbacks(("a", "b"), err, FallbackSettings(), up, lambda: 0)
        assert out.answer is None and out.attempts == 1 and up.called == []


def test_attempts_are_bounded():
    up = Upstream({"b": THROTTLED, "c": THROTTLED, "d": Answer("d", b"ok", 1)})
    out = run_fallbacks(("a", "b", "c", "d"), THROTTLED, FallbackSettings(max_attempts=2), up, lambda: 0)
    assert out.answer is None and out.attempts == 2 and up.called == ["b"]


def test_slow_failures_are_not_retried():
    up = Upstream({"b": Answer("b", b"ok", 1)})
    out = run_fallbacks(("a", "b"), THROTTLED, FallbackSettings(budget_ms=1000), up, lambda: 1500)
    assert out.answer is None and up.called == []


def test_no_fallback_list_means_the_first_error_stands():
    out = run_fallbacks(("a",), THROTTLED, FallbackSettings(), Upstream({}), lambda: 0)
    assert out.answer is None and out.error is THROTTLED and out.attempts == 1


def test_a_model_that_cannot_take_the_request_is_skipped_without_counting():
    up = Upstream({"b": None, "c": Answer("c", b"ok", 1)})
    out = run_fallbacks(("a", "b", "c"), THROTTLED, FallbackSettings(max_attempts=2), up, lambda: 0)
    assert out.answer.model == "c" and out.attempts == 2
