"""kong.client.*"""

from __future__ import annotations

from typing import Any

from kong_plugins.testing.kong.pdk import NotEmulated, PdkContext, PdkThrow, pdk
from kong_plugins.testing.kong.pdk_api.common import (
    UUID_RE,
)


@pdk("kong.client.get_ip", "kong.client.get_forwarded_ip")
def _client_ip(ctx: PdkContext) -> str:
    return ctx.req.client_ip


@pdk("kong.client.get_port", "kong.client.get_forwarded_port")
def _client_port(ctx: PdkContext) -> int:
    return ctx.req.client_port


@pdk("kong.client.get_credential")
def _get_credential(ctx: PdkContext) -> Any:
    return ctx.req.credential


@pdk("kong.client.get_consumer")
def _get_consumer(ctx: PdkContext) -> Any:
    return ctx.req.consumer


@pdk("kong.client.load_consumer")
def _load_consumer(ctx: PdkContext, consumer_id: Any = None, by_username: Any = None) -> Any:
    if not isinstance(consumer_id, str) or not consumer_id:
        raise PdkThrow("consumer_id must be a string")
    if not by_username and not UUID_RE.match(consumer_id):
        raise PdkThrow("cannot load a consumer with an id that is not a uuid")
    lookup = ctx.node.consumer_lookup
    if lookup is None:
        raise NotEmulated("kong.client.load_consumer needs node.consumer_lookup (set by the Gateway)")
    return lookup(consumer_id, bool(by_username))


@pdk("kong.client.authenticate")
def _authenticate(ctx: PdkContext, consumer: Any = None, credential: Any = None) -> None:
    if consumer is None and credential is None:
        raise PdkThrow("either credential or consumer must be provided")
    if consumer is not None and not isinstance(consumer, dict):
        raise PdkThrow("consumer must be a table or nil")
    if credential is not None and not isinstance(credential, dict):
        raise PdkThrow("credential must be a table or nil")
    ctx.req.consumer = consumer
    ctx.req.credential = credential


@pdk("kong.client.get_protocol")
def _client_protocol(ctx: PdkContext, allow_terminated: Any = None) -> str:
    return ctx.req.scheme


@pdk(
    "kong.client.tls.request_client_certificate",
    "kong.client.tls.disable_session_reuse",
    "kong.client.tls.get_full_client_certificate_chain",
    "kong.client.tls.set_client_verify",
)
def _client_tls(ctx: PdkContext, *args: Any) -> None:
    return None  # plain HTTP front: no TLS session
