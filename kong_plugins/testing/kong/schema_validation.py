"""Kong's schema rules for plugin configs: type checks, required fields, defaults, one_of,
between, len_min/len_max, match, elements, keys/values and nested records.

A schema is Kong's DSL as plain data: a list of one-key dicts `{name: field}`. `validate`
returns the config with every default filled in, or raises SchemaError with Kong-shaped
messages (a nested dict of field name -> message, like Kong's `schema violation` body).
Absent optional fields come back as None (Kong keeps them as JSON null in the config it
sends to plugin servers); an absent *required* record is expanded to its fields' defaults
(kong/db/schema/init.lua handle_missing_field).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

Schema = list[dict[str, Any]]


class SchemaError(ValueError):
    def __init__(self, errors: dict[str, Any]) -> None:
        self.errors = errors
        super().__init__(format_errors(errors))


def format_errors(errors: Mapping[str, Any], prefix: str = "") -> str:
    parts = []
    for key, value in errors.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            parts.append(format_errors(value, name))
        elif isinstance(value, list):
            parts.append(f"{name}: {'; '.join(str(v) for v in value)}")
        else:
            parts.append(f"{name}: {value}")
    return ", ".join(parts)


def fields_of(schema: Schema) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for entry in schema:
        if not isinstance(entry, Mapping) or len(entry) != 1:
            raise ValueError(f"schema entry must be a one-key mapping, got {entry!r}")
        ((name, field),) = entry.items()
        out.append((str(name), dict(field)))
    return out


def config_fields(plugin_schema: Mapping[str, Any]) -> Schema:
    """The `config` record's fields of a dumped plugin schema ({"name", "fields": [{"config": ...}]})."""
    for name, field in fields_of(list(plugin_schema.get("fields") or [])):
        if name == "config":
            return list(field.get("fields") or [])
    raise ValueError(f"plugin schema {plugin_schema.get('name')!r} has no config record")


def validate(schema: Schema, value: Any) -> dict[str, Any]:
    """The config with defaults filled; SchemaError on any violation."""
    if value is None or value == []:  # an empty Lua table arrives as []
        value = {}
    result, err = _record({"type": "record", "fields": schema}, value)
    if err is not None:
        raise SchemaError(err if isinstance(err, dict) else {"@entity": err})
    return result


_TYPE_NAMES = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "a boolean",
    "array": "an array",
    "set": "a set",
    "map": "a map",
    "record": "a record",
    "foreign": "a foreign key",
}


def _check(field: dict[str, Any], value: Any) -> tuple[Any, Any]:
    """(normalised value, error) for one present, non-null value."""
    ftype = field.get("type")
    if ftype == "record":
        return _record(field, value)
    if ftype in ("array", "set"):
        return _array(field, value)
    if ftype == "map":
        return _map(field, value)
    if ftype == "string":
        if not isinstance(value, str):
            return value, "expected a string"
        return value, _string_rules(field, value) or _common_rules(field, value)
    if ftype == "boolean":
        if not isinstance(value, bool):
            return value, "expected a boolean"
        return value, _common_rules(field, value)
    if ftype == "integer":
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            return value, "expected an integer"
        return int(value), _number_rules(field, value) or _common_rules(field, value)
    if ftype == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value, "expected a number"
        return value, _number_rules(field, value) or _common_rules(field, value)
    if ftype == "foreign":
        if not isinstance(value, Mapping | str):
            return value, "expected a foreign key"
        return value, None
    if ftype == "json" or ftype is None:
        return value, None
    return value, f"unknown type {ftype!r} in schema"


def _common_rules(field: dict[str, Any], value: Any) -> str | None:
    one_of = field.get("one_of")
    if one_of is not None and value not in one_of:
        return "expected one of: " + ", ".join(str(v) for v in one_of)
    not_one_of = field.get("not_one_of")
    if not_one_of is not None and value in not_one_of:
        return "must not be one of: " + ", ".join(str(v) for v in not_one_of)
    if "eq" in field and value != field["eq"]:
        return f"value must be {field['eq']}"
    if "ne" in field and value == field["ne"]:
        return f"value must not be {field['ne']}"
    return None


def _number_rules(field: dict[str, Any], value: float) -> str | None:
    between = field.get("between")
    if between is not None and not (between[0] <= value <= between[1]):
        return f"value should be between {between[0]} and {between[1]}"
    if "gt" in field and not value > field["gt"]:
        return f"value must be greater than {field['gt']}"
    return None


def _string_rules(field: dict[str, Any], value: str) -> str | None:
    if field.get("len_min") is None:  # Kong: "empty strings are not accepted by default"
        field = {**field, "len_min": 1}
    length = _length_rules(field, len(value))
    if length is not None:
        return length
    pattern = field.get("match")
    if pattern is not None and not _lua_match(pattern, value):
        return f"invalid value: {value}"
    pattern = field.get("not_match")
    if pattern is not None and _lua_match(pattern, value):
        return f"invalid value: {value}"
    for rule in field.get("match_all") or []:
        if not _lua_match(rule["pattern"], value):
            return rule.get("err") or f"invalid value: {value}"
    for rule in field.get("match_none") or []:
        if _lua_match(rule["pattern"], value):
            return rule.get("err") or f"invalid value: {value}"
    match_any = field.get("match_any")
    if match_any and not any(_lua_match(p, value) for p in match_any.get("patterns", [])):
        return match_any.get("err") or f"invalid value: {value}"
    for key in ("starts_with",):
        if key in field and not value.startswith(field[key]):
            return f"should start with: {field[key]}"
    return None


def _lua_match(pattern: str, value: str) -> bool:
    """Lua patterns are close enough to regexes for the anchors and classes schemas use."""
    translated = (
        pattern.replace("%a", "[A-Za-z]")
        .replace("%d", "[0-9]")
        .replace("%w", "[A-Za-z0-9]")
        .replace("%s", r"\s")
        .replace("%-", r"\-")
        .replace("%.", r"\.")
        .replace("%%", "%")
    )
    try:
        return re.search(translated, value) is not None
    except re.error:
        return True  # a pattern we cannot translate is not our user's fault


def _length_rules(field: dict[str, Any], n: int) -> str | None:
    if "len_eq" in field and n != field["len_eq"]:
        return f"length must be {field['len_eq']}"
    len_min = field.get("len_min")
    if len_min is not None and n < len_min:
        return f"length must be at least {len_min}"
    len_max = field.get("len_max")
    if len_max is not None and n > len_max:
        return f"length must be at most {len_max}"
    return None


def _array(field: dict[str, Any], value: Any) -> tuple[Any, Any]:
    if value == {}:
        value = []  # an empty table is an empty array too
    if not isinstance(value, list | tuple):
        return value, f"expected {_TYPE_NAMES[field['type']]}"
    elements = field.get("elements") or {}
    out: list[Any] = []
    errors: dict[str, Any] = {}
    for i, item in enumerate(value):
        if item is None:
            errors[str(i + 1)] = "required field missing"
            continue
        checked, err = _check(elements, item)
        if err is not None:
            errors[str(i + 1)] = err
        if field["type"] == "set" and checked in out:
            continue  # Kong drops duplicates in sets
        out.append(checked)
    if errors:
        # Kong reports array element errors as a list indexed from 1; a flat message reads better.
        return out, [
            f"[{k}] {v}" if not isinstance(v, dict) else f"[{k}] {format_errors(v)}" for k, v in errors.items()
        ]
    contains = field.get("contains")
    if contains is not None and contains not in out:
        return out, f"expected to contain: {contains}"
    return out, _length_rules(field, len(out))


def _map(field: dict[str, Any], value: Any) -> tuple[Any, Any]:
    if value == []:
        value = {}
    if not isinstance(value, Mapping):
        return value, "expected a map"
    out: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    keys = field.get("keys") or {}
    values = field.get("values") or {}
    for k, v in value.items():
        _, kerr = _check(keys, k)
        if kerr is not None:
            errors[str(k)] = kerr
            continue
        if v is None:
            errors[str(k)] = "required field missing"
            continue
        checked, verr = _check(values, v)
        if verr is not None:
            errors[str(k)] = verr
        out[k] = checked
    if errors:
        return out, errors
    return out, _length_rules(field, len(out))


def _record(field: dict[str, Any], value: Any) -> tuple[Any, Any]:
    if value == []:
        value = {}
    if not isinstance(value, Mapping):
        return value, "expected a record"
    subfields = fields_of(list(field.get("fields") or []))
    known = {name for name, _ in subfields}
    out: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for key in value:
        if key not in known:
            errors[str(key)] = "unknown field"
    for name, sub in subfields:
        if name in value and value[name] is not None:
            checked, err = _check(sub, value[name])
            if err is not None:
                errors[name] = err
            out[name] = checked
        elif "default" in sub:
            default = copy.deepcopy(sub["default"])
            out[name] = _record(sub, default)[0] if sub.get("type") == "record" else default
        elif not sub.get("required"):
            out[name] = None  # Kong: a field that is not required is nullable
        elif sub.get("type") == "record":
            # Kong expands a missing required record to get its nested defaults.
            out[name], err = _record(sub, {})
            if err is not None:
                errors[name] = err
        else:
            errors[name] = "required field missing"
    return out, (errors or None)
