"""Fixtures shared by every test folder live next to the code they drive."""

pytest_plugins = [
    "kong_plugins.testing.kong.fixtures",
    "kong_plugins.testing.bedrock_emulator.fixtures",
    "kong_plugins.testing.redis_server",
]


def pytest_sessionstart(session):
    """Build the guardrails' Hyperscan prefilter once (~4 s), as the image build does, so every
    plugin server a test starts loads it instead of compiling its own (docs/decisions/0092)."""
    import os

    from kong_plugins.ecommerce_guardrails import prefilter
    from kong_plugins.ecommerce_guardrails.engine import intent_patterns

    if prefilter.hyperscan is None:
        return
    directory = prefilter.default_dir()
    os.environ[prefilter.DIR_ENV] = str(directory)
    if prefilter.load(intent_patterns(), directory) is None:
        prefilter.build(intent_patterns(), directory)
