"""What a decision leaves behind: one log line per finding and the decisions metric.
Both carry the decision, category, rule id and role, never the matched text."""

from __future__ import annotations

from kong_plugins.core import metrics
from kong_plugins.core.logging import log_event
from kong_plugins.ecommerce_guardrails.engine import Decision

PLUGIN = "ecommerce-guardrails"

DECISIONS = metrics.counter(
    "kong_bedrock_guardrail_decisions",
    "Guardrail outcomes by category, action (block/mask/shadow) and caller role.",
    ("category", "action", "role"),
)


def report(decision: Decision, role: str, client_api: str | None = None) -> None:
    if decision.action == "allow":
        return
    counted: set[tuple[str, str]] = set()
    for finding, action in decision.outcomes:
        log_event(
            "guardrail_finding",
            plugin=PLUGIN,
            decision=decision.action,
            action=action,
            category=finding.category,
            rule_id=finding.rule_id,
            role=role,
            client_api=client_api,
        )
        # A blocked request counts once, under its blocking category.
        if decision.action == "block" and action != "block":
            continue
        if (finding.category, action) not in counted and not (decision.action == "block" and counted):
            counted.add((finding.category, action))
            DECISIONS.labels(category=finding.category, action=action, role=role).inc()
