"""Statistics in the business time zone, computed in SQL with bounded cost.

Every query reads one time range through an index on `created_at` (profiles by role, interiors
approved, downloads, tags), so its cost follows the rows in the period, never the table; series come
from `generate_series` left-joined to per-bucket counts, so empty days are zeros, not gaps.
Periods are calendar windows ending today in `Settings.business_timezone`: `day` (today), `week`
(the last 7 days), `month` (the last 30 days, the default), `year` (the last 365 days). There is
no unbounded "all time" period: its cost would grow with the history.
Pending, rejected and deleted interiors are never counted, and neither are their tags.

Results are cached per process for a few seconds (dashboards poll; a cache miss costs one query).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.community.cache import TTLCache
from shared.config import get_settings
from shared.http.errors import ApiError, FieldError

PERIOD_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
TOPICS = ("downloads", "tags")
CACHE_TTL_S = 10.0  # STATS_CACHE_TTL_S overrides (0 turns the cache off)


def zone() -> ZoneInfo:
    return ZoneInfo(get_settings().business_timezone)


def today() -> date:
    return datetime.now(zone()).date()


def local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone())


@dataclass(frozen=True)
class Window:
    start: datetime  # inclusive, aware
    end: datetime  # exclusive, aware
    first_day: date
    last_day: date


def period_window(period: str) -> Window:
    if period not in PERIOD_DAYS:
        raise ApiError("validation", errors=[FieldError("period", "must be one of: day, week, month, year")])
    last = today()
    end = local_midnight(last + timedelta(days=1))
    days = PERIOD_DAYS[period]
    first = last - timedelta(days=days - 1)
    return Window(local_midnight(first), end, first, last)


def month_window(year: int, month: int) -> tuple[datetime, datetime]:
    start = local_midnight(date(year, month, 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, local_midnight(nxt)


def year_window(year: int) -> tuple[datetime, datetime]:
    return local_midnight(date(year, 1, 1)), local_midnight(date(year + 1, 1, 1))


cache = TTLCache(env_name="STATS_CACHE_TTL_S", default_ttl=CACHE_TTL_S)


# Event sources: (FROM ... WHERE fragment, time column). `%(brand)s` scopes to a brand's models
# (NULL for admins); `%(start)s`/`%(end)s` bound the range.

DOWNLOADS = """downloads e JOIN models m ON m.id = e.model_id AND NOT m.is_deleted
    AND (%(brand)s::uuid IS NULL OR m.brand_id = %(brand)s::uuid)
    WHERE e.created_at >= %(start)s AND e.created_at < %(end)s"""
TAGS = """interior_tags e JOIN interiors i ON i.id = e.interior_id AND i.status = 1 AND NOT i.is_deleted
    JOIN models m ON m.id = e.model_id AND NOT m.is_deleted
    AND (%(brand)s::uuid IS NULL OR m.brand_id = %(brand)s::uuid)
    WHERE e.created_at >= %(start)s AND e.created_at < %(end)s"""
SOURCES = {"downloads": DOWNLOADS, "tags": TAGS}

REGISTRATIONS = "profiles e WHERE e.role_id = 3 AND e.created_at >= %(start)s AND e.created_at < %(end)s"
INTERIORS = """interiors e WHERE e.status = 1 AND NOT e.is_deleted
    AND e.created_at >= %(start)s AND e.created_at < %(end)s"""


def daily_series_sql(source: str) -> str:
    return f"""
SELECT to_char(g.day, 'YYYY-MM-DD') AS date, coalesce(c.n, 0) AS count
FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS g (day)
LEFT JOIN (
    SELECT (e.created_at AT TIME ZONE %(tz)s)::date AS day, count(*) AS n
    FROM {source} GROUP BY 1
) c ON c.day = g.day::date
ORDER BY g.day"""  # noqa: S608 - sources are constants above


def monthly_series_sql(source: str) -> str:
    return f"""
SELECT extract(month FROM g.month)::int AS month, coalesce(c.n, 0) AS count
FROM generate_series(make_date(%(year)s, 1, 1), make_date(%(year)s, 12, 1), interval '1 month') AS g (month)
LEFT JOIN (
    SELECT date_trunc('month', e.created_at AT TIME ZONE %(tz)s) AS month, count(*) AS n
    FROM {source} GROUP BY 1
) c ON c.month = g.month
ORDER BY g.month"""  # noqa: S608 - sources are constants above


GROUP_KEYS = {"models": "m.id", "brands": "m.brand_id", "categories": "m.category_id"}
GROUP_ROWS = {
    "models": """SELECT g.id, g.name, g.slug, c.name AS category_name, 1 AS models_count,
        top.downloads_count, top.tags_count
    FROM top JOIN models g ON g.id = top.key LEFT JOIN categories c ON c.id = g.category_id""",
    "brands": """SELECT g.id, g.name, g.slug, NULL::text AS category_name, g.models_count,
        top.downloads_count, top.tags_count
    FROM top JOIN brands g ON g.id = top.key""",
    "categories": """SELECT g.id, g.name, NULL::text AS slug, coalesce(gp.name, g.name) AS category_name,
        (SELECT count(*) FROM models mc WHERE mc.category_id = g.id AND NOT mc.is_deleted
           AND (%(brand)s::uuid IS NULL OR mc.brand_id = %(brand)s::uuid)) AS models_count,
        top.downloads_count, top.tags_count
    FROM top JOIN categories g ON g.id = top.key LEFT JOIN categories gp ON gp.id = g.parent_id""",
}


def top_list_sql(group: str, topic: str) -> str:
    """Count of the topic's events in the window, and the top `limit` models/brands/categories.

    Downloads and tags are each aggregated per model straight from their `created_at` index (no
    join yet), the few thousand per-model sums are then joined to models once (deleted models and
    other brands drop out there) and grouped by the wanted key; only the top rows get their names.
    """
    key = GROUP_KEYS[group]
    return f"""
WITH d AS (SELECT e.model_id, count(*) AS n FROM downloads e
           WHERE e.created_at >= %(start)s AND e.created_at < %(end)s GROUP BY 1),
     t AS (SELECT e.model_id, count(*) AS n FROM interior_tags e
           JOIN interiors i ON i.id = e.interior_id AND i.status = 1 AND NOT i.is_deleted
           WHERE e.created_at >= %(start)s AND e.created_at < %(end)s GROUP BY 1),
     s AS (SELECT mm.key, sum(coalesce(d.n, 0))::bigint AS downloads_count,
                  sum(coalesce(t.n, 0))::bigint AS tags_count
           FROM d FULL JOIN t ON t.model_id = d.model_id
           -- one primary-key probe per active model (OFFSET 0 keeps the planner from hashing all models)
           CROSS JOIN LATERAL (SELECT {key} AS key FROM models m WHERE m.id = coalesce(d.model_id, t.model_id)
                AND NOT m.is_deleted AND (%(brand)s::uuid IS NULL OR m.brand_id = %(brand)s::uuid) OFFSET 0) mm
           GROUP BY 1),
     top AS (SELECT * FROM s WHERE key IS NOT NULL AND {topic}_count > 0
             ORDER BY {topic}_count DESC, key LIMIT %(limit)s)
SELECT tot.total, r.* FROM (SELECT coalesce(sum({topic}_count), 0)::bigint AS total FROM s) tot
LEFT JOIN LATERAL ({GROUP_ROWS[group]} ORDER BY top.{topic}_count DESC, g.id) r ON true"""  # noqa: S608
