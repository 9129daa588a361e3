"""A Bedrock Runtime + Gemini emulator that the real boto3 and google-genai clients accept.

Library (tests; the `emulator` pytest fixture gives a started one, reset per test):

    from kong_plugins.testing.bedrock_emulator import BedrockEmulator
    with BedrockEmulator(latency_ms=0, per_token_ms=0) as emu:     # port 0 = a free port
        client = emu.client()          # fresh boto3 bedrock-runtime client, test keys, standard retries
        client.converse(modelId="us.anthropic.claude-sonnet-4-6", messages=[...])
        emu.calls()                    # every request: method, path, operation, model_id, headers
                                       # (credentials "REDACTED"), body, status
        emu.inject("ThrottlingException", count=2, model=None, operation=None, mid_stream=False)
        emu.inject_rate("InternalServerException", 0.1, seed=0)
        emu.set_latency(latency_ms=200, per_token_ms=20)
        emu.reset()

Command (make dev, benchmarks): `python -m kong_plugins.testing.bedrock_emulator --port 4010
[--latency-ms N --per-token-ms N]` prints its URL. HTTP control surface (JSON):
POST /_emulator/reset, GET /_emulator/calls, POST /_emulator/inject {error, count, model,
operation, mid_stream, rate, seed}, POST /_emulator/latency {latency_ms, per_token_ms},
GET /_emulator/stats.

Per-request triggers: header `X-Emulator-Error: ThrottlingException` (+ `X-Emulator-Mid-Stream:
true`), or a model ID containing `error-throttling` / `midstream-error-model-stream-error`.
Prompt markers: words `MARK-...` are echoed in the reply; `EMU-WORDS-<n>` adds n words.
Serves POST /model/{id}/converse|converse-stream|invoke|invoke-with-response-stream|count-tokens
(SigV4 with TEST_ACCESS_KEY_ID/TEST_SECRET_ACCESS_KEY, or `Authorization: Bearer
TEST_BEARER_TOKEN`) and POST /v1beta/models/{model}:generateContent|streamGenerateContent|
countTokens (x-goog-api-key or ?key= TEST_GEMINI_API_KEY). Decisions: docs/decisions/0020-0029.
"""

from .app import TEST_ACCESS_KEY_ID, TEST_BEARER_TOKEN, TEST_GEMINI_API_KEY, TEST_SECRET_ACCESS_KEY
from .emulator import BedrockEmulator


def offline_env(emulator_url: str) -> dict[str, str]:
    """Plugin-server environment that sends Bedrock and Gemini calls to the emulator at
    `emulator_url`, with its test credentials (make dev offline, and the tests)."""
    return {
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": emulator_url,
        "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": TEST_SECRET_ACCESS_KEY,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "GEMINI_API_KEY": TEST_GEMINI_API_KEY,
        "GEMINI_ENDPOINT_URL": emulator_url,
    }


__all__ = [
    "offline_env",
    "BedrockEmulator",
    "TEST_ACCESS_KEY_ID",
    "TEST_BEARER_TOKEN",
    "TEST_GEMINI_API_KEY",
    "TEST_SECRET_ACCESS_KEY",
]
