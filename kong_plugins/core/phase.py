"""The wrapper every phase handler runs in.

kong-pdk 0.36 never answers Kong when a handler raises: before the first PDK call that
wedges the whole plugin server, after it the request stalls for 60 s. So no exception may
leave a handler. An error is logged by class only (never a body) and, in access and
response, answered with a 500 in the client's API format. After kong.response.exit Kong
abandons the event, so nothing more is sent to it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from kong_plugins.core.client_api import ClientApi, detect_client_api
from kong_plugins.core.errors import GatewayError, render_error
from kong_plugins.core.logging import log_event

ANSWERING_PHASES = ("access", "response")


class Event:
    """One run of one phase handler: the PDK handle plus what the wrapper must know."""

    __slots__ = ("kong", "plugin", "phase", "client_api", "exited")

    def __init__(self, kong: Any, plugin: str, phase: str) -> None:
        self.kong = kong
        self.plugin = plugin
        self.phase = phase
        self.client_api: ClientApi | None = None
        self.exited = False

    def exit(self, status: int, body: bytes | str = b"", headers: dict[str, str] | None = None) -> None:
        """Answer the client. The caller must return right after."""
        self.exited = True
        # Never None in the argument list: Kong unpacks Args with Lua's length operator.
        self.kong.response.exit(status, body, headers or {})

    def exit_error(self, err: GatewayError, api: ClientApi | None = None) -> None:
        status, body, headers = render_error(api or self.client_api or ClientApi.OPENAI, err)
        self.exit(status, body, headers)


Handler = Callable[[Any, Any, Event], None]


def phase_handler(plugin: str, phase: str) -> Callable[[Handler], Callable[[Any, Any], None]]:
    """Decorate `def access(self, kong, event)` into the `def access(self, kong)` kong-pdk calls."""

    def decorate(fn: Handler) -> Callable[[Any, Any], None]:
        @functools.wraps(fn)
        def run(self: Any, kong: Any) -> None:
            event = Event(kong, plugin, phase)
            try:
                fn(self, kong, event)
            except GatewayError as err:
                if phase in ANSWERING_PHASES and not event.exited:
                    _answer(event, err)
            except Exception as exc:  # noqa: BLE001 - the whole point: nothing escapes
                log_event("handler_error", level="error", plugin=plugin, phase=phase, error_class=type(exc).__name__)
                if phase in ANSWERING_PHASES and not event.exited:
                    _answer(event, GatewayError("internal_error", "The gateway failed to process this request."))

        return run

    return decorate


def _answer(event: Event, err: GatewayError) -> None:
    try:
        if event.client_api is None:
            event.client_api = detect_client_api(str(event.kong.request.get_path() or ""))
        event.exit_error(err)
    except Exception as exc:  # noqa: BLE001
        log_event(
            "handler_error",
            level="error",
            plugin=event.plugin,
            phase=event.phase,
            error_class=type(exc).__name__,
        )
