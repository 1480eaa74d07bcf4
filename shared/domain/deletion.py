"""Deleting a user everywhere: profile rows, auth user, avatar object.

Rows go in one transaction (foreign keys cascade or soft-delete what hangs off the profile; the
interiors migration installs the trigger that soft-deletes a deleted author's interiors); the
avatar object is removed only after the commit, so a failure never leaves a row without its file.
"""

from __future__ import annotations

import logging

from shared.auth.provider import get_provider
from shared.db import fetch_one, transaction
from shared.storage import delete_image, get_storage

log = logging.getLogger("tridmo.users")


async def delete_user_everywhere(user_id: str) -> bool:
    """The auth user is deleted inside the profile's transaction, before the commit: if the
    provider (GoTrue, over the network) fails, the rows roll back and the client can retry,
    rather than being left with a profile-less login or a login-less profile."""
    provider = get_provider()
    async with transaction() as conn:
        row = await fetch_one(
            "DELETE FROM profiles WHERE id = %s RETURNING image_src", (user_id,), conn
        )
        if row is None:
            return False
        await provider.delete_user(user_id, conn)
    if row["image_src"]:
        await delete_image_quietly(row["image_src"])
    return True


async def delete_image_quietly(key: str) -> None:
    """Best effort after commit: a leftover object is an orphan the storage sweep removes."""
    try:
        await delete_image(get_storage(), key)
    except Exception:
        log.warning("could not delete image after commit", extra={"key": key})
