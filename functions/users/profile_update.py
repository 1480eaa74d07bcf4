"""`PUT /api/users/profile` (and an admin's `PUT /api/users/profile/:id`), applied atomically.

The avatar is stored first under a fresh key (while the form streams in), then the row is updated
in a transaction; if the update fails the new object is deleted, and the old avatar is deleted only
after the commit.
"""

from __future__ import annotations

from typing import Any

from psycopg import errors

from functions.users import queries
from shared.auth.profiles import own_profile
from shared.db import transaction
from shared.domain.deletion import delete_image_quietly
from shared.http.errors import ApiError, FieldError


async def apply_profile_update(user_id: str, fields: dict[str, Any], image: Any | None) -> dict[str, Any]:
    old_image: str | None = None
    if image is not None:
        fields["image_src"] = image.key
    try:
        async with transaction() as conn:
            if image is not None:
                old_image = await queries.locked_avatar(conn, user_id)
            if fields:
                await queries.update_profile_row(conn, user_id, fields)
    except errors.UniqueViolation:
        if image is not None:
            await delete_image_quietly(image.key)
        raise ApiError("conflict", "username_taken", errors=[FieldError("username", "username_taken")]) from None
    except BaseException:
        if image is not None:
            await delete_image_quietly(image.key)
        raise
    if old_image and old_image != fields.get("image_src"):
        await delete_image_quietly(old_image)
    profile = await own_profile(user_id)
    if profile is None:
        raise ApiError("not_found")
    return profile
