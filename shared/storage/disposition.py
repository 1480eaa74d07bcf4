"""`Content-Disposition: attachment` with a filename every browser reads correctly (RFC 6266/5987)."""

from __future__ import annotations

import re
from urllib.parse import quote

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._ ()\[\]-]")


def attachment(filename: str | None) -> str:
    if not filename:
        return "attachment"
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "download"
    fallback = _UNSAFE_ASCII.sub("_", name.encode("ascii", "replace").decode("ascii"))
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
