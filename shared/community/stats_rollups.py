"""The statistics rollups' time zone (see supabase/migrations/20261125000600_stats_rollups.sql).

Triggers bucket events into days of the zone stored in `stats_settings` (a trigger cannot read the
app's settings; the migration stores Asia/Tashkent, the default of `Settings.business_timezone`).
Before a process first reads the rollups it compares that zone with `BUSINESS_TIMEZONE`; if they
differ it recounts every rollup from the raw tables in the new zone (`stats_rebuild`, once per
deployment: the row lock makes concurrent processes wait for the first and then find it done).
"""

from __future__ import annotations

import logging

from shared.config import get_settings
from shared.db import transaction

log = logging.getLogger("tridmo.statistics")
_checked: set[tuple[str | None, str]] = set()


async def ensure_rollup_zone() -> None:
    settings = get_settings()
    key = (settings.db_url, settings.business_timezone)
    if key in _checked:
        return
    async with transaction() as conn:
        cur = await conn.execute("SELECT zone FROM stats_settings FOR UPDATE")
        row = await cur.fetchone()
        stored = row["zone"] if row else None
        if stored != settings.business_timezone:
            log.warning("statistics rollups rebuilt for a new time zone",
                        extra={"from_zone": stored, "to_zone": settings.business_timezone})
            await conn.execute("SET LOCAL statement_timeout = 0")
            await conn.execute("SELECT stats_rebuild(%s)", (settings.business_timezone,))
    _checked.add(key)


def forget_checked_zones() -> None:
    """Tests: check again on the next read."""
    _checked.clear()
