"""Replace masked spans in the text segments and write them back into the body.

A masked segment is written back in its normalised (`clean`) form: NFKC and without
zero-width characters, with case and line breaks kept. Cards become at most BIN + last
four (PCI DSS 3.4.1), secrets `[REDACTED:credentials]`.
"""

from __future__ import annotations

from kong_plugins.ecommerce_guardrails.detectors import Finding
from kong_plugins.ecommerce_guardrails.normalize import Views
from kong_plugins.ecommerce_guardrails.scanner import Parsed, serialize


def apply_masks(parsed: Parsed, views: Views, findings: list[Finding]) -> bytes:
    by_segment: dict[int, list[Finding]] = {}
    for f in findings:
        by_segment.setdefault(views.segment_of(f.start), []).append(f)
    for index, masks in by_segment.items():
        base = views.offsets[index]
        end_of_segment = views.offsets[index + 1] - 1 if index + 1 < len(views.offsets) else len(views.clean)
        text = views.clean[base:end_of_segment]
        # Right to left, so earlier offsets stay valid; overlapping spans keep the first.
        last_start = len(text) + 1
        for f in sorted(masks, key=lambda f: (f.start, -f.end), reverse=True):
            start, end = f.start - base, min(f.end - base, len(text))
            if end > last_start:
                continue
            text = text[:start] + (f.replacement or "") + text[end:]
            last_start = start
        segment = parsed.segments[index]
        segment.text = text
        if segment.container is not None:
            segment.container[segment.slot] = text
    return serialize(parsed)
