"""Kong's schema rules for plugin configs, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from kong_plugins.testing.kong.schema_validation import SchemaError, validate

SCHEMA: list[dict[str, Any]] = [
    {"name": {"type": "string", "required": True, "len_min": 2}},
    {"mode": {"type": "string", "default": "strict", "one_of": ["strict", "lenient"]}},
    {"limit": {"type": "integer", "default": 10, "between": [1, 100]}},
    {"ratio": {"type": "number"}},
    {"enabled": {"type": "boolean", "default": True}},
    {"tags": {"type": "set", "elements": {"type": "string"}, "default": []}},
    {"names": {"type": "array", "elements": {"type": "string", "match": "^[a-z]+$"}}},
    {"labels": {"type": "map", "keys": {"type": "string"}, "values": {"type": "integer"}, "default": {}}},
    {
        "redis": {
            "type": "record",
            "required": True,
            "fields": [
                {"host": {"type": "string", "default": "localhost"}},
                {"port": {"type": "integer", "default": 6379, "between": [0, 65535]}},
            ],
        }
    },
]


def test_defaults_are_filled_including_nested_records() -> None:
    assert validate(SCHEMA, {"name": "ok"}) == {
        "name": "ok",
        "mode": "strict",
        "limit": 10,
        "ratio": None,
        "enabled": True,
        "tags": [],
        "names": None,
        "labels": {},
        "redis": {"host": "localhost", "port": 6379},
    }


def test_absent_optional_record_is_null_and_required_fields_inside_a_required_record_are_reported() -> None:
    schema: list[dict[str, Any]] = [
        {"opt": {"type": "record", "fields": [{"a": {"type": "string", "default": "x"}}]}},
        {"req": {"type": "record", "required": True, "fields": [{"b": {"type": "string", "required": True}}]}},
    ]
    with pytest.raises(SchemaError) as exc:
        validate(schema, {})
    assert exc.value.errors == {"req": {"b": "required field missing"}}
    assert validate(schema, {"req": {"b": "y"}}) == {"opt": None, "req": {"b": "y"}}


def test_partial_record_gets_the_missing_defaults() -> None:
    assert validate(SCHEMA, {"name": "ok", "redis": {"port": 7000}})["redis"] == {"host": "localhost", "port": 7000}


def test_empty_lua_table_is_an_empty_map_or_array() -> None:
    out = validate(SCHEMA, {"name": "ok", "labels": [], "tags": {}})
    assert out["labels"] == {} and out["tags"] == []


def test_set_drops_duplicates() -> None:
    assert validate(SCHEMA, {"name": "ok", "tags": ["a", "a", "b"]})["tags"] == ["a", "b"]


def test_integral_float_is_an_integer() -> None:
    assert validate(SCHEMA, {"name": "ok", "limit": 5.0})["limit"] == 5


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ({}, "name", "required field missing"),
        ({"name": 3}, "name", "expected a string"),
        ({"name": "x"}, "name", "length must be at least 2"),
        ({"name": "ok", "mode": "wild"}, "mode", "expected one of: strict, lenient"),
        ({"name": "ok", "limit": 0}, "limit", "value should be between 1 and 100"),
        ({"name": "ok", "limit": 1.5}, "limit", "expected an integer"),
        ({"name": "ok", "limit": True}, "limit", "expected an integer"),
        ({"name": "ok", "ratio": "1"}, "ratio", "expected a number"),
        ({"name": "ok", "enabled": "yes"}, "enabled", "expected a boolean"),
        ({"name": "ok", "tags": "a"}, "tags", "expected a set"),
        ({"name": "ok", "names": ["ok", "NO"]}, "names", "[2] invalid value: NO"),
        ({"name": "ok", "labels": {"a": "x"}}, "labels", {"a": "expected an integer"}),
        ({"name": "ok", "labels": 3}, "labels", "expected a map"),
        ({"name": "ok", "redis": {"port": 70000}}, "redis", {"port": "value should be between 0 and 65535"}),
        ({"name": "ok", "redis": {"db": 1}}, "redis", {"db": "unknown field"}),
        ({"name": "ok", "redis": "localhost"}, "redis", "expected a record"),
        ({"name": "ok", "surprise": 1}, "surprise", "unknown field"),
    ],
)
def test_violations_carry_kong_messages(config: dict[str, Any], field: str, message: Any) -> None:
    with pytest.raises(SchemaError) as exc:
        validate(SCHEMA, config)
    got = exc.value.errors[field]
    if isinstance(got, list):
        assert message in got
    else:
        assert got == message


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ({"type": "string", "len_eq": 2}, "abc", "length must be 2"),
        ({"type": "string", "not_one_of": ["x"]}, "x", "must not be one of: x"),
        ({"type": "string", "not_match": "^a"}, "abc", "invalid value: abc"),
        ({"type": "string", "match_any": {"patterns": ["^a", "^b"], "err": "a or b"}}, "c", "a or b"),
        ({"type": "array", "elements": {"type": "string"}, "contains": "x"}, ["y"], "expected to contain: x"),
        ({"type": "array", "elements": {"type": "string"}, "len_min": 1}, [], "length must be at least 1"),
        # Kong 3.9.3 kong/db/schema/init.lua: "empty strings are not accepted by default"
        ({"type": "string"}, "", "length must be at least 1"),
        ({"type": "string", "default": "groups"}, "", "length must be at least 1"),
    ],
)
def test_more_kong_validators(field: dict[str, Any], value: Any, message: str) -> None:
    with pytest.raises(SchemaError) as exc:
        validate([{"f": field}], {"f": value})
    assert exc.value.errors == {"f": message}


def test_an_empty_string_passes_only_with_an_explicit_len_min_0() -> None:
    assert validate([{"f": {"type": "string", "len_min": 0}}], {"f": ""}) == {"f": ""}


def test_all_violations_are_reported_at_once() -> None:
    with pytest.raises(SchemaError) as exc:
        validate(SCHEMA, {"mode": "wild", "extra": 1})
    assert set(exc.value.errors) == {"name", "mode", "extra"}
    assert "mode: expected one of" in str(exc.value)


def test_plugin_schemas_of_our_plugins_accept_an_empty_config() -> None:
    from kong_plugins.bedrock_proxy.schema import SCHEMA as BP
    from kong_plugins.ecommerce_guardrails.schema import SCHEMA as EG
    from kong_plugins.token_meter.schema import SCHEMA as TM

    for schema in (BP, EG, TM):
        out = validate(schema, {})
        assert out["consumer_tag_prefix"] == "role:"
