"""Test-only plugin servers driven by the harness, and helpers to drive them."""
