"""The auth group's own SQL (profiles and the providers' tables are queried in shared.auth)."""

from __future__ import annotations

from shared.db import fetch_one

EMAIL_BY_USERNAME = "SELECT email FROM profiles WHERE username = %s"
ACTIVE_BAN = "SELECT 1 FROM bans WHERE user_id = %s AND lifted_at IS NULL AND (permanent OR until > now())"


async def email_for_username(username: str) -> str | None:
    row = await fetch_one(EMAIL_BY_USERNAME, (username,))
    return row["email"] if row else None


async def has_active_ban(user_id: str) -> bool:
    return await fetch_one(ACTIVE_BAN, (user_id,)) is not None
