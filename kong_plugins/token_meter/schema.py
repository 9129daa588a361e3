"""Config schema of token-meter, in Kong's schema DSL. Every field is described in
docs/token-meter.md; limits of 0 mean unlimited."""

from __future__ import annotations

from typing import Any

from kong_plugins.core.schema import IDENTITY_FIELDS

INT_MAP: dict[str, Any] = {"type": "map", "keys": {"type": "string"}, "values": {"type": "integer"}}
PORT: dict[str, Any] = {"type": "integer", "between": [0, 65535]}

PRICE_RECORD: dict[str, Any] = {
    "type": "record",
    "fields": [
        {"input": {"type": "number", "required": True}},
        {"output": {"type": "number", "required": True}},
        {"cache_read": {"type": "number"}},
        {"cache_write": {"type": "number"}},
    ],
}

CONSUMER_LIMIT: dict[str, Any] = {
    "type": "record",
    "fields": [
        {"consumer": {"type": "string", "required": True}},  # username or id
        {"minute": {"type": "integer"}},
        {"hour": {"type": "integer"}},
        {"day": {"type": "integer"}},
    ],
}

SCHEMA: list[dict[str, Any]] = [
    *IDENTITY_FIELDS,
    # limits (tokens, input plus output, per subject)
    {"limits_per_minute": {**INT_MAP, "default": {}}},  # role -> tokens; unnamed roles keep the defaults
    {"limits_per_hour": {**INT_MAP, "default": {}}},
    {"limits_per_day": {**INT_MAP, "default": {}}},
    {"consumer_limits": {"type": "array", "elements": CONSUMER_LIMIT, "default": []}},
    {"window_scale": {"type": "number", "default": 1, "between": [0.001, 1]}},  # tests and demos only
    {"namespace": {"type": "string", "default": "llm"}},  # separate counters per plugin instance if wanted
    {"reservation": {"type": "boolean", "default": False}},
    {"reservation_default_max_tokens": {"type": "integer", "default": 256, "between": [0, 1_000_000]}},
    # where the counters live
    {"policy": {"type": "string", "default": "local", "one_of": ["local", "redis"]}},
    {"fault_tolerant": {"type": "boolean", "default": True}},
    {"redis_host": {"type": "string", "default": "127.0.0.1"}},
    {"redis_port": {**PORT, "default": 6379}},
    {"redis_database": {"type": "integer", "default": 0, "between": [0, 1024]}},
    {"redis_username": {"type": "string"}},
    {"redis_password": {"type": "string", "referenceable": True}},
    {"redis_ssl": {"type": "boolean", "default": False}},
    {"redis_ssl_verify": {"type": "boolean", "default": True}},
    {"redis_ssl_ca_file": {"type": "string"}},  # PEM of a private CA; unset = system CAs
    {"redis_timeout_ms": {"type": "integer", "default": 200, "between": [1, 60_000]}},
    {"redis_cluster": {"type": "boolean", "default": False}},
    {"redis_key_prefix": {"type": "string", "default": "kong_tm:"}},
    # metering
    {"metrics_port": {**PORT, "default": 9542}},  # 0 = do not serve /metrics from this server
    {"metrics_address": {"type": "string", "default": "0.0.0.0"}},
    {"metric_models": {"type": "array", "elements": {"type": "string"}, "default": []}},  # [] = priced models
    {"metric_consumer_limit": {"type": "integer", "default": 200, "between": [1, 100_000]}},
    {"pricing": {"type": "map", "keys": {"type": "string"}, "values": PRICE_RECORD, "default": {}}},
    {"cloudwatch_emf": {"type": "string", "default": "off"}},  # off | stdout | stderr | <file path>
    {"cloudwatch_put_metrics": {"type": "boolean", "default": False}},
    {"cloudwatch_namespace": {"type": "string", "default": "KongBedrockGateway"}},
    {"cloudwatch_region": {"type": "string"}},
    {"cloudwatch_endpoint_url": {"type": "string"}},
    {"cloudwatch_flush_seconds": {"type": "number", "default": 60, "between": [0.05, 3600]}},
    {"cloudwatch_consumer_dimension": {"type": "boolean", "default": False}},
    {"dogstatsd_host": {"type": "string"}},  # unset = no Datadog
    {"dogstatsd_port": {**PORT, "default": 8125}},
    {"dogstatsd_namespace": {"type": "string", "default": "kong_bedrock"}},
    {"dogstatsd_tags": {"type": "array", "elements": {"type": "string"}, "default": []}},
]
