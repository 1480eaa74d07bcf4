"""Who may change a model: admins any; a brand account only its own brand's models."""

from __future__ import annotations

from typing import Any

from functions.models.queries.writes import live_model
from shared.auth.guard import CurrentUser
from shared.http.errors import ApiError


def check_owner(user: CurrentUser, brand_id: Any) -> None:
    if user.is_admin:
        return
    if user.role == "brand" and user.brand_id and brand_id is not None and str(brand_id) == user.brand_id:
        return
    raise ApiError("access_denied")


async def editable_model(user: CurrentUser, model_id: str, conn: Any = None, *, lock: bool = False) -> dict[str, Any]:
    """The live model row if `user` may edit it: 404 when missing or deleted, 403 for another brand's."""
    row = await live_model(model_id, conn, lock=lock)
    if row is None:
        raise ApiError("not_found")
    check_owner(user, row["brand_id"])
    return row
