"""`PUT /api/users/profile`: JSON or multipart (with an `image` avatar), applied atomically.

The avatar is stored first under a fresh key, then the row is updated in a transaction; if the
update fails the new object is deleted, and the old avatar is deleted only after the commit.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from psycopg import errors
from starlette.requests import Request

from shared.auth.profiles import EDITABLE_FIELDS, own_profile
from shared.db import transaction
from shared.domain.deletion import delete_image_quietly
from shared.http.errors import ApiError, FieldError
from shared.http.validation import convert, parse_body

T = TypeVar("T")


async def read_profile_update(request: Request, model: type[T]) -> tuple[dict[str, Any], Any | None]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        from shared.http.forms import FileRule, parse_streamed_form
        form = await parse_streamed_form(request, files={"image": FileRule(kind="image", preset="avatar")})
        try:
            body = convert({name: values[-1] for name, values in form.fields.items()}, model)
        except BaseException:
            await form.cleanup()  # the avatar was stored while streaming: no orphan on a 400
            raise
        stored = form.file("image")
        image = stored.image if stored else None
    else:
        body, image = await parse_body(request, model), None
    fields = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not None and k in EDITABLE_FIELDS}
    return fields, image


async def apply_profile_update(user_id: str, fields: dict[str, Any], image: Any | None) -> dict[str, Any]:
    old_image: str | None = None
    if image is not None:
        fields["image_src"] = image.key
    try:
        async with transaction() as conn:
            if image is not None:
                cur = await conn.execute("SELECT image_src FROM profiles WHERE id = %s FOR UPDATE", (user_id,))
                row = await cur.fetchone()
                old_image = row["image_src"] if row else None
            if fields:
                assignments = ", ".join(f"{name} = %({name})s" for name in fields)
                await conn.execute(
                    f"UPDATE profiles SET {assignments}, updated_at = now() WHERE id = %(id)s",  # noqa: S608
                    {**fields, "id": user_id},
                )
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
