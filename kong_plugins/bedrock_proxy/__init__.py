"""The bedrock-proxy Kong plugin."""
