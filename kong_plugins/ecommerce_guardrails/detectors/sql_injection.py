"""sql_injection: SQL syntax together with an injection payload, or destructive statements
against shop data. Keywords alone never match: "How do I select a dress size?" and "What is
SQL injection and how do I prevent it?" pass.

Plain read-only SQL (`SELECT ... FROM orders WHERE ...`) is its own rule, sqli.raw_select,
so the policy can let the roles in `readonly_sql_roles` (analysts) send it.
"""

from __future__ import annotations

import re

from kong_plugins.ecommerce_guardrails.detectors import (
    DEFENSIVE,
    SQL_INJECTION,
    AnchorIndex,
    Extra,
    Finding,
    IntentRule,
    run_intent_rules,
)

# Inline comments used to split keywords (UN/**/ION SEL/**/ECT); bounded, so linear.
_INLINE_COMMENT = re.compile(r"/\*.{0,64}?\*/")
_Q = r"['\"`´‘’]"  # quote characters that close a string literal
_TABLE = (
    r"(?!(?:the|a|an|my|your|our|this|that|these|those|it|them|list|menu|cart|basket|options|dropdown|catalog|"
    r"range|store|shop|website|site|app|page|here|there)\b)[\w.\[\]`\"]+"
)

INTENT_RULES = (
    IntentRule("sqli.union", SQL_INJECTION, r"\bunion\s*(?:all\s*|distinct\s*)?\(?\s*select\b", ("union",)),
    IntentRule(
        "sqli.tautology",
        SQL_INJECTION,
        rf"{_Q}\s*\)*\s*(?:or|\|\||xor)\s*\(*\s*{_Q}?\w{{0,20}}{_Q}?\s*(?:=|<>|!=|<=>|>=?|<=?|\blike\s+{_Q}|"
        rf"\bis\s+(?:not\s+)?null)\s*\(*(?:{_Q}|\w)"
        rf"|\b(?:or|and)\s+(\d{{1,6}})\s*=\s*\1\b"
        rf"|\bor\s+{_Q}(\w{{1,20}}){_Q}\s*=\s*{_Q}\2{_Q}"
        rf"|{_Q}\s*\)*\s*(?:or|\|\|)\s*(?:true|not\s*false|1)\s*(?:--|#|/\*|;|\)|$)",
        ("'", '"', "`", "´", "‘", "’", "="),
    ),
    IntentRule(
        "sqli.stacked",
        SQL_INJECTION,
        r";\s*(?:drop\s+(?:table|database|schema|view|index|user)\b|truncate\b"
        r"|delete\s+from\s+" + _TABLE + r"(?:\s*(?:;|--|$|\x00|\))|\s+where\b)"
        r"|update\s+" + _TABLE + r"\s+set\b|insert\s+into\b|exec(?:ute)?\s+(?:xp_|sp_|master\.)|shutdown\b"
        r"|alter\s+(?:table|user|database|login)\b|create\s+(?:table|user|login|database|trigger|function)\b"
        r"|grant\s+\w+(?:\s*,\s*\w+)*\s+on\b|select\s+[\w*,\s.()]{1,60}?\s+from\s+\w"
        r"|waitfor\s+delay\b|select\s+(?:pg_)?sleep\s*\()",
        (";",),
    ),
    IntentRule(
        "sqli.comment",
        SQL_INJECTION,
        # The word before the quote is a lookbehind, so every match starts at a quote: the rule
        # then only tries the quotes of a text instead of searching around every "#".
        rf"(?<=\w){_Q}\)*(?:--|#|/\*)|(?<=\w){_Q}\s*\)*\s*(?:--|#)\s*(?:$|\x00|{_Q})|{_Q}\s*;\s*(?:--|#)",
        ("--", "#", "/*"),
    ),
    IntentRule(
        "sqli.blind",
        SQL_INJECTION,
        r"\b(?:and|or)\s+(?:sleep|benchmark|pg_sleep)\s*\(\s*\d|\bwaitfor\s+delay\s+'|"
        r"\b(?:and|or)\s+(?:ascii|substring|substr|length)\s*\(\s*\(?\s*select\b|"
        r"\b(?:load_file|into\s+(?:out|dump)file)\b|\binformation_schema\.(?:tables|columns)\b",
        ("sleep", "benchmark", "waitfor", "select", "load_file", "outfile", "dumpfile", "information_schema"),
    ),
    IntentRule(
        "sqli.intent",
        SQL_INJECTION,
        r"\b(?:use|using|run|perform|do|try|launch|craft|write|give me|inject|show me how to)\b[^.?!\n]{0,30}?"
        r"\b(?:(?:union|error|time|boolean|stacked|second[- ]order)[- ]based (?:sql ?)?injection|"
        r"blind (?:sql ?)?injection|"
        r"sql ?injection|sqli)s?\b"
        r"[^.?!\n]{0,60}?\b(?:on|against|into|to (?:pull|dump|get|extract|read|bypass|steal|log ?in)|"
        r"(?:payloads?|strings?|inputs?|queries|query|attacks?) for|that (?:logs?|dumps?|deletes?|drops?|lists?|"
        r"returns?|reads?|bypass\w*|extracts?|steals?))\b"
        # "inject SQL into your order-tracking field"
        r"|\binject\w*\s+(?:some |malicious |my own )?(?:sql|sql code|a payload|payloads|code|a query|queries)\s+"
        r"(?:into|in|through|via)\b",
        ("inject", "sqli"),
        DEFENSIVE,
    ),
    IntentRule(
        "sqli.intent",
        SQL_INJECTION,
        # asking for an input that dumps or destroys data: a payload by definition
        r"\b(?:give me|write|craft|generate|build|create|make|show me|need|want|send me|find me)\b[^.?!\n]{0,20}?"
        r"\b(?:payloads?|inputs?|strings?|values?|entr(?:y|ies))\b[^.?!\n]{0,40}?\b(?:that|which|to)\s+"
        r"(?:will |would |can |could )?(?:dumps?|drops?|deletes?|wipes?|truncates?|extracts?|leaks?|exfiltrates?)\b"
        r"[^.?!\n]{0,30}?\b(?:tables?|database|db|users|customers|passwords?|hashes|schema|admins?)\b",
        ("dump", "drop", "delet", "wipe", "truncat", "extract", "leak", "exfiltrat"),
        DEFENSIVE,
    ),
    IntentRule(
        "sqli.destructive",
        SQL_INJECTION,
        r"\bdrop\s*(?:table|database|schema)\b|\btruncate\s+(?:table\s+)?"
        + _TABLE
        + r"|\bdelete\s+from\s+"
        + _TABLE
        + r"(?:\s*(?:;|--|$|\x00|\))|\s+where\b)"
        r"|\bupdate\s+" + _TABLE + r"\s+set\s+[\w.`\"]+\s*=|\balter\s+table\s+[\w.`\"]+\s+(?:drop|add|modify|rename)\b"
        r"|\bgrant\s+all\b|\binsert\s+into\s+" + _TABLE + r"\s*(?:\(|values\b|select\b)",
        ("drop", "truncate", "delete", "update", "alter", "grant", "insert"),
    ),
    IntentRule(
        "sqli.raw_select",
        SQL_INJECTION,
        r"\bselect\s+(?:distinct\s+|top\s+\d+\s+)?(?:\*|[\w.]+\s*\(|[\w.]+\s*,\s*[\w.]|\w+_\w+|\w+\.\w+)"
        r"[^;\x00]{0,200}?\bfrom\s+"
        + _TABLE
        + r"|\bselect\s+\w+\s+from\s+"
        + _TABLE
        + r"\s+(?:where|join|inner|left|right|order\s+by|group\s+by|limit)\b",
        ("select",),
    ),
)


def detect(folded: AnchorIndex, squeezed: AnchorIndex | None, extra: Extra = ()) -> list[Finding]:
    findings = run_intent_rules(
        INTENT_RULES,
        _without_comments(folded),
        squeezed and _without_comments(squeezed),
        [(name, _without_comments(index)) for name, index in extra],
    )
    # raw_select is only reported when nothing worse was found (it is the one rule a
    # role may be allowed to send).
    if len(findings) > 1:
        findings = [f for f in findings if f.rule_id != "sqli.raw_select"]
    return findings


def _without_comments(index: AnchorIndex) -> AnchorIndex:
    return AnchorIndex(_INLINE_COMMENT.sub("", index.text)) if "/*" in index.text else index
