"""A Bedrock Runtime + Gemini emulator that the real boto3 and google-genai clients accept.

from kong_plugins.testing.bedrock_emulator import BedrockEmulator
with BedrockEmulator() as emu:
    client = emu.client()           # boto3 bedrock-runtime, test credentials, standard retries
    client.converse(modelId="us.anthropic.claude-sonnet-4-6", messages=[...])
    emu.calls()                     # what arrived, secrets redacted
"""

from .app import TEST_ACCESS_KEY_ID, TEST_BEARER_TOKEN, TEST_GEMINI_API_KEY, TEST_SECRET_ACCESS_KEY
from .emulator import BedrockEmulator

__all__ = [
    "BedrockEmulator",
    "TEST_ACCESS_KEY_ID",
    "TEST_BEARER_TOKEN",
    "TEST_GEMINI_API_KEY",
    "TEST_SECRET_ACCESS_KEY",
]
