import json

import pytest

from kong_plugins.core.client_api import ClientApi, detect_client_api
from kong_plugins.core.errors import KINDS, GatewayError, render_error


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/v1/chat", ClientApi.CHAT),
        ("/v1/chat/completions", ClientApi.OPENAI),
        ("/v1/messages", ClientApi.ANTHROPIC),
        ("/v1/models", ClientApi.MODELS),
        ("/bedrock/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse", ClientApi.BEDROCK),
        ("/bedrock/model/x/invoke", ClientApi.BEDROCK),
        ("/somewhere/else", ClientApi.OPENAI),
    ],
)
def test_client_api_from_path(path, api):
    assert detect_client_api(path) is api


def test_openai_error_shape():
    status, body, headers = render_error(
        ClientApi.OPENAI, GatewayError("rate_limited", "Token limit reached", headers={"Retry-After": "7"})
    )
    assert status == 429
    assert headers["Retry-After"] == "7"
    assert json.loads(body) == {
        "error": {"message": "Token limit reached", "type": "rate_limit_error", "param": None, "code": "rate_limited"}
    }


def test_anthropic_error_shape():
    status, body, _ = render_error(ClientApi.ANTHROPIC, GatewayError("permission_denied", "no"))
    assert status == 403
    assert json.loads(body) == {"type": "error", "error": {"type": "permission_error", "message": "no"}}


def test_bedrock_error_shape_is_what_botocore_parses():
    status, body, headers = render_error(ClientApi.BEDROCK, GatewayError("upstream_timeout", "slow"))
    assert status == 504
    assert headers["x-amzn-ErrorType"] == "ModelTimeoutException"
    assert json.loads(body) == {"message": "slow"}


def test_status_override_and_unknown_kind():
    assert GatewayError("guardrail_blocked", "x", status=422).http_status == 422
    with pytest.raises(ValueError):
        GatewayError("nope", "x")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_renders_in_every_api(kind):
    for api in ClientApi:
        status, body, headers = render_error(api, GatewayError(kind, "m"))
        assert 400 <= status <= 599
        assert json.loads(body)
        assert headers["Content-Type"] == "application/json"
