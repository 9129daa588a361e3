"""Emulation of each Kong 3.9.3 PDK function a plugin server may call, served from KongRequest.

Phase checks happen before these run (pdk.py, from pdk_methods.py); here only argument
checks that make Kong throw, and the effects. In the log timer, the bridged getters answer
from the snapshot (kong/runloop/plugin_servers/plugin.lua `exposed_api`). Importing this
package registers every function with pdk.REGISTRY.
"""

from kong_plugins.testing.kong.pdk_api import bridged, client, misc, request, response, service
from kong_plugins.testing.kong.pdk_api.common import (
    HTTP_ERROR_MESSAGES,
    JSON_CONTENT_TYPE,
    exit_response,
    kong_error_body,
    response_type,
    serialize,
)

__all__ = [
    "HTTP_ERROR_MESSAGES",
    "JSON_CONTENT_TYPE",
    "bridged",
    "client",
    "exit_response",
    "kong_error_body",
    "misc",
    "request",
    "response",
    "response_type",
    "serialize",
    "service",
]
