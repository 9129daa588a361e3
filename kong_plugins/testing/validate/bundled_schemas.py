"""Config schemas of the bundled Kong plugins our declarative files use but the harness does
not emulate, in Kong's schema DSL, as Kong 3.9.3 defines them (kong/plugins/<name>/schema.lua,
kong/tools/queue_schema.lua). Descriptions, deprecated fields' messages and Lua-only
validators are left out; types, required, defaults, one_of, between and referenceable match.
"""

from __future__ import annotations

from typing import Any

Schema = list[dict[str, Any]]

QUEUE: dict[str, Any] = {
    "type": "record",
    "required": True,
    "fields": [
        {"max_batch_size": {"type": "integer", "default": 1, "between": [1, 1000000]}},
        {"max_coalescing_delay": {"type": "number", "default": 1, "between": [0, 3600]}},
        {"max_entries": {"type": "integer", "default": 10000, "between": [1, 1000000]}},
        {"max_bytes": {"type": "integer"}},
        {"max_retry_time": {"type": "number", "default": 60}},
        {"initial_retry_delay": {"type": "number", "default": 0.01, "between": [0.001, 1000000]}},
        {"max_retry_delay": {"type": "number", "default": 60, "between": [0.001, 1000000]}},
        {"concurrency_limit": {"type": "integer", "default": 1, "one_of": [-1, 1]}},
    ],
}

FILE_LOG: Schema = [
    {"path": {"type": "string", "required": True}},
    {"reopen": {"type": "boolean", "required": True, "default": False}},
    {"custom_fields_by_lua": {"type": "map", "keys": {"type": "string"}, "values": {"type": "string"}}},
]

PROMETHEUS: Schema = [
    {name: {"type": "boolean", "default": False}}
    for name in (
        "per_consumer",
        "status_code_metrics",
        "ai_metrics",
        "latency_metrics",
        "bandwidth_metrics",
        "upstream_health_metrics",
    )
]

_DATADOG_METRIC: dict[str, Any] = {
    "type": "record",
    "fields": [
        {
            "name": {
                "type": "string",
                "required": True,
                "one_of": [
                    "kong_latency",
                    "latency",
                    "request_count",
                    "request_size",
                    "response_size",
                    "upstream_latency",
                ],
            }
        },
        {
            "stat_type": {
                "type": "string",
                "required": True,
                "one_of": ["counter", "gauge", "histogram", "meter", "set", "timer", "distribution"],
            }
        },
        {"tags": {"type": "array", "elements": {"type": "string"}}},
        {"sample_rate": {"type": "number", "between": [0, 1]}},
        {"consumer_identifier": {"type": "string", "one_of": ["consumer_id", "custom_id", "username"]}},
    ],
}

_DEFAULT_METRICS: list[dict[str, Any]] = [
    {"name": "request_count", "stat_type": "counter", "sample_rate": 1, "tags": ["app:kong"]},
    *(
        {"name": name, "stat_type": "timer", "tags": ["app:kong"]}
        for name in ("latency", "request_size", "response_size", "upstream_latency", "kong_latency")
    ),
]
for _metric in _DEFAULT_METRICS:
    _metric["consumer_identifier"] = "custom_id"

DATADOG: Schema = [
    {"host": {"type": "string", "referenceable": True, "default": "localhost"}},
    {"port": {"type": "integer", "default": 8125, "between": [0, 65535]}},
    {"prefix": {"type": "string", "default": "kong"}},
    {"service_name_tag": {"type": "string", "default": "name"}},
    {"status_tag": {"type": "string", "default": "status"}},
    {"consumer_tag": {"type": "string", "default": "consumer"}},
    {"retry_count": {"type": "integer"}},
    {"queue_size": {"type": "integer"}},
    {"flush_timeout": {"type": "number"}},
    {"queue": QUEUE},
    {"metrics": {"type": "array", "required": True, "default": _DEFAULT_METRICS, "elements": _DATADOG_METRIC}},
]

# name -> (priority in Kong 3.9.3, config schema)
BUNDLED: dict[str, tuple[int, Schema]] = {
    "file-log": (9, FILE_LOG),
    "prometheus": (13, PROMETHEUS),
    "datadog": (10, DATADOG),
}
