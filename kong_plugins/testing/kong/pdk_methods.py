"""The PDK function names a Python plugin can call on Kong 3.9.3 OSS, with their phases, as data.

Source: section 2 of docs/reference (kong-3.9-plugin-server.md), checked against kong/pdk/*.lua
and kong/runloop/plugin_servers/{plugin,rpc/mp_rpc}.lua at tag 3.9.3. `L` is Kong's log
*timer* (where Python log handlers run), not nginx's log phase: getters that touch ngx.var,
ngx.req or ngx.resp throw there. Enterprise-only names are absent on purpose: calling one is
a bug in the plugin ("could not find pdk method" in Kong, a violation in the harness).
"""

from __future__ import annotations

PHASE_CODES = {
    "C": "certificate",
    "RW": "rewrite",
    "A": "access",
    "RS": "response",
    "L": "log",
    "P": "preread",
}
ALL_PHASES = frozenset(PHASE_CODES.values())
PLUGIN_PHASES = ALL_PHASES  # what kong-pdk lets a Plugin class declare

# name, then the phases where Kong does not throw ("any" = all of them; "-" = none a Python
# plugin can run in). `!` after the phases marks functions that exist but cannot work over
# RPC (function or cdata arguments): the harness refuses them loudly.
_TABLE = """
kong.nginx.get_var                         C RW A RS P
kong.nginx.get_tls1_version_str            C RW A RS P
kong.nginx.get_ctx                         any
kong.nginx.set_ctx                         any
kong.nginx.req_start_time                  any
kong.ctx.shared.get                        any
kong.ctx.shared.set                        any
kong.log.serialize                         L

kong.client.get_ip                         C RW A RS
kong.client.get_forwarded_ip               C RW A RS
kong.client.get_port                       C RW A RS
kong.client.get_forwarded_port             C RW A RS
kong.client.get_credential                 A RS L
kong.client.load_consumer                  A RS
kong.client.get_consumer                   A RS L
kong.client.authenticate                   A
kong.client.get_protocol                   A RS
kong.client.tls.request_client_certificate C
kong.client.tls.disable_session_reuse      C
kong.client.tls.get_full_client_certificate_chain RW A
kong.client.tls.set_client_verify          RW A
kong.client.tls.disable_http2_alpn         -

kong.request.get_scheme                    RW A RS
kong.request.get_host                      RW A RS
kong.request.get_port                      C RW A RS
kong.request.get_forwarded_scheme          RW A RS
kong.request.get_forwarded_host            RW A RS
kong.request.get_forwarded_port            RW A RS
kong.request.get_forwarded_path            RW A RS
kong.request.get_forwarded_prefix          RW A RS
kong.request.get_http_version              RW A RS
kong.request.get_method                    RW A RS
kong.request.get_path                      RW A RS
kong.request.get_raw_path                  RW A RS
kong.request.get_path_with_query           RW A RS
kong.request.get_raw_query                 RW A RS
kong.request.get_query_arg                 RW A RS
kong.request.get_query                     RW A RS
kong.request.get_header                    RW A RS L
kong.request.get_headers                   RW A RS L
kong.request.get_raw_body                  RW A RS
kong.request.get_body                      RW A RS
kong.request.get_start_time                RW A RS L
kong.request.get_uri_captures              RW A RS L

kong.response.get_status                   RS L
kong.response.get_header                   RS L
kong.response.get_headers                  RS L
kong.response.get_source                   RS L
kong.response.set_status                   RW A RS
kong.response.set_header                   RW A RS
kong.response.add_header                   RW A RS
kong.response.clear_header                 RW A RS
kong.response.set_headers                  RW A RS
kong.response.exit                         RW A RS P
kong.response.error                        RW A RS
kong.response.get_raw_body                 -
kong.response.set_raw_body                 -

kong.service.set_upstream                  A
kong.service.set_target                    A
kong.service.set_retries                   A
kong.service.set_timeouts                  A
kong.service.set_target_retry_callback     A !
kong.service.set_tls_verify                RW A
kong.service.set_tls_verify_depth          RW A
kong.service.set_tls_cert_key              RW A !
kong.service.set_tls_verify_store          RW A !

kong.service.request.enable_buffering      RW A
kong.service.request.set_scheme            RW A
kong.service.request.set_path              RW A
kong.service.request.set_raw_query         RW A
kong.service.request.set_method            RW A
kong.service.request.set_query             RW A
kong.service.request.clear_query_arg       RW A
kong.service.request.set_header            RW A
kong.service.request.add_header            RW A
kong.service.request.clear_header          RW A
kong.service.request.set_headers           RW A
kong.service.request.set_raw_body          RW A
kong.service.request.set_body              RW A
kong.service.request.disable_tls           P

kong.service.response.get_status           RS L
kong.service.response.get_headers          RS L
kong.service.response.get_header           RS L
kong.service.response.get_raw_body         RS L
kong.service.response.get_body             RS

kong.log                                   any
kong.log.debug                             any
kong.log.info                              any
kong.log.notice                            any
kong.log.warn                              any
kong.log.err                               any
kong.log.crit                              any
kong.log.alert                             any
kong.log.emerg                             any
kong.log.deprecation                       any
kong.log.inspect                           any
kong.log.inspect.on                        any
kong.log.inspect.off                       any
kong.log.set_format                        any
kong.log.set_serialize_value               RW A RS L

kong.router.get_route                      A RS L
kong.router.get_service                    A RS L
kong.plugin.get_id                         RW A RS L
kong.node.get_id                           any
kong.node.get_hostname                     any
kong.node.get_memory_stats                 any
kong.cluster.get_id                        any
kong.ip.is_trusted                         any
kong.nginx.get_subsystem                   any
kong.nginx.get_statistics                  any
kong.vault.get                             any
kong.vault.is_reference                    any
kong.vault.parse_reference                 any
kong.vault.update                          any
kong.vault.flush                           any
kong.vault.try                             any !
kong.telemetry.log                         any
kong.table.new                             any
kong.table.clear                           any
kong.table.merge                           any
"""


def _parse(table: str) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    phases: dict[str, frozenset[str]] = {}
    no_rpc: set[str] = set()
    for line in table.splitlines():
        parts = line.split()
        if not parts:
            continue
        name, codes = parts[0], parts[1:]
        if codes and codes[-1] == "!":
            no_rpc.add(name)
            codes = codes[:-1]
        if codes == ["any"]:
            phases[name] = ALL_PHASES
        elif codes == ["-"]:
            phases[name] = frozenset()
        else:
            phases[name] = frozenset(PHASE_CODES[c] for c in codes)
    return phases, frozenset(no_rpc)


PDK_PHASES, NO_RPC = _parse(_TABLE)
"""Every callable PDK name of Kong 3.9.3 OSS -> the phases where it does not throw."""

MULTI_MAP = frozenset(
    {
        "kong.request.get_query",
        "kong.request.get_headers",
        "kong.response.get_headers",
        "kong.service.response.get_headers",
    }
)
"""Kong's fix_mmap: str -> [str], True -> [], empty -> {} (a map, not [])."""

RAW_BODY = frozenset(
    {
        "kong.request.get_raw_body",
        "kong.response.get_raw_body",
        "kong.service.response.get_raw_body",
    }
)
"""Kong's fix_raw: msgpack bin; a nil result makes the packer throw."""

STEP_METHOD = {
    "kong.client.get_credential": "plugin.StepCredential",
    "kong.client.load_consumer": "plugin.StepConsumer",
    "kong.client.get_consumer": "plugin.StepConsumer",
    "kong.client.authenticate": "plugin.StepCredential",
    "kong.node.get_memory_stats": "plugin.StepMemoryStats",
    "kong.router.get_route": "plugin.StepRoute",
    "kong.router.get_service": "plugin.StepService",
    "kong.request.get_query": "plugin.StepMultiMap",
    "kong.request.get_headers": "plugin.StepMultiMap",
    "kong.response.get_headers": "plugin.StepMultiMap",
    "kong.service.response.get_headers": "plugin.StepMultiMap",
}
"""mp_rpc.lua's get_step_method table; everything else goes back with plugin.Step."""

TERMINAL = frozenset({"kong.response.exit", "kong.response.error"})
"""Calls after which Kong sends no further Step for the event."""


def step_method(name: str) -> str:
    return STEP_METHOD.get(name, "plugin.Step")


def is_known(name: str) -> bool:
    return name in PDK_PHASES


def allowed_in(name: str, phase: str) -> bool:
    return phase in PDK_PHASES.get(name, frozenset())
