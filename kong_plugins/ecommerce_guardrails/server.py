"""Console script `ecommerce-guardrails`: the plugin's dedicated kong-pdk server."""

from kong_plugins.core.server import serve


def main() -> None:
    serve("ecommerce-guardrails", "kong_plugins.ecommerce_guardrails.handler")
