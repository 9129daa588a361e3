"""Fixtures shared by every test folder live next to the code they drive."""

pytest_plugins = [
    "kong_plugins.testing.kong.fixtures",
    "kong_plugins.testing.bedrock_emulator.fixtures",
    "kong_plugins.testing.redis_server",
]
