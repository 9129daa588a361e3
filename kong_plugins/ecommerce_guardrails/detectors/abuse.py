"""abuse: requests to hack orders, exploit promotions, bypass payment, commit fraud, get
around stock checks or take over accounts. "Can I bypass the queue by ordering online?"
passes: a verb like bypass/hack/exploit counts only together with a shop object it abuses,
and questions about defending against abuse ("how do we detect promo abuse?") pass.
"""

from __future__ import annotations

import re

from kong_plugins.ecommerce_guardrails.detectors import (
    ABUSE,
    DEFENSIVE,
    AnchorIndex,
    Extra,
    Finding,
    IntentRule,
    run_intent_rules,
)

_S = r"[^.?!\n\x00]"  # within one sentence
_OTHERS = (
    r"(?:someone(?: else)?'?s|somebody(?: else)?'?s|another (?:person|customer|user|shopper|member|buyer)'?s?|"
    r"other (?:people|customers|users|shoppers|members|buyers)'?s?|(?:all|every) (?:customers?|users?)'?s?|"
    r"(?:my )?(?:ex|ex-wife|ex-husband|wife|husband|girlfriend|boyfriend|partner|neighbou?r|boss|coworker|co-worker|"
    r"colleague|roommate|sister|brother|friend)'?s|his|her|their|(?:a |the |this |that )?(?:victim|target)'?s?|"
    r"(?:a |any )random|[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]+'?s?)"
)
# _OTHERS without family and friends: for their orders only a hostile verb or secrecy counts
# ("can I see my wife's order? we share the account" is ordinary).
_STRANGERS = (
    r"(?:someone(?: else)?'?s|somebody(?: else)?'?s|another (?:person|customer|user|shopper|member|buyer)'?s?|"
    r"other (?:people|customers|users|shoppers|members|buyers)'?s?|(?:all|every) (?:customers?|users?)'?s?|"
    r"(?:my )?(?:ex|ex-wife|ex-husband|ex-girlfriend|ex-boyfriend|neighbou?r|boss|coworker|co-worker|colleague|"
    r"roommate)'?s|(?:a |the |this |that )?(?:victim|target)'?s?|(?:a |any )random|"
    r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]+'?s?)"
)
_FAMILY = (
    r"(?:(?:(?:my|our) )?(?:wife|husband|girlfriend|boyfriend|partner|sister|brother|friend|mum|mom|mother|dad|"
    r"father|son|daughter|parents|grandma|grandmother|grandpa|grandfather|aunt|uncle|cousin|kids?|child)'?s|his|her|"
    r"their)"
)
_SECRETLY = (
    r"(?:without (?:her|him|them|my \w+) (?:knowing|noticing|finding out|realising|realizing|seeing)|"
    r"behind (?:her|his|their|my \w+'?s?) back|secretly|without telling (?:her|him|them))"
)
_SHOP_THINGS = (
    r"(?:orders?|packages?|parcels?|deliver(?:y|ies)|shipments?|purchases?|order history|"
    r"(?:(?:home |delivery |billing |shipping |email |e-mail )?address(?:es)?|phone numbers?|"
    r"personal (?:details|data|info(?:rmation)?)|contact details))"
)
_ZERO = (
    r"(?:to (?:\$|€|£)?0(?:[.,]0+)?\b|to zero|to nothing|to (?:one|1) cent|to a penny|to (?:\$|€|£)?0[.,]01|"
    r"to free|to (?:1|one|a single) (?:euro|dollar|pound|cent|buck|quid|penny)s?\b|to (?:\$|€|£) ?1\b|"
    r"to 1 ?(?:€|\$|£|eur|usd|gbp)\b|to (?:a )?negative\b|to (?:-|minus )\d)"
)
# Someone else named without a possessive: "the order history of my neighbour".
_OTHER_PERSON = (
    r"(?:someone else|somebody else|another (?:person|customer|user|shopper|member|buyer)|"
    r"other (?:people|customers|users|shoppers|members|buyers)|(?:a |any )random (?:person|customer|user)|"
    r"(?:my |our )?(?:ex|ex-wife|ex-husband|ex-girlfriend|ex-boyfriend|neighbou?r|boss|coworker|co-worker|"
    r"colleague|roommate)|(?:the |a )?(?:victim|target))\b"
)
# Personal data of other shoppers (never "reviews" or "photos": those are public).
_PERSONAL = (
    r"(?:(?:home |delivery |billing |shipping |email |e-mail )?address(?:es)?|phone numbers?|"
    r"personal (?:details|data|info(?:rmation)?)|contact details)"
)

# Names of account attacks, and what to run them with or against.
_ATO = r"(?:credential[- ]stuffing|account[- ]takeovers?|session[- ]hijack\w*|sim[- ]swap\w*|cookie theft)\b"
_ATO_KIT = (
    r"(?:tools?|scripts?|bots?|kits?|software|programs?|configs?|combo ?lists?|wordlists?|proxies|checkers?|code)\b"
)
_NAMED_TARGET = (
    r"(?:your (?:site|shop|store|website|login|accounts?|users?|customers?|api|app|checkout)|"
    r"(?:this|that) (?:site|shop|store|website|account|user|customer)|"
    r"(?:user|customer|account) #?[a-z0-9._-]*\d|[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]+|"
    r"[a-z0-9-]+\.(?:com|net|org|io|shop|store|de|fr|co\.uk)|(?:my )?(?:ex|boss|neighbou?r|colleague)'?s?)\b"
)


# Getting something "for free" is honest with a warranty, a sample or a programme.
_FREE_HONESTLY = re.compile(
    DEFENSIVE.pattern + r"|\b(?:replacement|warranty|broken|damaged|defective|faulty|samples?|reviews?|giveaways?|"
    r"programme|program|promotions?|loyalty|points|birthday|voucher|gift card|coupon|trial|legally|legit\w*)\b"
)


def _rule(rule_id: str, pattern: str, anchors: tuple[str, ...], unless: re.Pattern[str] = DEFENSIVE) -> IntentRule:
    return IntentRule(rule_id, ABUSE, pattern, anchors, unless=unless)


INTENT_RULES = (
    # -- orders
    _rule(
        "abuse.order_tamper",
        r"\b(?:hack|hacking|tamper\w*|forge|forging|spoof\w*|falsify\w*|rig|rigging|exploit\w*|fiddle with)\b"
        rf"{_S}{{0,40}}?\b(?:orders?|order (?:totals?|status|prices?)|prices?|pricing|cart totals?|basket totals?|"
        r"checkout|invoices?|receipts?|refunds?|shipping (?:fees?|costs?)|order totals?|delivery status)\b",
        ("hack", "tamper", "forg", "spoof", "falsif", "rig", "exploit", "fiddle"),
    ),
    _rule(
        "abuse.order_tamper",
        rf"\b(?:change|edit|modify|alter|set|lower|reduce|drop|manipulat\w*|override|overwrite|rewrite)\b{_S}{{0,30}}?"
        r"\b(?:price|prices|total|totals|amount|cost|subtotal|order value|fees?|shipping(?: fees?| costs?)?|"
        rf"delivery (?:fees?|charges?)|tax|vat)\b{_S}{{0,40}}?(?:{_ZERO}|"
        r"\bby (?:editing|changing|modifying|tampering with|intercepting|replaying)\b|"
        r"\b(?:in|via|through|using) (?:the )?(?:request|payload|post data|html|javascript|js|cookie|hidden field|"
        r"local ?storage|dev ?tools|devtools|inspect element|burp|proxy|api call|browser console)\b|"
        r"\bclient[- ]side\b)",
        ("price", "total", "amount", "cost", "order value", "fee", "shipping", "charge", "tax", "vat"),
    ),
    _rule(
        "abuse.order_tamper",
        r"\b(?:cancel|change|modify|redirect|reroute|edit|view|access|see|open|intercept|steal|divert|hijack)\b"
        rf"{_S}{{0,30}}?\b{_STRANGERS}\s+(?:[a-z]+\s+){{0,2}}?{_SHOP_THINGS}\b"
        # family: only hostile verbs, or any of the verbs done secretly
        rf"|\b(?:intercept|steal|divert|hijack|redirect|reroute)\w*\b{_S}{{0,30}}?\b{_FAMILY}\s+(?:[a-z]+\s+){{0,2}}?"
        rf"{_SHOP_THINGS}\b"
        # (the family part in a lookahead: the prefilter, which drops it, then waits for the rare secrecy words)
        rf"|\b(?:cancel|change|modify|edit|view|access|see|open|check|read|track)\b(?={_S}{{0,30}}?\b{_FAMILY}\s+"
        rf"(?:[a-z]+\s+){{0,2}}?{_SHOP_THINGS}\b){_S}{{0,120}}?\b{_SHOP_THINGS}\b{_S}{{0,60}}?{_SECRETLY}"
        rf"|\bsecretly\s+(?:cancel|change|modify|edit|view|access|see|open|check|read|track)\b{_S}{{0,30}}?\b"
        rf"{_FAMILY}\s+(?:[a-z]+\s+){{0,2}}?{_SHOP_THINGS}\b",
        ("order", "package", "parcel", "deliver", "shipment", "purchase", "address", "phone", "personal", "contact"),
    ),
    _rule(
        "abuse.order_tamper",
        r"\b(?:cancel|change|modify|redirect|reroute|edit|view|access|see|open|intercept|divert|show me|look at|"
        rf"pull up|read)\b{_S}{{0,20}}?\b(?:orders?|order history|purchases?|packages?|parcels?|deliver(?:y|ies)|"
        rf"shipments?|{_PERSONAL})\s+(?:of|for|belonging to|from)\s+{_OTHER_PERSON}",
        (
            "someone",
            "somebody",
            "another",
            "other",
            "random",
            "ex ",
            "ex-",
            "neighbo",
            "boss",
            "coworker",
            "co-worker",
            "colleague",
            "roommate",
            "victim",
            "target",
        ),
    ),
    _rule(
        "abuse.order_tamper",
        rf"\b(?:mark|set|flag|change|switch)\b{_S}{{0,20}}?\borders?\b{_S}{{0,25}}?\b(?:as|to) "
        rf"(?:paid|delivered|refunded|shipped|completed)\b{_S}{{0,60}}?"
        r"\b(?:without (?:paying|payment|shipping|sending)|even though|although|before (?:paying|payment)|"
        r"so (?:i|we) (?:get|don't|do not|can))",
        ("order",),
    ),
    # -- promotions
    _rule(
        "abuse.promo_exploit",
        r"\b(?:exploit|abuse|hack|crack|brute[- ]?force|bruteforce|enumerate|scrape|cheat|farm|bypass|game the|"
        rf"get around|circumvent)\w*\b{_S}{{0,40}}?\b(?:promos?|promotions?|promo codes?|coupons?|coupon codes?|"
        r"discounts?|discount codes?|vouchers?|gift ?cards?|gift card codes?|referrals?|referral (?:program|bonus)|"
        r"loyalty|loyalty points|cashback|rewards? (?:points|program)|first[- ]order|welcome (?:offer|discount)|"
        r"free trials?|sale codes?)\b",
        (
            "promo",
            "coupon",
            "discount",
            "voucher",
            "gift",
            "referral",
            "loyalty",
            "cashback",
            "reward",
            "first",
            "welcome",
            "trial",
            "sale code",
        ),
    ),
    _rule(
        "abuse.promo_exploit",
        rf"\b(?:trick|loophole|glitch|bug|exploit|hack|workaround|cheat|way around)s?\b{_S}{{0,50}}?"
        rf"\b(?:get|getting|claim|use|apply|redeem|stack|reuse|receive|earn)\b{_S}{{0,40}}?"
        rf"\b(?:free|unlimited|infinite|extra|multiple|again|twice|100%|every time)\b{_S}{{0,30}}?"
        r"\b(?:coupons?|promos?|discounts?|vouchers?|gift ?cards?|referrals?|points|cashback|credits?|items|"
        r"products|stuff|money|orders?|codes?)\b",
        ("trick", "loophole", "glitch", "bug", "exploit", "hack", "workaround", "cheat", "way around"),
    ),
    _rule(
        "abuse.promo_exploit",
        rf"\b(?:create|make|open|register|sign up|generate|set up|use|using)\b{_S}{{0,20}}?\b(?:multiple|many|several|"
        rf"fake|dummy|throwaway|burner|disposable|\d{{2,}}|dozens of|hundreds of|new|different) (?:accounts?|emails?|"
        rf"email addresses|identities|profiles|phone numbers)\b{_S}{{0,60}}?\b(?:discount|coupon|promo|voucher|"
        r"referral|free|bonus|first[- ]order|welcome|credits?|points|trial|offer)",
        ("account", "email", "identit", "profile", "phone number"),
    ),
    _rule(
        "abuse.promo_exploit",
        rf"\b(?:generate|make up|brute[- ]?force|guess|predict|crack|compute|calculate|enumerate)\b{_S}{{0,20}}?"
        r"\b(?:valid|working|unused|active|fake|unlimited|random|real)\s+(?:[a-z]+\s+)?(?:promo|coupon|discount|"
        r"voucher|gift ?card|redeem|redemption|referral) ?(?:codes?|numbers?|pins?)\b",
        ("code", "number", "pin"),
    ),
    _rule(
        "abuse.promo_exploit",
        rf"\b(?:generate|create|make up|brute[- ]?force|guess|predict|crack|calculate|compute|enumerate)\b{_S}{{0,30}}?"
        r"\b(?:gift ?card|coupon|voucher|promo|discount|redeem|redemption|referral) ?(?:codes?|numbers?|pins?)\b"
        rf"{_S}{{0,20}}?\b(?:that|which)\b{_S}{{0,30}}?\b(?:accept\w*|work|works|pass|passes|validat\w*|redeem\w*)\b",
        ("code", "number", "pin"),
    ),
    _rule(
        "abuse.promo_exploit",
        rf"\b(?:reuse|re-use|use|apply|redeem|stack)\w*\b{_S}{{0,30}}?\b(?:single[- ]use|one[- ]time|once[- ]only|"
        r"one[- ]off|expired|already[- ]used|already[- ]redeemed)\s+(?:[a-z-]+\s+)?(?:vouchers?|coupons?|codes?|"
        rf"promos?|discounts?|gift ?cards?|offers?)\b{_S}{{0,40}}?\b(?:on|for|across|in|over)\s+(?:several|multiple|"
        r"many|other|different|more|\d+|two|three|five|ten|all|every|each|unlimited)\s+(?:orders|times|accounts|"
        r"purchases|baskets|carts|checkouts)\b",
        ("single", "one-", "one time", "one off", "once", "expired", "already"),
    ),
    # -- payment
    _rule(
        "abuse.payment_bypass",
        # fake/spoof only right before the payment word: "a fake customer name and the Stripe test card" is fine
        r"\b(?:(?:fake|spoof)\w*\s+(?:a |an |the |my )?(?=payment|charge|3|stripe|paypal|klarna|billing|card verif)|"
        r"(?:bypass|circumvent|get around|ways? around|work around|workaround for|trick|fool|defeat|evade|hack|cheat|"
        rf"sidestep|get past|beat)\w*\b{_S}{{0,40}}?)\b(?:payments?|paying|the charge|checkout payment|"
        r"3-?d ?secure|3ds|fraud (?:checks?|detection|"
        r"filters?|screening)|card verification|cvv checks?|avs|address verification|payment gateway|payment (?:step|"
        r"page|provider|processor|checks?|verification)|stripe|paypal|klarna|paywall|billing)\b"
        rf"(?!{_S}{{0,30}}\b(?:error|issue|problem|declined|failure|failed|bug)\b)",
        ("pay", "charge", "3d", "3ds", "fraud", "verification", "cvv", "avs", "stripe", "klarna", "billing"),
    ),
    _rule(
        "abuse.payment_bypass",
        rf"\b(?:disable|turn off|switch off|skip|remove|bypass)\w*\b{_S}{{0,30}}?\b(?:fraud (?:checks?|detection|"
        r"filters?|screening|rules?)|3-?d ?secure|3ds|cvv (?:checks?|verification)|avs|address verification|"
        r"card verification|payment verification)\b",
        ("fraud", "3d", "3ds", "cvv", "avs", "verification"),
    ),
    _rule(
        "abuse.payment_bypass",
        rf"\b(?:get|receive|take|obtain|order|buy|ship|have|grab|steal|checkout|check out)\b{_S}{{0,40}}?\b(?:for free|"
        r"free of charge|without (?:actually |ever |really |even )?(?:paying|payment|being charged|a valid card|money|"
        r"a card))\b"
        r"(?!\s+(?:for\s+)?(?:shipping|delivery|extra|again|twice|the return|returns?|restocking|customs|tax|taxes|"
        r"duties|fees?|more|anything extra|upfront|now|in advance|first|online|by|with|via|using|through|on the|"
        r"the (?:shipping|delivery|fees?|tax|customs|deposit)))",
        ("free", "without"),
        _FREE_HONESTLY,
    ),
    _rule(
        "abuse.payment_bypass",
        rf"\b(?:get|make|trick|force|convince|fool)\b{_S}{{0,30}}?\b(?:accept|approve|authori[sz]e|process|"
        rf"let through)\w*\b{_S}{{0,20}}?\b(?:expired|invalid|fake|declined|cancell?ed|blocked|frozen|maxed[- ]out|"
        r"empty|stolen|unfunded|made[- ]up|bounced|reported)\s+(?:credit |debit |gift |prepaid )?(?:cards?|"
        r"payments?|card numbers?|coupons?|vouchers?|codes?|cheques?)\b"
        rf"|\b(?:receive|get|have|order|ship|send)\w*\b{_S}{{0,40}}?\b(?:but|and|while|yet)\s+only\s+"
        r"(?:be |get |being |getting |have to )?(?:charged|billed|pay|paying)\s+(?:for\s+)?(?:one|1|a single|half|"
        r"the cheap\w*|less|nothing|once)\b",
        # the rare words, not "card": every match holds one
        (
            "expired",
            "invalid",
            "fake",
            "declined",
            "cancel",
            "blocked",
            "frozen",
            "maxed",
            "empty",
            "stolen",
            "unfunded",
            "made",
            "bounced",
            "reported",
            "only",
        ),
    ),
    # -- fraud
    _rule(
        "abuse.fraud",
        r"\b(?:use|using|buy with|pay with|test|check|cash out|cashout|sell|buy|launder|card|get|find|where)\b"
        rf"{_S}{{0,30}}?\b(?:stolen|cloned|skimmed|hacked|leaked|dumped|carded|compromised|someone else'?s)\s+"
        r"(?:credit |debit )?(?:cards?|card numbers?|ccs?|cvvs?|accounts?|credentials|identit(?:y|ies)|"
        r"paypal accounts?|gift cards?|card data|card details|fullz)\b",
        ("stolen", "cloned", "skimmed", "hacked", "leaked", "dumped", "carded", "compromised", "someone else"),
    ),
    _rule(
        "abuse.fraud",
        rf"\b(?:cards?|card numbers|ccs|cvvs?|card details|accounts)\b{_S}{{0,40}}?\b(?:from|off|on|in)\s+(?:a |the |"
        r"some )?"
        r"(?:forums?|dark ?web|darknet|telegram(?: channel| group)?|dumps?|leaks?|breach(?:es)?|carding (?:site|shop)|"
        rf"tor (?:site|shop))\b|\bwhich (?:ones|cards|of (?:them|these cards)|numbers|bins)\b{_S}{{0,30}}?\b(?:would|"
        r"will|"
        rf"still|actually)?\s*(?:work|pass|go through|get through|be accepted)\b{_S}{{0,30}}?\b(?:checkout|"
        r"your (?:site|"
        r"shop|store)|payment)",
        ("card", "ccs", "cvv", "account", "which"),
    ),
    _rule(
        "abuse.fraud",
        r"\bcarding\b|\bfullz\b|\bcard (?:testing|checker)\b|\bbin (?:attack|checker)\b|"
        rf"\b(?:check|test|validate|verify)\w*\b{_S}{{0,30}}?\b(?:which|if|whether)\b{_S}{{0,30}}?"
        r"\b(?:these|this list of|a list of|the list of|bulk|batch|\d+|many|some)\s+(?:credit |debit )?"
        rf"(?:cards|card numbers|ccs)\b{_S}{{0,20}}?\b(?:are|still)\s+(?:valid|live|working|active|good)",
        ("card", "fullz", "bin "),
    ),
    _rule(
        "abuse.fraud",
        r"\b(?:file|submit|make|open|raise|claim|write|post|create|generate|fake|produce|draft|send|buy|order)\b"
        rf"{_S}{{0,20}}?\b(?:fake|fraudulent|false|bogus|fabricated|made[- ]up|forged|doctored|photoshopped)\s+"
        r"(?:[a-z0-9-]+\s+)?(?:chargebacks?|refunds?|refund requests?|claims?|returns?|reviews?|invoices?|receipts?|"
        r"disputes?|accounts?|identit(?:y|ies)|damage reports?|complaints?|ratings?|testimonials?|photos?|"
        r"proofs? of (?:purchase|delivery)|tracking numbers?|delivery confirmations?|id documents?|ids?)\b",
        ("fake", "fraudulent", "false", "bogus", "fabricated", "made", "forged", "doctored", "photoshopped"),
    ),
    _rule(
        "abuse.fraud",
        rf"\b(?:claim|say|pretend|tell(?: \w+){{0,2}}|lie(?: to(?: \w+){{0,2}})?)\b{_S}{{0,40}}?"
        r"\b(?:never (?:arrived|came|got|received|delivered|showed up)|(?:was|were|got) (?:not delivered|lost|stolen|"
        r"never delivered|empty|damaged|broken)|didn'?t (?:arrive|get|receive|come)|wasn'?t delivered|not received|"
        rf"item not received|empty box|arrived (?:empty|broken|damaged))\b[^\n\x00]{{0,80}}?\b(?:even though|although|"
        rf"though|but|when|while|despite|in fact)\b{_S}{{0,30}}?\b(?:i|we|it|they)\s+(?:actually |really |did |have |"
        r"already |totally )?(?:got|received|have|has|did|arrived|came|kept|keep|still have|was delivered)",
        ("arriv", "receiv", "deliver", "lost", "stolen", "empty", "damaged", "broken", "came"),
    ),
    _rule(
        "abuse.fraud",
        rf"\b(?:mark|report|flag|record|show|scan|log)\w*\b{_S}{{0,40}}?\b(?:as )?(?:not delivered|undelivered|lost|"
        rf"missing|never arrived|failed delivery|damaged)\b{_S}{{0,40}}?\bso (?:that )?(?:i|we) (?:can )?(?:get|claim|"
        r"receive|keep)\b",
        ("deliver", "lost", "missing", "arrived", "damaged"),
    ),
    _rule(
        "abuse.fraud",
        rf"\b(?:chargeback|dispute|refund|money back)\b{_S}{{0,60}}?\b(?:and|but|while|then)\s+(?:still |also )?"
        r"(?:keep (?:both|it anyway|the (?:item|product|goods|order) anyway)|keep the (?:item|product|goods|order) "
        r"(?:too|as well|for free))",
        ("keep",),
    ),
    _rule(
        "abuse.fraud",
        rf"\b(?:return|send back|ship back)\b{_S}{{0,30}}?\b(?:a |an |the )?(?:used|worn|fake|counterfeit|replica|"
        rf"knock-?off|different|cheaper|empty box|box of rocks|brick|old)\b{_S}{{0,50}}?\b(?:instead|as if|pretend\w*|"
        r"swap\w*|switch\w*|without (?:them|anyone|you) (?:noticing|knowing)|so (?:they|nobody|no one) (?:don'?t|"
        r"won'?t|doesn'?t) notice)",
        ("return", "send back", "ship back"),
    ),
    _rule(
        "abuse.fraud",
        rf"\b(?:write|post|generate|create|make|leave)\b{_S}{{0,30}}?\b(?:\d+|dozens of|hundreds of|many|multiple|"
        r"some|a bunch of|lots of)\s+(?:fake |5-star |five-star |positive |negative |1-star |one-star |glowing )*"
        rf"reviews?\b{_S}{{0,60}}?\b(?:pretend\w*|as if|posing as|from different|different (?:names|accounts)|"
        r"fake (?:names|accounts|customers)|as (?:real )?(?:customers|buyers)|so it looks)",
        ("review",),
    ),
    _rule(
        "abuse.fraud",
        r"\b(?:launder\w*|money mules?|triangulation fraud)\b|\b(?:how (?:do|can|could) (?:i|we)|help me|teach me|"
        rf"show me how to|best way to|walk me through)\b{_S}{{0,30}}?\b(?:commit|pull off|do|run|get away with)\s+"
        r"(?:a |an )?(?:refund|return|chargeback|friendly|card|credit card|payment|coupon|insurance|shipping)?\s*"
        r"(?:fraud|scam)s?\b",
        ("launder", "mule", "triangulation", "fraud", "scam"),
    ),
    _rule(
        "abuse.fraud",
        rf"\b(?:excuses?|stor(?:y|ies)|lies|reasons?|wording|what to say|what (?:should|do|can) i (?:say|write|tell))"
        rf"\b{_S}{{0,60}}?\bso (?:that )?(?:you|they|the (?:shop|store|seller|company|support|bank|courier))\s+"
        r"(?:don'?t|won'?t|will not|do not|doesn'?t|never|can'?t|wouldn'?t) (?:ask|want|need|request|require|check|"
        r"notice|make me|question|verify|investigate|suspect|find out)\b"
        r"|\b(?:say|claim|pretend|lie|tell (?:them|you|the shop|the store|support))\b(?: that)?\s+(?:it|they|it's|"
        r"the (?:item|product|parcel|package|order|box|goods))\s+(?:was |were |is |are |arrived |came )?"
        r"(?:faulty|defective|broken|damaged|never arrived|lost|not delivered|empty|missing|counterfeit)\b"
        rf"{_S}{{0,40}}?\bso (?:that )?(?:i|we) (?:can |could |will |would )?(?:get|receive|keep|claim|obtain)\b",
        ("so you", "so that", "so they", "so the", "so i", "so we"),
    ),
    _rule(
        "abuse.fraud",
        rf"\b(?:dispute|chargeback|charge back|charge it back)\w*\b{_S}{{0,40}}?\b(?:after|once|when)\s+(?:it|they|"
        r"the (?:item|parcel|package|order|goods|product)s?|i(?:'ve| have)? (?:got|get|receive|received))\s*"
        r"(?:arrives?|arrived|(?:is|was|has been|gets|got) delivered|comes?|came|ships?|shipped|it|them)?\b"
        rf"(?!{_S}{{0,20}}(?:damaged|broken|faulty|defective|late|wrong|incomplete|empty|missing|different|not as))",
        ("after", "once", "when"),
    ),
    # -- stock checks
    _rule(
        "abuse.stock_bypass",
        r"\b(?:bypass|circumvent|get around|trick|fool|hack|cheat|evade|override|beat|defeat|exploit|break)\w*\b"
        rf"{_S}{{0,40}}?\b(?:stock (?:checks?|limits?|levels?|reservation)|inventory (?:checks?|limits?)|"
        r"purchase limits?|quantity limits?|order limits?|(?:one|1|two|2) per (?:customer|person|household|order)|"
        r"per[- ](?:customer|person|household|order|account) limits?|max(?:imum)? (?:quantity|per customer|order "
        r"quantity|purchase)|out[- ]of[- ]stock (?:checks?|items?|products?)|sold[- ]out (?:items?|products?)|"
        r"the (?:buy(?:ing)? )?limit)\b",
        ("stock", "inventory", "limit", "per ", "max", "sold"),
    ),
    _rule(
        "abuse.stock_bypass",
        rf"\b(?:bots?|scripts?|scalper|scalping|sniper|snipe|automate|automated)\b{_S}{{0,40}}?\b(?:buy|purchase|"
        rf"checkout|check out|grab|reserve|hoard|add to cart|cart|order)\w*\b{_S}{{0,30}}?\b(?:all|entire|every|whole|"
        r"max|hundreds|thousands|limited|restock|drop|stock|inventory|before anyone)\b",
        ("bot", "script", "scalp", "snip", "automat"),
    ),
    _rule(
        "abuse.stock_bypass",
        rf"\b(?:order|buy|reserve|hold|purchase|force)\b{_S}{{0,20}}?"
        r"\b(?:out[- ]of[- ]stock|sold[- ]out|unavailable)\s+"
        r"(?:items?|products?|sizes?|sneakers|shoes)?\s*(?:anyway\s+)?(?:by (?:editing|changing|modifying|tampering|"
        r"manipulating|calling the api|sending the request)|through the api|via the api)",
        ("stock", "sold", "unavailable"),
    ),
    _rule(
        "abuse.fraud",
        rf"\b(?:refund|return|chargeback|order|payment|discount|coupon|money back|keep)\w*\b{_S}{{0,80}}?"
        r"\bwithout (?:the (?:shop|store|seller|merchant|bank|courier|company|site)|them|anyone|you|they|anybody|"
        r"staff) (?:noticing|knowing|finding out|realising|realizing|checking)\b",
        ("noticing", "knowing", "finding out", "realising", "realizing", "checking"),
    ),
    _rule(
        "abuse.payment_bypass",
        rf"\b(?:order|buy|get|ship|receive|checkout|purchase)\w*\b{_S}{{0,80}}?\bso (?:that )?(?:i|we) (?:never|don'?t|"
        r"do not|won'?t|will not|can avoid|avoid) (?:get |getting |being |have to )?(?:charged|billed|pay|paying)\b|"
        rf"\b(?:make|have|let|get) the payment (?:fail|bounce|be declined|get declined|reverse)\b{_S}{{0,40}}?"
        r"\b(?:after|once|when) (?:shipping|it ships|shipped|delivery|delivered|dispatch)",
        ("charged", "billed", "pay", "payment"),
    ),
    _rule(
        "abuse.brute_force",
        r"\b(?:tries|try|trying|test|testing|tests|iterate|iterates|loop|loops|cycle|cycles|check|"
        rf"checks)\b{_S}{{0,20}}?"
        rf"\b(?:every|all|each|all possible|random|many|thousands of)\b{_S}{{0,30}}?\b(?:gift ?cards?|coupons?|"
        r"vouchers?|"
        rf"promos?|discounts?|pins?|codes?|passwords?|card numbers?|otps?|combinations)\b{_S}{{0,40}}?"
        r"\b(?:until|till|to find|to see which|to get)\b",
        ("until", "till", "to find", "to see which", "to get"),
    ),
    _rule(
        "abuse.stock_bypass",
        rf"\b(?:buy|order|get|purchase|grab)\b{_S}{{0,20}}?\bmore than (?:the )?(?:limit|maximum|max|allowed|"
        rf"\d+)\b{_S}{{0,60}}?\b(?:by|using|with|through|via)\b{_S}{{0,20}}?\b(?:different|multiple|fake|several|"
        r"other|new|separate|many)\s+(?:addresses|accounts|names|cards|emails|e-mails|people|identities|devices)\b",
        ("more than",),
    ),
    _rule(
        "abuse.promo_exploit",
        r"\b(?:staff|employee|student|military|nurse|teacher|senior|member|members|vip|partner|affiliate|b2b|"
        rf"wholesale|trade)\s+(?:discount|price|pricing|code|rate|offer)s?\b{_S}{{0,50}}?\b(?:not|no longer|never "
        r"(?:been|was))\s+(?:a |an |on )?(?:staff|employee|student|soldier|nurse|teacher|senior|member|vip|partner|"
        r"affiliate|business|one|eligible)",
        ("not", "no longer", "never"),
    ),
    # -- accounts
    _rule(
        "abuse.account_takeover",
        r"\b(?:log ?in(?:to)?|sign ?in(?:to)?|get (?:me )?into|let me into|break into|access|hack(?: into)?|"
        r"take over|takeover|hijack|"
        rf"compromise|lock out|control|get access to|gain access to)\b{_S}{{0,30}}?\b{_OTHERS}\s+(?:[a-z]+\s+){{0,2}}?"
        r"(?:accounts?|profiles?|logins?|emails?|e-mail|inbox|sessions?|wallet|order history|loyalty accounts?)\b",
        ("account", "profile", "login", "log in", "email", "e-mail", "inbox", "session", "wallet", "order history"),
    ),
    _rule(
        "abuse.account_takeover",
        r"\b(?:log|sign|get|let)\s+(?:me\s+)?in(?:to)?\s+(?:the\s+)?(?:account|profile|dashboard)s?\s+(?:of|for|"
        r"belonging to)"
        r"\s+(?:a\s+|the\s+|this\s+|that\s+)?(?:customer|user|member|shopper|client|another|someone|somebody|"
        r"[a-z0-9._%+-]+@|\d)",
        ("account", "profile", "dashboard"),
    ),
    _rule(
        "abuse.account_takeover",
        r"\b(?:bypass|get around|circumvent|defeat|crack|brute[- ]?force|bruteforce|intercept|spoof|hack)\w*\b"
        rf"{_S}{{0,30}}?\b(?:2fa|mfa|two[- ]factor|2-step|two[- ]step|otp|one[- ]time (?:code|password)|"
        r"verification codes?|sms codes?|login|log-in|sign-in|authentication|captcha|account lock(?:out)?|"
        r"security questions?|password reset)\b",
        (
            "2fa",
            "mfa",
            "factor",
            "step",
            "otp",
            "one-time",
            "one time",
            "code",
            "login",
            "log-in",
            "sign-in",
            "authentication",
            "captcha",
            "lock",
            "security question",
            "password reset",
        ),
    ),
    _rule(
        "abuse.account_takeover",
        # The attack's name counts only with a request to do it: ops and developers ask how to stop it.
        r"\b(?:help(?: me| us)?|teach me|show me(?: how to)?|walk me through|guide me|tell me how to|"
        r"how (?:do|can|could|would|should|might) (?:i|we|one|you)|how to|best way to|easiest way to|i want to|"
        # The verb sits in a lookahead, which the Hyperscan prefilter drops: it then looks for the
        # rare name after a lead, not for every verb after a lead (measured 3 µs instead of ~100
        # per 10 KB).
        rf"i'd like to|i need to|let'?s|can you|could you|will you|please)\b(?={_S}{{0,40}}?\b(?:do|doing|run|running|"
        r"perform\w*|pull(?:ing)? off|carry(?:ing)? out|launch\w*|automat\w*|execut\w*|start|try|trying|use|using|"
        rf"set(?:ting)? up|with|conduct\w*|commit\w*)\s+(?:a |an |some |the |mass |large[- ]scale |automated )?{_ATO})"
        rf"{_S}{{0,80}}?{_ATO}"
        rf"|\b(?:give me|write|code|build|make|create|generate|find me|send me|recommend|suggest|share|sell me|"
        rf"download|get me|need|want|looking for)\b(?={_S}{{0,20}}?\b(?:(?:a |an |the |some )?{_ATO}\s+{_ATO_KIT}|"
        rf"{_ATO_KIT}\s+(?:for|to (?:do|run|automate|perform|launch))\s+(?:a |an )?{_ATO})){_S}{{0,80}}?{_ATO}"
        rf"|{_ATO}\s+(?:attacks?\s+|attempts?\s+|campaign\s+)?(?:on|against|of|at)\s+(?:the accounts? of\s+)?"
        rf"{_NAMED_TARGET}"
        rf"|\bsteal\w*\b{_S}{{0,20}}?\b(?:session|cookies?|accounts?|login)\b",
        ("credential", "takeover", "hijack", "swap", "cookie", "steal"),
    ),
    _rule(
        "abuse.account_takeover",
        rf"\b(?:reset|change|recover)\b{_S}{{0,20}}?\b{_OTHERS}\s+(?:[a-z]+\s+){{0,2}}?(?:passwords?|email|"
        rf"phone number|login|account|2fa|pin)\b{_S}{{0,60}}?(?:without (?:them|him|her|their|his|anyone) "
        r"(?:knowing|noticing|permission|consent)|so (?:that )?i can (?:log ?in|access|get in|see|use|read)|"
        r"secretly|without (?:telling|asking))",
        ("password", "email", "phone", "login", "account", "2fa", "pin"),
    ),
)


def detect(folded: AnchorIndex, squeezed: AnchorIndex | None, extra: Extra = ()) -> list[Finding]:
    return run_intent_rules(INTENT_RULES, folded, squeezed, extra)
