"""The plugin's settings, built once per plugin instance from its Kong config."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kong_plugins.bedrock_proxy.fallback import FallbackSettings
from kong_plugins.bedrock_proxy.gemini import GeminiKey
from kong_plugins.bedrock_proxy.policy import ModelPolicy
from kong_plugins.bedrock_proxy.upstream import Endpoint, Signer, bedrock_endpoint, gemini_endpoint
from kong_plugins.core.client_api import ClientApi


@dataclass
class Settings:
    policy: ModelPolicy
    region: str
    bedrock: Endpoint
    gemini: Endpoint
    signer: Signer
    gemini_key: GeminiKey
    fallback: FallbackSettings
    max_body_bytes: int = 1 << 20
    prices: dict[str, dict[str, float]] = field(default_factory=dict)
    client_api: ClientApi | None = None

    @classmethod
    def from_config(
        cls, conf: Mapping[str, Any], env: Mapping[str, str] | None = None, session: Any = None
    ) -> Settings:
        env = os.environ if env is None else env
        region = str(conf.get("aws_region") or "us-east-1")
        prices = conf.get("prices")
        api = conf.get("client_api")
        return cls(
            policy=ModelPolicy.from_config(conf),
            region=region,
            bedrock=bedrock_endpoint(region, conf.get("endpoint_url"), env),
            gemini=gemini_endpoint(conf.get("gemini_endpoint_url"), env),
            signer=Signer(region, session),
            gemini_key=GeminiKey(conf.get("gemini_api_key"), env),
            fallback=FallbackSettings.from_config(conf),
            max_body_bytes=int(conf.get("max_body_bytes") or 1 << 20),
            prices={str(k): dict(v) for k, v in prices.items()} if isinstance(prices, Mapping) else {},
            client_api=ClientApi(api) if api else None,
        )
