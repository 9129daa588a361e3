"""Pure translators between the client APIs, Bedrock Converse (the pivot) and Gemini.

One module per client-API/backend pair; every function is plain dict building with no
PDK, no I/O and no boto3. Bad client input raises core.errors.GatewayError
("invalid_request"); a malformed upstream answer raises GatewayError("bad_gateway").
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
