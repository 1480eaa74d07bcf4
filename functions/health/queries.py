"""The health group's one statement: the cheapest round trip that proves the database answers."""

from __future__ import annotations

from shared.db import get_pool

PING = "SELECT 1"


async def ping_database(timeout_s: float) -> None:
    """Return once the database ran `PING`; raises when no connection comes within `timeout_s`."""
    pool = await get_pool()
    async with pool.connection(timeout=timeout_s) as conn:
        await conn.execute(PING)
