"""ConverseCall helpers the plugin shell uses for token reservations."""

from __future__ import annotations

from kong_plugins.bedrock_proxy.translators import (
    ConverseCall,
    anthropic_converse,
    estimate_prompt_chars,
    openai_converse,
)


def test_estimate_counts_system_message_and_tool_result_text():
    call = openai_converse.to_converse(
        {
            "messages": [
                {"role": "system", "content": "x" * 100},
                {"role": "user", "content": "y" * 1000},
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
                },
                {"role": "tool", "tool_call_id": "c", "content": "z" * 50},
            ],
            "tools": [{"type": "function", "function": {"name": "f"}}],
        }
    )
    # 1150 characters of text, plus fixed allowances for the tool call, result and spec.
    assert estimate_prompt_chars(call) == 100 + 1000 + 100 + 50 + 20 + 200


def test_estimate_gives_images_a_size_and_tolerates_odd_bodies():
    call = anthropic_converse.to_converse(
        {
            "max_tokens": 10,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA"}}
                    ],
                }
            ],
        }
    )
    assert estimate_prompt_chars(call) == 4000
    assert estimate_prompt_chars(ConverseCall(body={"messages": "nope", "system": [1, {"text": 5}]})) == 0


def test_max_tokens_and_model_are_exposed_for_the_policy():
    call = openai_converse.to_converse(
        {"model": "haiku", "max_completion_tokens": 77, "messages": [{"role": "user", "content": "hi"}]}
    )
    assert (call.requested_model, call.max_tokens) == ("haiku", 77)
    call = anthropic_converse.to_converse(
        {"model": "opus", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    )
    assert (call.requested_model, call.max_tokens, call.body["inferenceConfig"]["maxTokens"]) == ("opus", 5, 5)
