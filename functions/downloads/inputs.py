"""The download list's query-string values that are not shared conventions (time bounds)."""

from __future__ import annotations

from datetime import datetime

from shared.http.errors import ApiError, FieldError


def iso_time(value: str | None, name: str) -> datetime | None:
    """`from`/`to` as ISO 8601; a `+` offset arrives as a space when the client did not encode it."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ApiError("validation", errors=[FieldError(name, "expected an ISO 8601 time")]) from None
