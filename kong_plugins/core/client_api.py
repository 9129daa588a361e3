"""Which client API a request speaks, decided from the request path."""

from __future__ import annotations

import enum
import re


class ClientApi(enum.StrEnum):
    CHAT = "chat"  # POST /v1/chat: the seed's simple API, answered OpenAI-shaped
    OPENAI = "openai"  # POST /v1/chat/completions
    ANTHROPIC = "anthropic"  # POST /v1/messages
    BEDROCK = "bedrock"  # POST /bedrock/model/{modelId}/{converse|invoke|...}
    MODELS = "models"  # GET /v1/models


# A native Bedrock path keeps the model ID percent-encoded, as boto3 sends it.
BEDROCK_PATH = re.compile(r"/model/(?P<model>[^/]+)/(?P<operation>[a-z-]+)$")


def detect_client_api(path: str) -> ClientApi:
    """Map a request path to its client API; unknown paths answer in OpenAI's format."""
    p = path.rstrip("/")
    if BEDROCK_PATH.search(p):
        return ClientApi.BEDROCK
    if p.endswith("/chat/completions"):
        return ClientApi.OPENAI
    if p.endswith("/messages"):
        return ClientApi.ANTHROPIC
    if p.endswith("/models"):
        return ClientApi.MODELS
    if p.endswith("/chat"):
        return ClientApi.CHAT
    return ClientApi.OPENAI
