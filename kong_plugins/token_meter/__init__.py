"""The token-meter Kong plugin."""
