"""Console script `bedrock-proxy`: the plugin's dedicated kong-pdk server."""

from kong_plugins.core.server import serve


def main() -> None:
    serve("bedrock-proxy", "kong_plugins.bedrock_proxy.handler")
