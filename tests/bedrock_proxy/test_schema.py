"""The config schema: defaults validate under Kong's rules and feed the model policy."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kong_plugins.bedrock_proxy.policy import DEFAULT_ALIASES, DEFAULT_ROLES, ModelPolicy
from kong_plugins.bedrock_proxy.schema import SCHEMA
from kong_plugins.testing.kong.schema_validation import SchemaError, validate


def test_defaults_validate_and_equal_the_policy_tables():
    config = validate(SCHEMA, {})
    assert config["roles"] == {r: {**v} for r, v in DEFAULT_ROLES.items()}
    assert config["aliases"] == DEFAULT_ALIASES
    assert (config["aws_region"], config["max_body_bytes"], config["fallback_max_attempts"]) == (
        "us-east-1",
        1048576,
        3,
    )
    assert ModelPolicy.from_config(config).choose("guest", None).model == DEFAULT_ROLES["guest"]["default_model"]


@pytest.mark.parametrize(
    "bad",
    [
        {"roles": {"guest": {"models": ["m"]}}},  # no default_model
        {"client_api": "soap"},
        {"max_body_bytes": 10},
        {"fallback_max_attempts": 0},
        {"prices": {"m": {"input": -1, "output": 1}}},
        {"aws_region": "US EAST"},
    ],
)
def test_invalid_configs_are_rejected(bad):
    with pytest.raises(SchemaError):
        validate(SCHEMA, bad)


def test_the_plugin_server_dumps_a_valid_plugin_info():
    out = subprocess.run(
        [str(Path(sys.executable).with_name("bedrock-proxy")), "--dump"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    (info,) = json.loads(out.stdout)
    assert info["Name"] == "bedrock-proxy" and info["Priority"] == 925
    assert {"access", "response"} <= set(info["Phases"])


def test_an_empty_role_table_is_rejected():
    with pytest.raises(SchemaError):
        validate(SCHEMA, {"roles": {}})
