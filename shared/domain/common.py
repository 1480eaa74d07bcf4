"""Small helpers every catalogue module uses: ids from paths, DB errors as API errors, images."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from psycopg import errors

from shared.db.pool import statement_counter
from shared.domain.media import image_url
from shared.http.errors import ApiError, FieldError


def path_int(value: str) -> int:
    if not value.isdigit() or len(value) > 9:
        raise ApiError("not_found")
    return int(value)


def image_prefix() -> str:
    """What `image_url(key)` puts before the key, so SQL can build URLs without a round trip."""
    return (image_url("x") or "x")[:-1]


def image_obj(key: str | None, **extra: Any) -> dict[str, Any] | None:
    if not key:
        return None
    return {"image_src": key, "url": image_url(key), **extra}


def count_statement() -> None:
    """For code that runs SQL on a raw cursor: keep the per-request statement counter honest."""
    counter = statement_counter.get()
    if counter is not None:
        counter[0] += 1


_FK_NAME = re.compile(r"^(?P<table>[a-z_]+?)_(?P<column>[a-z_]+)_fkey$")


def _fk_field(exc: errors.ForeignKeyViolation, columns: Iterable[str]) -> str:
    name = exc.diag.constraint_name or ""
    for column in columns:
        if name.endswith(f"_{column}_fkey"):
            return column
    match = _FK_NAME.match(name)
    return match.group("column") if match else "id"


def api_error_from_db(exc: Exception, *, columns: Iterable[str] = (), in_use: bool = False) -> ApiError | None:
    """Map constraint violations to the contract: unknown reference 400, taken name 409, in use 409."""
    if isinstance(exc, errors.UniqueViolation):
        name = exc.diag.constraint_name or ""
        field = "slug" if "slug" in name else "name"
        if "username" in name:
            field = "username"
        if "email" in name:
            field = "email"
        return ApiError("conflict", f"{field}_taken", errors=[FieldError(field, "already exists")])
    if isinstance(exc, errors.ForeignKeyViolation):
        if in_use:
            return ApiError("conflict", "in_use")
        field = _fk_field(exc, columns)
        return ApiError("validation", errors=[FieldError(field, "unknown reference")])
    if isinstance(exc, errors.CheckViolation):
        name = exc.diag.constraint_name or ""
        field = name.split("_", 1)[1].rsplit("_check", 1)[0] if "_check" in name else "body"
        if name == "categories_two_levels":
            field = "parent_id"
        return ApiError("validation", errors=[FieldError(field, exc.diag.message_primary or "invalid value")])
    return None


def str_ids(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        if row.get(key) is not None:
            row[key] = str(row[key])
    return row
