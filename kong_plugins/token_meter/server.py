"""Console script `token-meter`: the plugin's dedicated kong-pdk server.

SIGTERM (how Kong and Kubernetes stop the server) becomes a normal exit, so the atexit hook
of the CloudWatch publisher sends the datapoints aggregated since its last flush.
"""

import signal
import sys
from types import FrameType

from kong_plugins.core.server import serve


def _exit(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)


def main() -> None:
    signal.signal(signal.SIGTERM, _exit)
    serve("token-meter", "kong_plugins.token_meter.handler")
