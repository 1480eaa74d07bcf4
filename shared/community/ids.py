"""Path and body ids: a malformed UUID is simply something that does not exist (404), never a 500."""

from __future__ import annotations

import uuid

from starlette.requests import Request

from shared.http.errors import ApiError, FieldError


def as_uuid(value: object) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        return None


def path_uuid(request: Request, name: str = "id") -> str:
    value = as_uuid(request.path_params[name])
    if value is None:
        raise ApiError("not_found")
    return value


def field_uuid(value: object, field: str) -> str:
    parsed = as_uuid(value)
    if parsed is None:
        raise ApiError("validation", errors=[FieldError(field, "must be a UUID")])
    return parsed


def query_uuid_list(values: list[str], field: str) -> list[str]:
    return [field_uuid(v, field) for v in values]
