"""UUIDs from paths, bodies and query strings.

A malformed id in a path cannot name a row, so it is a 404 (never a 500 from the database); a
malformed id in a body or a query filter is the caller's mistake, so it is a 400 naming the field.
"""

from __future__ import annotations

import uuid

from starlette.requests import Request

from shared.http.errors import ApiError, FieldError


def as_uuid(value: object) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        return None


def uuid_or_404(value: object) -> str:
    parsed = as_uuid(value)
    if parsed is None:
        raise ApiError("not_found")
    return parsed


def path_uuid(request: Request, name: str = "id") -> str:
    return uuid_or_404(request.path_params[name])


def field_uuid(value: object, field: str) -> str:
    parsed = as_uuid(value)
    if parsed is None:
        raise ApiError("validation", errors=[FieldError(field, "must be a UUID")])
    return parsed


def query_uuid(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return field_uuid(value, name) if value else None


def query_uuid_list(values: list[str], field: str) -> list[str]:
    return [field_uuid(v, field) for v in values]
