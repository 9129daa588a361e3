"""credentials: secrets given as values, real key formats, and requests for other people's
credentials. The bare words password/secret/token never match on their own: "how do I
reset my password?" and "what's my token limit?" pass.
"""

from __future__ import annotations

import re

from kong_plugins.ecommerce_guardrails.detectors import (
    CREDENTIALS,
    DEFENSIVE,
    AnchorIndex,
    Extra,
    Finding,
    IntentRule,
    lowered,
    redacted,
    run_intent_rules,
    scan,
)

MASK = redacted(CREDENTIALS)

# Real key formats (case-sensitive), each masked as a whole.
_KEY_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "cred.aws_access_key",
        re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
    ),
    ("cred.jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")),
    (
        "cred.api_key",
        re.compile(
            r"(?<![A-Za-z0-9_-])(?:"
            r"sk-(?:ant-[a-z0-9]+-|proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}"  # OpenAI, Anthropic
            r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,}"  # Stripe
            r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}"  # GitHub
            r"|xox[abposr]-[A-Za-z0-9-]{10,}"  # Slack
            r"|AIza[0-9A-Za-z_-]{35}"  # Google
            r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
            r"|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"  # SendGrid
            r"|shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}"  # Shopify
            r"|sq0(?:atp|csp)-[A-Za-z0-9_-]{22,}|EAAA[A-Za-z0-9_-]{60,}"  # Square
            r"|access_token\$production\$[a-z0-9]{16}\$[a-f0-9]{32}"  # PayPal/Braintree
            r"|[0-9a-f]{32}-us[0-9]{1,2}"  # Mailchimp
            r"|npm_[A-Za-z0-9]{36}|pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}|hf_[A-Za-z0-9]{34,}"
            r")(?![A-Za-z0-9_-])"
        ),
    ),
    (
        "cred.aws_secret_key",
        re.compile(
            r"(?i:aws_?secret_?(?:access_?)?key(?:_id)?|secret_?access_?key)[\"']?\s*[:=]\s*[\"']?"
            r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
        ),
    ),
)
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----")
_PRIVATE_KEY_END = re.compile(r"-----END [A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----")
_MAX_KEY_BLOCK = 16_384

# password=..., "pwd": "...", PIN: 1234
_PASSWORD_ASSIGN = re.compile(
    r"\b(?:password|passwd|passwort|pwd|passcode|passphrase|pass|pin|pin code)\b[\"']?\s*(?:[:=]|=>|:=)\s*"
    r"[\"']?([^\s\"',;<>]{3,128})",
    re.IGNORECASE,
)
# "my password is hunter2", "the PIN was 4321"
_PASSWORD_SAID = re.compile(
    r"\b(?:password|passwd|pwd|passcode|passphrase|pin(?: code| number)?)\s+"
    r"(?:is|was|is now|will be|has been (?:changed |set )?to|(?:changed|set|reset) to|reads)\s+[:\-]?\s*"
    r"([\"'“‘]?)([^\s\"'”’]{3,64})",
    re.IGNORECASE,
)
# "user jane, password Bl4ckCat!": no verb, so the value itself must look like a password
_PASSWORD_BARE = re.compile(r"\b(?:password|passwd|pwd)\s+([^\s\"',;<>]{6,64})", re.IGNORECASE)
# api_key: ..., client_secret=..., Bearer ..., "session token abc123..."
_SECRET_VALUE = re.compile(
    r"\b(?:api[_\- ]?key|apikey|x-api-key|api[_\- ]?secret|secret[_\- ]?key|client[_\- ]?secret|secret|"
    r"access[_\- ]?token|auth[_\- ]?token|refresh[_\- ]?token|id[_\- ]?token|bearer|session[_\- ]?(?:id|token|cookie)|"
    r"token|private[_\- ]?key|signing[_\- ]?key|webhook[_\- ]?secret|access[_\- ]?key)\b[\"']?"
    r"(?:\s*(?:[:=]|=>)\s*|\s+is\s+|\s+)[\"']?([A-Za-z0-9_\-./+=~$]{12,256})",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(
    r"^(?:\*+|x+|\.+|-+|_+|#+|<.*>|\{.*\}|\$\{.*\}|\$[a-z_]+|%.*%|null|none|nil|true|false|string|required|optional|"
    r"empty|redacted|hidden|secret|password|changeme|example|test|your[_\- ]?\w*|my[_\- ]?\w*|\w*_?here|"
    r"\[redacted:[a-z_]+\])$",
    re.IGNORECASE,
)
# Words that follow "my password is" in an honest question, not a password.
_NOT_A_VALUE = frozenset(
    """not wrong incorrect invalid expired too correct right working required case being the a an still locked
    reset forgotten forgot weak strong long short saved stored changed same different empty blank missing
    rejected accepted hidden protected secure safe sensitive in on at for from of to no now also always never
    very so definitely mandatory optional asking being requested supposed my your what how it that this just
    only compromised leaked hacked stolen known unknown lost case-sensitive valid fine ok okay good bad new old
    set sent emailed printed shown displayed located needed asked given generated created updated different
    unique simple complicated complex easy hard secret private personal mine yours his hers theirs
    definitely probably correct, expiring expiring. about around almost exactly at least more less longer
    shorter numeric alphanumeric digits characters letters stuck blocked disabled enabled broken ignored
    refused declined accepted working. there here visible invisible same. somewhere saved. encrypted hashed
    one two three four five six seven eight nine ten twelve""".split()
)
_UNITS = re.compile(r"^\s*(?:characters?|chars?|digits?|letters?|symbols?|numbers?|words?|long|days?|months?)\b")
_CLAUSE_END = re.compile(r"^\s*(?:$|[.,!?;:)\-]|\x00|and\b|but\b|so\b|can\b|could\b|please\b|why\b|how\b|if\b)")

_SECRET_KEY_NAME = re.compile(
    r"(?i)^(?:password|passwd|pwd|pass|passcode|passphrase|pin|secret|client_?secret|secret_?key|api[_-]?key|"
    r"x-api-key|access_?token|refresh_?token|auth_?token|id_?token|session_?token|session_?id|private_?key|"
    r"aws_secret_access_key|aws_session_token|token|bearer|authorization|cvv|cvc)$"
)
_PASSWORD_KEY_NAME = re.compile(r"(?i)^(?:password|passwd|pwd|pass|passcode|passphrase|pin)$")


def _placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value)) or "EXAMPLE" in value


def _said_value(value: str, quoted: bool, rest: str) -> bool:
    """Is the word after "password is" a password? Digits, symbols, inner capitals or
    quotes say yes; a common word says no; a lone plain word at the end of a clause, yes."""
    value = value.rstrip(".,!?;:)")
    if len(value) < 3 or _placeholder(value) or value.lower() in _NOT_A_VALUE or _UNITS.match(rest):
        return False
    if quoted or any(not c.isalpha() for c in value) or any(c.isupper() for c in value[1:]):
        return True
    return len(value) >= 4 and bool(_CLAUSE_END.match(rest))


def _strong_password(value: str) -> bool:
    """Letters plus digits or symbols, e.g. Bl4ckCat! (never a plain word like "reset")."""
    if len(value) < 6 or _placeholder(value):
        return False
    has_alpha = any(c.isalpha() for c in value)
    has_other = any(c.isdigit() for c in value) or any(not c.isalnum() for c in value)
    return has_alpha and has_other


def _secret_value(value: str) -> bool:
    value = value.rstrip(".,")
    if _placeholder(value):
        return False
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    mixed = any(c.isupper() for c in value) and any(c.islower() for c in value)
    return has_alpha and (has_digit or (mixed and len(value) >= 24))


_KEY_ANCHORS: dict[str, tuple[str, ...]] = {
    "cred.aws_access_key": ("akia", "asia", "abia", "acca", "agpa", "aida", "aroa", "aipa", "anpa"),
    "cred.jwt": ("eyj",),
    "cred.api_key": ("sk-", "sk_", "rk_", "whsec_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox",
                     "aiza", "glpat-", "sg.", "shpat_", "shpss_", "shpca_", "shppa_", "sq0", "eaaa", "access_token$",
                     "-us", "npm_", "pypi-", "hf_"),
    "cred.aws_secret_key": ("secret", "access_key", "accesskey"),
}  # fmt: skip
_PASSWORD_ANCHORS = ("pass", "pwd", "pin")
_SECRET_ANCHORS = ("key", "secret", "token", "bearer", "session")


def find_values(clean: str, low: AnchorIndex | None = None) -> list[Finding]:
    findings: list[Finding] = []
    low = low or lowered(clean)
    for rule_id, pattern in _KEY_FORMATS:
        for m in scan(pattern, clean, low, _KEY_ANCHORS[rule_id]):
            g = 1 if pattern.groups else 0
            if not _placeholder(m.group(g)):
                findings.append(Finding(rule_id, CREDENTIALS, m.start(g), m.end(g), MASK))
    for m in _PRIVATE_KEY.finditer(clean):
        stop = clean.find("\x00", m.end(), m.end() + _MAX_KEY_BLOCK)
        limit = stop if stop >= 0 else min(len(clean), m.end() + _MAX_KEY_BLOCK)
        tail = _PRIVATE_KEY_END.search(clean, m.end(), limit)
        findings.append(Finding("cred.private_key", CREDENTIALS, m.start(), tail.end() if tail else limit, MASK))
    for m in scan(_PASSWORD_ASSIGN, clean, low, _PASSWORD_ANCHORS):
        if not _placeholder(m.group(1).rstrip(".,")):
            findings.append(Finding("cred.password.value", CREDENTIALS, m.start(1), m.end(1), MASK))
    for m in scan(_PASSWORD_SAID, clean, low, _PASSWORD_ANCHORS):
        value = m.group(2)
        if _said_value(value, bool(m.group(1)), clean[m.end(2) : m.end(2) + 24]):
            end = m.start(2) + len(value.rstrip(".,!?;:)"))
            findings.append(Finding("cred.password.value", CREDENTIALS, m.start(2), end, MASK))
    for m in scan(_PASSWORD_BARE, clean, low, _PASSWORD_ANCHORS):
        value = m.group(1).rstrip(".,!?;:)")
        if _strong_password(value) and not any(f.start <= m.start(1) < f.end for f in findings):
            findings.append(Finding("cred.password.value", CREDENTIALS, m.start(1), m.start(1) + len(value), MASK))
    for m in scan(_SECRET_VALUE, clean, low, _SECRET_ANCHORS):
        if _secret_value(m.group(1)):
            findings.append(Finding("cred.secret.value", CREDENTIALS, m.start(1), m.end(1), MASK))
    return findings


def find_keyed_value(key: str, value_start: int, value: str) -> Finding | None:
    """A JSON string under a key named like a secret ({"password": "..."}) is a secret."""
    if not _SECRET_KEY_NAME.match(key) or len(value.strip()) < 4 or _placeholder(value.strip()):
        return None
    rule = "cred.password.value" if _PASSWORD_KEY_NAME.match(key) else "cred.secret.value"
    return Finding(rule, CREDENTIALS, value_start, value_start + len(value), MASK)


_WHOSE = (
    r"(?:the admin(?:istrator)?'?s?|admin(?:istrator)?'?s?|root|the root|other (?:users?|customers?|people|employees?|"
    r"staff|accounts?)(?:'s|s')?|another (?:user|customer|person|employee|account)'?s?|"
    r"(?:the |all |every |our )?(?:customers?|users?|clients?|employees?|staff|members?|shoppers?)(?:'s|s')?|"
    r"every(?:one|body)'?s?|all(?: the)?|someone(?: else)?'?s|somebody(?: else)?'?s|his|her|their|"
    r"my (?:boss|manager|colleague|coworker|co-worker|ex|wife|husband|girlfriend|boyfriend|neighbou?r|friend|"
    r"sister|brother|mom|dad)'?s?|(?:the |a )?(?:colleague|coworker|manager|boss|victim|target)'?s?|"
    r"(?:this|that) (?:user|customer|account)'?s?|[a-z]+@[a-z0-9.-]+'?s?)"
)
_PW_NOUN = r"p[a4@][s5$][s5$]w[o0]rds?"  # leetspeak-lite: p4ssw0rd, pa$$word
_PW_ANCHORS = tuple(f"p{a}{s}" for a in "a4@" for s in "s5$")  # every start _PW_NOUN allows
_CRED_NOUN = (
    rf"(?:{_PW_NOUN}|passwds?|credentials?|logins?(?: details)?|log-?in details|api[ _-]?keys?|secret keys?|"
    r"access keys?|private keys?|session (?:tokens?|cookies?|ids?)|auth(?:entication)? tokens?|access tokens?|"
    r"2fa codes?|mfa codes?|otps?|one[- ]time (?:codes?|passwords?|pins?)|password hash(?:es)?|hashes|pins?|"
    r"security (?:question )?answers?|recovery codes?|verification codes?|reset (?:tokens?|codes?|links?))"
)
_NOT_OBJECT = (
    r"(?!\s*(?:reset|policy|policies|requirements?|rules?|change|manager|field|strength|expir\w*|hint|length|"
    r"complexity|update|link|email|form|page|screen|prompt|feature|option|settings?|limit|recovery|format|url|portal|button))"
)
_ASK = (
    r"(?:(?:what|wh4t)(?:'s| is| are| was)|give|tell|send|show|share|reveal|list|get|find|print|pull up|look up|"
    r"fetch)"
)
# Shared systems whose login is never a shopper's business (database, mail server, back office...).
_SYSTEM = (
    r"(?:(?:production|prod|live|staging) )?(?:database|db|mysql|postgres(?:ql)?|redis|server|ssh|s?ftp|smtp|"
    r"mail ?server|email server|vpn|root|admin|back ?office|backend|cms|erp|warehouse|merchant|payment|stripe|"
    r"paypal|aws|bedrock|openai|service account|master|shopify|wordpress|wp|firewall|router admin)"
)
_ANCHORS = (
    *_PW_ANCHORS, "cred", "login", "log-in", "key", "token", "otp", "code", "pin", "hash", "secur", "session", "reset",
)  # fmt: skip
INTENT_RULES = (
    IntentRule(
        "cred.theft",
        CREDENTIALS,
        r"\b(?:(?:what|wh4t)(?:'s| is| are| was)|give|tell|send|show|share|reveal|leak|dump|list|export|retrieve|"
        r"get|find|extract|print|crack|guess|steal|grab|harvest|sniff|phish|obtain|recover|decrypt|look up|access|"
        r"read)\b"
        rf"[^.?!\n]{{0,40}}?\b{_WHOSE}\s+(?:[a-z0-9'-]+\s+){{0,3}}?{_CRED_NOUN}\b{_NOT_OBJECT}",
        _ANCHORS,
    ),
    IntentRule(
        "cred.theft",
        CREDENTIALS,
        rf"\b{_ASK}\b[^.?!\n]{{0,30}}?"
        rf"\b{_CRED_NOUN}\s+(?:of|for|belonging to|used by)\s+(?:the\s+)?(?:(?:last|first|top|latest|recent|new|"
        r"newest|all|every|other|\d+)\s+){0,3}(?:customer|user|admin|administrator|account|client|employee|member|"
        r"shopper|another|other|someone|somebody|root|[a-z0-9._%+-]+@)",
        _ANCHORS,
        DEFENSIVE,
    ),
    IntentRule(
        "cred.theft",
        CREDENTIALS,
        r"\b(?:what(?:'s| is| are)|dump|export|select|list|extract|download|leak|print|show|give me|read|copy|"
        r"exfiltrate)\b"
        r"[^.?!\n]{0,40}?\b(?:password(?:_hash|hash)?e?s|password hashes|credentials|api[ _]keys|secrets|tokens|"
        r"password_hash|passwd)\b[^.?!\n]{0,20}?\b(?:from|in|of|stored in)\s+(?:the\s+)?(?:users?|customers?|"
        r"accounts?|admins?|members?|auth|login|database|db|table|vault|env|\.env|config|secrets? manager)",
        ("pass", "cred", "key", "secret", "token"),
    ),
    IntentRule(
        "cred.theft",
        CREDENTIALS,
        r"\b(?:need|want|give me|send me|tell me|what are|what's|what is|share|get me|find)\b[^.?!\n]{0,20}?"
        r"\b(?:the )?(?:login |admin |root |system |master )?(?:credentials|passwords?|login details|logins?)\s+"
        r"(?:for|to|of) (?:the|our|your|this|that)\s+(?!password|account settings)"
        r"|\b(?:what|which) (?:password|passcode|pin|login)s? (?:does |do )?(?:my |his |her |their |the )?"
        r"(?!manager)(?:[a-z'-]+ ){0,2}(?:uses?|has|have|set|chose|picked|is using)\b",
        ("cred", "pass", "login", "pin"),
        DEFENSIVE,
    ),
    IntentRule(
        "cred.theft",
        CREDENTIALS,
        # asking for a shared system's login ("what is the database password for production?")
        r"\b(?:(?:need|want) (?:the|your|our)|give me|send me|tell me|(?:what|wh4t)(?:'s| is| are| was)|share|get me|"
        r"find me|paste|print|show me|pull up|look up|fetch)\b[^.?!\n]{0,20}?\b(?:the |our |your |this )?"
        rf"{_SYSTEM}\s+(?:[a-z-]+\s+)?(?:{_PW_NOUN}|credentials?|login details|logins?|secret keys?|secrets?|"
        rf"api[ _-]?keys?|access keys?)\b{_NOT_OBJECT}",
        (*_PW_ANCHORS, "cred", "login", "key", "secret"),
        DEFENSIVE,
    ),
    IntentRule(
        "cred.theft",
        CREDENTIALS,
        r"\b(?:write|draft|create|compose|generate|craft|make|design|build|code|set up|send)\b[^.?!\n]{0,40}?"
        r"(?:\bphishing\b|\b(?:fake|spoofed|lookalike|look-alike|fraudulent|cloned)\s+(?:[a-z]+\s+){0,2}?"
        r"(?:login|log-in|sign-in|signin|password reset|bank|paypal|payment|checkout|verification)\s+"
        r"(?:pages?|emails?|forms?|sites?|portals?|screens?|sms|texts?|messages?))",
        ("phish", "fake", "spoof", "lookalike", "look-alike", "fraudulent", "cloned"),
        DEFENSIVE,
    ),
    IntentRule(
        "cred.theft",
        CREDENTIALS,
        r"\b(?:pretend(?:ing)? to be|impersonat\w*|pose as|posing as|disguised as|acting as)\b[^.?!\n]{0,40}?"
        r"\b(?:bank|support|paypal|stripe|customer service|help ?desk|it department|it support|security team|admin|"
        r"our store|the store|amazon|the shop|courier|dhl|ups|fedex)\b[^\n]{0,100}?\b(?:passwords?|credentials?|"
        r"log ?in|card|otp|code|pin|verify|account details)",
        ("pretend", "impersonat", "pose as", "posing as", "disguised", "acting as"),
        DEFENSIVE,
    ),
    IntentRule(
        "cred.theft",
        CREDENTIALS,
        r"\b(?:crack|brute[- ]?force|decrypt|reverse|rainbow[- ]table)\w*\b[^.?!\n]{0,30}?"
        r"\b(?:password hash(?:es)?|hashes|hashed passwords|passwords|bcrypt|md5|sha1)\b",
        ("crack", "brute", "decrypt", "reverse", "rainbow"),
    ),
)


def detect(
    clean: str, clean_index: AnchorIndex | None, folded: AnchorIndex, squeezed: AnchorIndex | None, extra: Extra = ()
) -> list[Finding]:
    findings = find_values(clean, clean_index)
    if squeezed is not None:
        # "p a s s w o r d = h u n t e r 2": found only here, so block-only.
        for pattern, valid in ((_PASSWORD_ASSIGN, lambda v: not _placeholder(v)), (_SECRET_VALUE, _secret_value)):
            m = pattern.search(squeezed.text)
            if m and valid(m.group(1)) and not any(f.category == CREDENTIALS and f.maskable for f in findings):
                findings.append(
                    Finding("cred.password.value", CREDENTIALS, view="squeezed", view_start=m.start(), view_end=m.end())
                )
                break
    return findings + run_intent_rules(INTENT_RULES, folded, squeezed, extra)
