"""Text helpers: ASCII slugs from Cyrillic and Latin names; descriptions stored as sanitised HTML.

Descriptions keep a small inline allowlist, no attributes, no URLs: what is stored can be rendered
as HTML without running anything (scripts, event handlers, styles, links and images are gone, text
is entity-escaped). Lengths are bounded by the request types and again by the tables' CHECK
constraints.
"""

from __future__ import annotations

import re
import unicodedata

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
    "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    # Uzbek, Kazakh, Ukrainian letters seen in Tridmo's markets
    "ў": "o", "қ": "q", "ғ": "g", "ҳ": "h", "ә": "a", "ө": "o", "ү": "u", "ұ": "u", "ң": "ng",
    "і": "i", "ї": "yi", "є": "ye", "ґ": "g",
}
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def transliterate(text: str) -> str:
    out = []
    for ch in text.lower():
        if ch in _CYRILLIC:
            out.append(_CYRILLIC[ch])
        else:
            out.append(unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode())
    return "".join(out)


def slugify(text: str, max_length: int = 80) -> str:
    """`Диван Честер` -> `divan-chester`; never empty (falls back to `item`)."""
    slug = _NON_SLUG.sub("-", transliterate(text)).strip("-")
    return slug[:max_length].rstrip("-") or "item"

ALLOWED_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li"}


def clean_description(text: str | None) -> str | None:
    if text is None:
        return None
    import nh3

    cleaned = nh3.clean(text.strip(), tags=ALLOWED_TAGS, attributes={}, url_schemes=set(), strip_comments=True)
    return cleaned or None
