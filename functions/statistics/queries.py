"""The statistics group's SQL, every query over the daily rollups but the site counters.

The rollups (supabase/migrations/20261125000600_stats_rollups.sql) are kept by triggers in the same
transaction as the events: at most one row per day for the site series (registrations, interiors)
and per day and brand/category pair for the charts, totals and the brand and category top lists and
a brand's charts and totals, and one row per day and model touched for the models top list. So a
query's cost follows the days in the period (at most 366, see periods.py), never the number of events
or models. Series come from `generate_series` left-joined to the rollup, so empty days are zeros, not gaps.
Pending, rejected and deleted interiors are never counted, and neither are their tags; events of
deleted models are not counted either.
"""

from __future__ import annotations

SITE_COUNTERS = """
SELECT (SELECT count(*) FROM brands) AS brands_count,
       (SELECT count(*) FROM models WHERE NOT is_deleted) AS models_count,
       (SELECT count(*) FROM profiles WHERE role_id = 3) AS designers_count,
       (SELECT count(*) FROM interiors WHERE status = 1 AND NOT is_deleted) AS interiors_count
"""

# The rollups' time zone (rollups.py): read under a row lock, and the recount in a new zone.
ROLLUP_ZONE_FOR_UPDATE = "SELECT zone FROM stats_settings FOR UPDATE"
NO_STATEMENT_TIMEOUT = "SET LOCAL statement_timeout = 0"
REBUILD_ROLLUPS = "SELECT stats_rebuild(%s)"

# Site series: a column of stats_daily_site.
REGISTRATIONS = "registrations"
INTERIORS = "interiors"
TOPIC_COLUMNS = {"downloads": "downloads", "tags": "tags"}


def daily_series_sql(column: str) -> str:
    """`{date, count}` for each day from %(first)s to %(last)s."""
    return f"""
SELECT to_char(g.day, 'YYYY-MM-DD') AS date, coalesce(s.{column}, 0)::bigint AS count
FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS g (day)
LEFT JOIN stats_daily_site s ON s.day = g.day::date
ORDER BY g.day"""  # noqa: S608 - columns are constants above


def monthly_series_sql(column: str) -> str:
    """`{month, count}` for the 12 months of %(year)s."""
    return f"""
SELECT extract(month FROM g.month)::int AS month, coalesce(c.n, 0)::bigint AS count
FROM generate_series(make_date(%(year)s, 1, 1), make_date(%(year)s, 12, 1), interval '1 month') AS g (month)
LEFT JOIN (
    SELECT date_trunc('month', s.day)::date AS month, sum(s.{column}) AS n FROM stats_daily_site s
    WHERE s.day >= make_date(%(year)s, 1, 1) AND s.day < make_date(%(year)s + 1, 1, 1) GROUP BY 1
) c ON c.month = g.month::date
ORDER BY g.month"""  # noqa: S608 - columns are constants above


def _scope(brand: bool, alias: str = "s") -> str:
    # two statements rather than `(%(brand)s IS NULL OR ...)`: each keeps its own index plan
    return f" AND {alias}.brand_id = %(brand)s::uuid" if brand else ""


def _per_day(column: str, brand: bool) -> str:
    """Daily sums of downloads or tags in the period: a site row a day, or a brand's few rows a day."""
    if not brand:
        return f"SELECT s.day, s.{column} AS n FROM stats_daily_site s WHERE s.day BETWEEN %(first)s AND %(last)s"  # noqa: S608
    return f"""SELECT s.day, sum(s.{column}) AS n FROM stats_daily_brand_category s
    WHERE s.day BETWEEN %(first)s AND %(last)s{_scope(brand)} GROUP BY 1"""  # noqa: S608


def chart_sql(topic: str, brand: bool) -> str:
    """Daily downloads or tags from %(first)s to %(last)s, for one brand's models or all."""
    return f"""
SELECT to_char(g.day, 'YYYY-MM-DD') AS date, coalesce(c.n, 0)::bigint AS count
FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS g (day)
LEFT JOIN ({_per_day(TOPIC_COLUMNS[topic], brand)}) c ON c.day = g.day::date
ORDER BY g.day"""  # noqa: S608 - columns are constants above


# Per-group sums: models from the per-model rollup, brands and categories from the brand/category one.
GROUP_SUMS = {
    "models": ("stats_daily_model", "s.model_id"),
    "brands": ("stats_daily_brand_category", "s.brand_id"),
    "categories": ("stats_daily_brand_category", "s.category_id"),
}
GROUP_ROWS = {
    "models": """SELECT g.id, g.name, g.slug, c.name AS category_name, 1 AS models_count,
        top.downloads_count, top.tags_count
    FROM top JOIN models g ON g.id = top.key LEFT JOIN categories c ON c.id = g.category_id""",
    "brands": """SELECT g.id, g.name, g.slug, NULL::text AS category_name, g.models_count,
        top.downloads_count, top.tags_count
    FROM top JOIN brands g ON g.id = top.key""",
    "categories": """SELECT g.id, g.name, NULL::text AS slug, coalesce(gp.name, g.name) AS category_name,
        (SELECT count(*) FROM models mc
         WHERE mc.category_id = g.id AND NOT mc.is_deleted{brand_models}) AS models_count,
        top.downloads_count, top.tags_count
    FROM top JOIN categories g ON g.id = top.key LEFT JOIN categories gp ON gp.id = g.parent_id""",
}


def top_list_sql(group: str, topic: str, brand: bool) -> str:
    """Total of the topic's events from %(first)s to %(last)s, and the top %(limit)s models/brands/categories.

    Sums the rollup rows of the period grouped by the wanted key (at most days x keys touched; for
    brands and categories a few rows a day), keeps the top rows, and only those get their names.
    The total comes from the site rollup (admins) or the brand's brand/category rows, whatever the group.
    """
    column = TOPIC_COLUMNS[topic]
    table, key = GROUP_SUMS[group]
    rows = GROUP_ROWS[group].replace("{brand_models}", _scope(brand, "mc"))
    return f"""
WITH s AS (SELECT {key} AS key, sum(s.downloads)::bigint AS downloads_count, sum(s.tags)::bigint AS tags_count
           FROM {table} s WHERE s.day BETWEEN %(first)s AND %(last)s{_scope(brand)} GROUP BY 1),
     top AS (SELECT * FROM s WHERE key IS NOT NULL AND {column}_count > 0
             ORDER BY {column}_count DESC, key LIMIT %(limit)s)
SELECT tot.total, r.* FROM (SELECT coalesce(sum(p.n), 0)::bigint AS total FROM ({_per_day(column, brand)}) p) tot
LEFT JOIN LATERAL ({rows} ORDER BY top.{column}_count DESC, g.id) r ON true"""  # noqa: S608
