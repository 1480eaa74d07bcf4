"""Creates the admin account from ADMIN_EMAIL/ADMIN_PASSWORD (idempotent), and demo accounts."""

from __future__ import annotations

import logging

from shared.auth.profiles import insert_profile
from shared.auth.provider import get_provider
from shared.db import execute, fetch_one, transaction

log = logging.getLogger("tridmo.bootstrap")
ROLE_IDS = {"admin": 1, "brand": 2, "designer": 3}


async def ensure_account(
    email: str, password: str, full_name: str, role: str, username: str | None = None,
    brand_id: str | None = None,
) -> str:
    """Return the user id for `email`, creating the account with `role` if it does not exist."""
    email = email.lower()
    row = await fetch_one("SELECT id FROM profiles WHERE email = %s", (email,))
    if row is not None:
        await execute("UPDATE profiles SET role_id = %s WHERE id = %s", (ROLE_IDS[role], row["id"]))
        return str(row["id"])
    provider = get_provider()
    async with transaction() as conn:
        signed = await provider.create_user(email, password, conn)
        await insert_profile(
            conn, signed.user_id, email, full_name, None, role_id=ROLE_IDS[role], username=username,
            brand_id=brand_id,
        )
    log.info("account created", extra={"role": role, "user_id": signed.user_id})
    return signed.user_id


async def ensure_admin(email: str, password: str) -> str:
    return await ensure_account(email, password, "Administrator", "admin", username="admin")
