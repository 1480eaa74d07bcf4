"""Notifications are written inside the transaction of the action that causes them."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from shared.db import fetch_all

_INSERT = """
INSERT INTO notifications (user_id, actor_id, type, text, model_id, interior_id, comment_id)
VALUES (%s, %s, %s, %s, %s, %s, %s)
"""


async def notify(
    conn: AsyncConnection[Any],
    *,
    recipient_id: str,
    actor_id: str | None,
    type: str,  # noqa: A002  (the column's name, and the seam's published signature)
    model_id: str | None = None,
    interior_id: str | None = None,
    comment_id: str | None = None,
    text: str | None = None,
) -> None:
    """Insert one notification; a user is never notified about their own action."""
    if not recipient_id or (actor_id is not None and str(actor_id) == str(recipient_id)):
        return
    await conn.execute(
        _INSERT, (recipient_id, actor_id, type, text[:2048] if text else text, model_id, interior_id, comment_id)
    )


async def notify_brand(
    conn: AsyncConnection[Any],
    *,
    brand_id: str | None,
    actor_id: str | None,
    type: str,  # noqa: A002
    **fields: Any,
) -> None:
    """Notify every admin account of a brand (a model's "author" is its brand)."""
    if not brand_id:
        return
    rows = await fetch_all("SELECT id FROM profiles WHERE brand_id = %s", (brand_id,), conn)
    for row in rows:
        await notify(conn, recipient_id=str(row["id"]), actor_id=actor_id, type=type, **fields)
