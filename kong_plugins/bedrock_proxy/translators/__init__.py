"""Pure translators between the client APIs, Bedrock Converse (the pivot) and Gemini.

One module per client-API/backend pair; every function is plain dict building with no
PDK, no I/O and no boto3. Bad client input raises core.errors.GatewayError
("invalid_request"); a malformed upstream answer raises GatewayError("bad_gateway").

API (stable, used by proxy.py):
  openai_converse / anthropic_converse / chat:
    to_converse(body) -> ConverseCall
    from_converse(resp, *, model, request_id[, created]) -> dict        (client answer)
    stream_from_converse(resp, *, model, request_id, include_usage[, created]) -> bytes  (SSE)
  converse_gemini.to_gemini(call) -> dict; converse_gemini.converse_from_gemini(resp) -> dict
  usage_from_converse(resp) -> Usage; usage_from_invoke(body, headers) -> Usage
  estimate_prompt_chars(call) -> int; json_bytes(value) -> bytes (compact UTF-8 JSON)
"""

from kong_plugins.bedrock_proxy.translators import anthropic_converse, chat, converse_gemini, openai_converse
from kong_plugins.bedrock_proxy.translators._common import json_bytes
from kong_plugins.bedrock_proxy.translators.call import ConverseCall, estimate_prompt_chars
from kong_plugins.bedrock_proxy.translators.native import usage_from_converse, usage_from_invoke

__all__ = [
    "ConverseCall",
    "anthropic_converse",
    "chat",
    "converse_gemini",
    "estimate_prompt_chars",
    "json_bytes",
    "openai_converse",
    "usage_from_converse",
    "usage_from_invoke",
]
