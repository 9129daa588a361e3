"""The seed's simple `POST /v1/chat` API: `{"messages": [{"role", "content"}], "model"?, ...}`.

It is a strict subset of OpenAI chat completions, so after checking the subset it reuses
the OpenAI translator, and its answers are chat.completion shaped.
"""

from __future__ import annotations

from typing import Any

from kong_plugins.bedrock_proxy.translators import openai_converse
from kong_plugins.bedrock_proxy.translators._common import fail, require_list, require_object
from kong_plugins.bedrock_proxy.translators.call import ConverseCall

ROLES = ("system", "user", "assistant")
FIELDS = ("messages", "model", "max_tokens", "temperature", "top_p", "stop", "stream", "stream_options")

from_converse = openai_converse.from_converse
stream_from_converse = openai_converse.stream_from_converse


def to_converse(body: Any) -> ConverseCall:
    """Check the /v1/chat subset, then translate like an OpenAI request."""
    body = require_object(body, "request body")
    for i, message in enumerate(require_list(body.get("messages"), "messages", non_empty=True)):
        message = require_object(message, f"messages[{i}]")
        if message.get("role") not in ROLES:
            fail(f"messages[{i}].role must be one of system, user, assistant")
        if not isinstance(message.get("content"), str):
            fail(f"messages[{i}].content must be a string")
    return openai_converse.to_converse({k: body[k] for k in FIELDS if k in body})
