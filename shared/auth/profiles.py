"""Profile queries shared by the auth and users groups; one place per query."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from shared.db import fetch_one
from shared.domain.media import image_url
from shared.domain.text import slugify
from shared.http.errors import ApiError, FieldError

if TYPE_CHECKING:
    from psycopg import AsyncConnection

OWN_PROFILE_SQL = """
SELECT p.id, p.id AS user_id, p.username, p.full_name, p.company_name, p.email, p.image_src,
       p.address, p.telegram, p.instagram, p.linkedin, p.phone, p.portfolio_link, p.is_verified,
       p.designs_count, p.tags_count, p.downloads_count, p.role_id, r.name AS role, p.brand_id,
       p.created_at
FROM profiles p JOIN roles r ON r.id = p.role_id
WHERE p.id = %s
"""

PUBLIC_PROFILE_SQL = """
SELECT p.id, p.username, p.full_name, p.company_name, p.image_src, p.address, p.telegram,
       p.instagram, p.linkedin, p.portfolio_link, p.designs_count, p.tags_count, r.name AS role,
       p.created_at
FROM profiles p JOIN roles r ON r.id = p.role_id
WHERE p.username = %s
"""

EDITABLE_FIELDS = (
    "full_name", "username", "company_name", "address", "telegram", "instagram", "linkedin",
    "portfolio_link", "phone",
)


def with_image_url(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["image_url"] = image_url(row.get("image_src"))
    for key in ("id", "user_id", "brand_id"):
        if row.get(key) is not None:
            row[key] = str(row[key])
    return row


async def own_profile(user_id: str, conn: AsyncConnection[Any] | None = None) -> dict[str, Any] | None:
    row = await fetch_one(OWN_PROFILE_SQL, (user_id,), conn)
    return with_image_url(row) if row else None


async def public_profile(username: str) -> dict[str, Any] | None:
    row = await fetch_one(PUBLIC_PROFILE_SQL, (username,))
    return with_image_url(row) if row else None


async def insert_profile(
    conn: AsyncConnection[Any], user_id: str, email: str, full_name: str, company_name: str | None,
    role_id: int = 3, username: str | None = None, brand_id: str | None = None,
) -> None:
    """Insert with `username` = slug of the name + 4 digits, retried on the rare collision."""
    from psycopg import errors  # heavy: ~100 ms of import, which the pool paid already for `conn`

    base = slugify(full_name, 40).replace("-", "_")
    for attempt in range(20):
        candidate = username or f"{base}{secrets.randbelow(10_000):04d}"
        try:
            async with conn.transaction():
                await conn.execute(
                    """INSERT INTO profiles (id, email, full_name, company_name, role_id, username, brand_id)
                       VALUES (%s, %s, %s, %s, %s, %s, %s)""",
                    (user_id, email, full_name, company_name, role_id, candidate, brand_id),
                )
            return
        except errors.UniqueViolation as exc:
            constraint = exc.diag.constraint_name or ""
            if "email" in constraint:
                raise ApiError("conflict", "email_taken", errors=[FieldError("email", "email_taken")]) from None
            if username is not None or attempt == 19:
                raise ApiError(
                    "conflict", "username_taken", errors=[FieldError("username", "username_taken")]
                ) from None
