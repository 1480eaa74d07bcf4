"""Descriptions: stored as sanitised HTML (a small inline allowlist, no attributes, no URLs).

What is stored can be rendered as HTML without running anything: scripts, event handlers, styles,
links and images are gone, and text is entity-escaped. Lengths are bounded by the request types
and again by the table's CHECK constraints.
"""

from __future__ import annotations

ALLOWED_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li"}


def clean_description(text: str | None) -> str | None:
    if text is None:
        return None
    import nh3

    cleaned = nh3.clean(text.strip(), tags=ALLOWED_TAGS, attributes={}, url_schemes=set(), strip_comments=True)
    return cleaned or None
