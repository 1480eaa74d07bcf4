"""Reading the rollups: their time zone checked before a process first reads them, answers cached.

Triggers bucket events into days of the zone stored in `stats_settings` (a trigger cannot read the
app's settings; the migration stores Asia/Tashkent, the default of `Settings.business_timezone`).
Before a process first reads the rollups it compares that zone with `BUSINESS_TIMEZONE`; if they
differ it recounts every rollup from the raw tables in the new zone (`stats_rebuild`, once per
deployment: the row lock makes concurrent processes wait for the first and then find it done).

Results are cached per process for a few seconds (dashboards poll; a cache miss costs one query).
"""

from __future__ import annotations

import logging

from functions.statistics import queries
from shared.config import get_settings
from shared.db import transaction
from shared.domain.cache import TTLCache

log = logging.getLogger("tridmo.statistics")
_checked: set[tuple[str | None, str]] = set()

CACHE_TTL_S = 10.0  # STATS_CACHE_TTL_S overrides (0 turns the cache off)
cache = TTLCache(env_name="STATS_CACHE_TTL_S", default_ttl=CACHE_TTL_S)


async def ensure_rollup_zone() -> None:
    settings = get_settings()
    key = (settings.db_url, settings.business_timezone)
    if key in _checked:
        return
    async with transaction() as conn:
        cur = await conn.execute(queries.ROLLUP_ZONE_FOR_UPDATE)
        row = await cur.fetchone()
        stored = row["zone"] if row else None
        if stored != settings.business_timezone:
            log.warning("statistics rollups rebuilt for a new time zone",
                        extra={"from_zone": stored, "to_zone": settings.business_timezone})
            await conn.execute(queries.NO_STATEMENT_TIMEOUT)
            await conn.execute(queries.REBUILD_ROLLUPS, (settings.business_timezone,))
    _checked.add(key)


def forget_checked_zones() -> None:
    """Tests: check again on the next read."""
    _checked.clear()
