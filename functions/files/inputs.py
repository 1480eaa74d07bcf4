"""The files route's one parsed input besides the signed query: the `Range` header."""

from __future__ import annotations

from shared.storage.errors import InvalidRange


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One `bytes=a-b`, `a-` or `-n` range, clamped; None to serve the whole object (RFC 9110 allows it)."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].strip().partition("-")
    try:
        if first == "":
            suffix = int(last)
            if suffix <= 0:
                raise InvalidRange("empty suffix range")
            return max(size - suffix, 0), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        raise InvalidRange(f"range {header} is outside the object ({size} bytes)")
    return start, min(end, size - 1)
