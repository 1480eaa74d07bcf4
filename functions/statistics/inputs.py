"""Statistics inputs: the topic, period and bounded numbers of the query string, as plain values."""

from __future__ import annotations

from shared.http.errors import ApiError, FieldError

TOPICS = ("downloads", "tags")
PERIODS = ("day", "week", "month", "year")


def choice(name: str, value: str | None, allowed: tuple[str, ...], default: str) -> str:
    """`value` if it is one of `allowed`, `default` when absent; 400 naming the field otherwise."""
    value = value or default
    if value not in allowed:
        raise ApiError("validation", errors=[FieldError(name, f"must be one of: {', '.join(allowed)}")])
    return value


def bounded(name: str, value: int | None, low: int, high: int, default: int) -> int:
    """`value` within [low, high], `default` when absent; 400 naming the field otherwise."""
    if value is None:
        return default
    if not low <= value <= high:
        raise ApiError("validation", errors=[FieldError(name, f"must be between {low} and {high}")])
    return value
