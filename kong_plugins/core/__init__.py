"""Shared core of the three plugins: identity, client APIs, errors, usage, pricing, logging.

Nothing here imports the PDK except `phase` and `server`, which are the shared shell.
"""
