"""The ecommerce-guardrails Kong plugin."""
