"""The plugin's own HTTP client, used only for fallback attempts from the response phase.

urllib3 with one pool per process; under the gevent server (-g) its sockets yield. Kong does
all normal proxying; see docs/decisions/0044-fallback-from-response-phase.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import urllib3

_pool = urllib3.PoolManager(num_pools=4, maxsize=8, retries=False)


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


class TransportError(Exception):
    def __init__(self, timed_out: bool) -> None:
        super().__init__("timeout" if timed_out else "connection failed")
        self.timed_out = timed_out


def post(url: str, body: bytes, headers: Mapping[str, str], timeout_s: float, connect_s: float = 5.0) -> HttpAnswer:
    try:
        resp = _pool.request(
            "POST",
            url,
            body=body,
            headers=dict(headers),
            timeout=urllib3.Timeout(connect=min(connect_s, timeout_s), read=timeout_s),
            redirect=False,
            preload_content=True,
        )
    except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ReadTimeoutError) as exc:
        raise TransportError(True) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise TransportError(False) from exc
    return HttpAnswer(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.data)
