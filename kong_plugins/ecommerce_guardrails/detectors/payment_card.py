"""payment_card: card numbers (IIN range + Luhn + layout/context), CVV and expiry values,
and requests to extract stored card data.

Layered like Presidio's recogniser, with a false-positive budget in mind: a digit run of
13-19 digits (any separators) must fall in a known IIN range with a length that brand
issues, pass Luhn, and then either be laid out like a card (one block, groups of four,
4-6-5/4-6-4, or spaced single digits) without an order/tracking label right before it,
or stand next to card words. Public test PANs are allowed by default.
"""

from __future__ import annotations

import re

from kong_plugins.ecommerce_guardrails.detectors import (
    PAYMENT_CARD,
    AnchorIndex,
    Extra,
    Finding,
    IntentRule,
    Options,
    ascii_version,
    lowered,
    redacted,
    run_intent_rules,
    scan,
)

# A run of at least 13 digits with up to three separator characters between digits,
# not glued to letters (hashes, UUIDs and SKUs like "ORD4532..." are not candidates).
_SEP = r"[ \t\-./_|*\\~•·+]"
# It starts with `\d` (the lookbehind checks the character before that digit), so the regex
# engine skips digit-free text quickly instead of trying the lookbehind at every position.
_RUN = re.compile(rf"\d(?<![A-Za-z0-9_].)(?:{_SEP}{{0,3}}\d){{12,}}(?![A-Za-z0-9_])")
_GROUP = re.compile(r"\d+")
# Any card candidate has 13 digits with at most 3 other characters between them; this pattern
# starts with a digit class, so the regex engine skips digit-free text quickly.
_THIRTEEN_DIGITS = re.compile(r"\d(?:[^\d\n]{0,3}\d){12}")

# Card words: their presence turns a Luhn-valid number into a finding whatever its layout.
_CARD_WORDS = re.compile(
    r"\b(?:card|cards|credit|debit|visa|master ?card|mc|amex|american express|discover|jcb|diners|maestro|"
    r"unionpay|cc|ccn|pan|cvv2?|cvc2?|exp|expiry|expiration|cardholder|billing)\b"
)
# A label right before the number that says it is not a card.
_ID_LABEL = re.compile(
    r"(?:order|tracking|track|shipment|parcel|package|invoice|inv|reference|ref|sku|ean|upc|gtin|isbn|imei|"
    r"serial|phone|tel|mobile|iban|account|acct|customer|ticket|case|barcode|awb|rma|po|id|no|number|nr|#)"
    r"\s*(?:no\.?|number|num|nr|id|#|code)?\s*[:#=]?\s*$"
)

# An identifier prefix glued to the number: "ORD-4526...", "INV#4526...".
_ID_PREFIX = re.compile(r"[a-z]{1,8}[-_#/]$")

# Public test numbers of the big processors (Stripe, Adyen, Braintree, PayPal docs).
TEST_PANS = frozenset(
    {
        "4111111111111111", "4242424242424242", "4012888888881881", "4000056655665556", "4000000000000002",
        "4000000000009995", "4000002500003155", "4222222222222", "4012000033330026", "4917610000000000",
        "5555555555554444", "5105105105105100", "5200828282828210", "2223003122003222", "5454545454545454",
        "378282246310005", "371449635398431", "378734493671000", "6011111111111117", "6011000990139424",
        "6011000000000004", "3530111333300000", "3566002020360505", "3566111111111113", "30569309025904",
        "38520000023237", "36227206271667", "6200000000000005", "4444333322221111", "4000000000000077",
    }
)  # fmt: skip

_CVV = re.compile(
    r"\b(?:cvv2?|cvc2?|cav2|csc|security code|card (?:verification|security) (?:code|value|number))(?:\b|(?=\d))"
    r"[^\d\n]{0,20}?(?<!\d)(\d{3,4})(?!\d)",
    re.IGNORECASE,
)
_CVV_ANCHORS = ("cvv", "cvc", "cav2", "csc", "security code", "card verification", "card security")
_EXPIRY = re.compile(
    r"\b(?:exp(?:iry|iration|ires?)?|valid (?:thru|through|until)|good thru)\b[^\d\n]{0,16}?"
    r"(?<!\d)((?:0?[1-9]|1[0-2])\s*[/\-.]\s*(?:20)?\d{2})(?!\d)",
    re.IGNORECASE,
)
_STRONG_CARD_WORDS = re.compile(
    r"\b(?:credit|debit|visa|master ?card|amex|american express|cvv2?|cvc2?|card ?number|card no|cardholder|"
    r"cc|ccn|pan)\b"
)

_CARD = r"c[a4@]rd"  # leetspeak-lite: c4rd
_DATA = (
    rf"(?:(?:cr[e3]d[i1]t |debit |payment |bank )?{_CARD} ?(?:numb[e3]rs?|nos?\b|#s?|details|data|info(?:rmation)?|"
    rf"digits|expiry dates?)|\bpans?\b|\bcvvs?\b|\bcvcs?\b|\bcvv2s?\b|security codes|{_CARD}(?:holder)? data|"
    rf"full {_CARD}s?)"
)
_VERB = (
    r"(?:list|show|give|dump|export|get|fetch|retrieve|print|display|send|reveal|extract|pull|read out|read me|tell|"
    r"provide|output|download|copy|email|leak|find|look up|lookup|return|scrape|harvest|collect|hand over)"
)
_WHOSE = (
    r"(?:all|every|each|other|another|customers?'?s?|users?'?s?|clients?'?s?|someone(?: else)?'?s|his|her|their|"
    r"full|complete|entire|unmasked|raw|plain ?text|cleartext|stored|saved|whoever|every(?:one|body)'?s?|"
    r"the (?:person|customer|buyer|one) who|(?:my )?(?:wife|husband|partner|ex|boss|neighbou?r|friend|mum|mom|dad|"
    r"sister|brother|colleague|roommate)'s)"
)
INTENT_RULES = (
    IntentRule(
        "pii.card.extraction",
        PAYMENT_CARD,
        # a shopper's own cards ("show me all my saved cards") are not extraction
        rf"\b{_VERB}\b[^.?!\n]{{0,40}}?(?<!\bmy )\b{_WHOSE}\b[^.?!\n]{{0,30}}?(?<!\bmy )(?<!\bmy saved )"
        rf"(?<!\bmy stored ){_DATA}",
        ("card", "c4rd", "c@rd", "pan", "cvv", "cvc", "security code"),
    ),
    IntentRule(
        "pii.card.extraction",
        PAYMENT_CARD,
        r"\b(?:what(?:'s| is| was| are)|give|tell|send|find|get|show|read)\b[^.?!\n]{0,20}?"
        r"\b(?:the|his|her|their|this|that|customers?'?s?)\s+(?:cvv|cvc|security code|expiry date|expiration date|"
        r"full card number|card number|card details|pin)s?\s+(?:for|of|on|used (?:on|for|in)|linked to|attached to|"
        r"belonging to|saved (?:on|for|in)|stored (?:on|for|in)|in)\s+(?:order|customer|account|user|client|the |"
        r"this |that |[a-z]+'s\b|mr|mrs|ms|#?\d)",
        ("cvv", "cvc", "security code", "card", "expir", "pin"),
    ),
    IntentRule(
        "pii.card.extraction",
        PAYMENT_CARD,
        r"\b(?:dump|export|download|copy|extract|select|scrape|exfiltrate|leak|back ?up|print)\b[^.?!\n]{0,30}?"
        r"\b(?:credit ?cards?|cards?|payments?|cc|pans?|card_?numbers?|cardholders?)[ _](?:table|database|db|records|"
        r"vault|data ?base|column|file)s?\b",
        ("card", "payment", "cc", "pan"),
    ),
    IntentRule(
        "pii.card.extraction",
        PAYMENT_CARD,
        r"\bselect\b[^;]{0,80}?\b(?:card_?number|card_?num|cc_?num(?:ber)?|pan|cvv|cvc|card_?no)\b[^;]{0,80}?\bfrom\b",
        ("select",),
    ),
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def brand_ok(digits: str) -> bool:
    """The prefix is in a card network's IIN range and the length is one it issues."""
    n = len(digits)
    d1, d2, d3, d4 = digits[0], int(digits[:2]), int(digits[:3]), int(digits[:4])
    if d1 == "4":
        return n in (13, 16, 19)
    if 51 <= d2 <= 55 or 2221 <= d4 <= 2720:
        return n == 16
    if d2 in (34, 37):
        return n == 15
    if d4 == 6011 or 644 <= d3 <= 649 or d2 == 65:
        return 16 <= n <= 19
    if 3528 <= d4 <= 3589:
        return 16 <= n <= 19
    if 300 <= d3 <= 305 or d2 in (36, 38, 39):
        return 14 <= n <= 19
    if d2 == 62:  # UnionPay
        return 16 <= n <= 19
    return False


def _card_layout(sizes: list[int]) -> bool:
    if len(sizes) == 1 or all(s == 1 for s in sizes):
        return True
    if sizes in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(s == 4 for s in sizes[:-1]) and 1 <= sizes[-1] <= 4


def mask_pan(digits: str, keep_bin: bool) -> str:
    """PCI DSS 3.4.1: at most the first six and last four digits stay readable."""
    head = digits[:6] if keep_bin else ""
    return head + "*" * (len(digits) - len(head) - 4) + digits[-4:]


def find_cards(clean: str, options: Options) -> list[Finding]:
    findings: list[Finding] = []
    ascii_text = clean.isascii()
    candidate = (ascii_version(_THIRTEEN_DIGITS) if ascii_text else _THIRTEEN_DIGITS).search(clean)
    if candidate is None:
        return findings
    budget = options.window_budget
    runs, groups_of = (ascii_version(_RUN), ascii_version(_GROUP)) if ascii_text else (_RUN, _GROUP)
    # No run starts before the first 13-digit candidate (digits and separators only, 12+ gaps).
    for run in runs.finditer(clean, max(0, candidate.start() - 1)):
        groups = [(g.start() + run.start(), g.end() + run.start(), g.group()) for g in groups_of.finditer(run.group())]
        taken_until = -1
        for i, (start, _, first) in enumerate(groups):
            if start < taken_until or first[0] not in "23456":
                continue
            digits = ""
            sizes: list[int] = []
            for j in range(i, len(groups)):
                digits += groups[j][2]
                sizes.append(len(groups[j][2]))
                if len(digits) > 19:
                    break
                if len(digits) < 13:
                    continue
                budget -= 1
                if budget < 0:
                    return [*findings, Finding("pii.card.digit_flood", PAYMENT_CARD)]
                end = groups[j][1]
                if not (brand_ok(digits) and luhn_ok(digits)):
                    continue
                if options.allow_test_cards and digits in TEST_PANS:
                    continue
                if not _looks_like_card(clean, start, end, sizes):
                    continue
                findings.append(
                    Finding("pii.card.number", PAYMENT_CARD, start, end, mask_pan(digits, options.card_keep_bin))
                )
                taken_until = end
                break
    return findings


def _looks_like_card(clean: str, start: int, end: int, sizes: list[int]) -> bool:
    before = clean[max(0, start - 40) : start].lower()
    after = clean[end : end + 20].lower()
    if _CARD_WORDS.search(before) or _CARD_WORDS.search(after):
        return True
    if not _card_layout(sizes):
        return False
    return _ID_LABEL.search(before) is None and _ID_PREFIX.search(before) is None


def find_card_values(clean: str, has_card: bool, low: AnchorIndex | None = None) -> list[Finding]:
    """CVV values always; expiry dates only next to strong card words or a card number."""
    mask = redacted(PAYMENT_CARD)
    low = low or lowered(clean)
    findings = [
        Finding("pii.card.cvv", PAYMENT_CARD, m.start(1), m.end(1), mask) for m in scan(_CVV, clean, low, _CVV_ANCHORS)
    ]
    for m in scan(_EXPIRY, clean, low, ("exp", "valid", "good thru")):
        if has_card or findings or _STRONG_CARD_WORDS.search(clean[max(0, m.start() - 80) : m.end() + 40].lower()):
            findings.append(Finding("pii.card.expiry", PAYMENT_CARD, m.start(1), m.end(1), redacted(PAYMENT_CARD)))
    return findings


def find_squeezed_values(squeezed: str) -> list[Finding]:
    """A CVV spelled out with spaces ("c v v 1 2 3") cannot be masked in place: block-only."""
    m = _CVV.search(squeezed)
    return [Finding("pii.card.cvv", PAYMENT_CARD, view="squeezed", view_start=m.start(), view_end=m.end())] if m else []


def detect(
    clean: str,
    clean_index: AnchorIndex | None,
    folded: AnchorIndex,
    squeezed: AnchorIndex | None,
    options: Options,
    extra: Extra = (),
) -> list[Finding]:
    cards = find_cards(clean, options)
    values = find_card_values(clean, bool(cards), clean_index)
    if not values and squeezed is not None:
        values = find_squeezed_values(squeezed.text)
    return cards + values + run_intent_rules(INTENT_RULES, folded, squeezed, extra)
