"""Shared test helpers: plugin settings pointed at the emulator with its test credentials."""

import boto3

from kong_plugins.bedrock_proxy.schema import SCHEMA
from kong_plugins.bedrock_proxy.settings import Settings
from kong_plugins.core.identity import Identity
from kong_plugins.testing.bedrock_emulator.app import TEST_ACCESS_KEY_ID, TEST_GEMINI_API_KEY, TEST_SECRET_ACCESS_KEY
from kong_plugins.testing.kong.schema_validation import validate


def settings_for(url: str, **conf) -> Settings:
    config = validate(SCHEMA, {"endpoint_url": url, "gemini_endpoint_url": url, **conf})
    session = boto3.Session(aws_access_key_id=TEST_ACCESS_KEY_ID, aws_secret_access_key=TEST_SECRET_ACCESS_KEY)
    return Settings.from_config(config, env={"GEMINI_API_KEY": TEST_GEMINI_API_KEY}, session=session)


def identity(role: str) -> Identity:
    return Identity(subject=f"consumer:{role}", role=role, role_source="consumer_tag", consumer_id=role)
