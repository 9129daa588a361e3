"""Console script `token-meter`: the plugin's dedicated kong-pdk server."""

from kong_plugins.core.server import serve


def main() -> None:
    serve("token-meter", "kong_plugins.token_meter.handler")
