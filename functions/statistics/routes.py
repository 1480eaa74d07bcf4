"""`/api/statistics`: site counters, registrations and interiors by day and month, top lists and
download/tag series; brand accounts see their own brand only. Everything but the site counters
reads the daily rollups: see queries.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.statistics.inputs import PERIODS, TOPICS, bounded, choice
from functions.statistics.periods import month_window, period_window, today
from functions.statistics.queries import (
    INTERIORS,
    REGISTRATIONS,
    SITE_COUNTERS,
    chart_sql,
    daily_series_sql,
    monthly_series_sql,
    top_list_sql,
)
from functions.statistics.rollups import cache, ensure_rollup_zone
from shared.auth.guard import CurrentUser, requires
from shared.db import connection, fetch_all, fetch_one
from shared.http.envelope import ok
from shared.http.errors import ApiError
from shared.http.ids import field_uuid
from shared.http.validation import query_int


def _brand_scope(request: Request, user: CurrentUser) -> str | None:
    """A brand account is always scoped to its own brand; an admin may pass `brand_id`."""
    if user.role == "brand":
        if not user.brand_id:
            raise ApiError("access_denied")
        return user.brand_id
    value = request.query_params.get("brand_id")
    return field_uuid(value, "brand_id") if value else None


@requires("pub")
async def main(request: Request, _: None) -> Response:
    async def compute() -> dict[str, Any]:
        return dict(await fetch_one(SITE_COUNTERS) or {})

    return ok(await cache.get(("main",), compute))


async def _month_and_year(request: Request, source: str, topic: str) -> dict[str, Any]:
    now = today()
    year = bounded("year", query_int(request.query_params, "year"), 2000, 2100, now.year)
    month = bounded("month", query_int(request.query_params, "month"), 1, 12, now.month)

    async def compute() -> dict[str, Any]:
        await ensure_rollup_zone()
        start, end = month_window(year, month)
        first, last = start.date(), end.date() - timedelta(days=1)
        async with connection() as conn:
            daily = await fetch_all(daily_series_sql(source), {"first": first, "last": last}, conn)
            monthly = await fetch_all(monthly_series_sql(source), {"year": year}, conn)
        return {
            "count": sum(r["count"] for r in daily),
            "year_count": sum(r["count"] for r in monthly),
            "month": month,
            "year": year,
            "chart_data": {f"daily_{topic}": daily, f"monthly_{topic}": monthly},
        }

    return await cache.get((topic, year, month), compute)


@requires("admin")
async def registrations(request: Request, admin: CurrentUser) -> Response:
    return ok(await _month_and_year(request, REGISTRATIONS, "registers"))


@requires("admin")
async def interiors(request: Request, admin: CurrentUser) -> Response:
    return ok(await _month_and_year(request, INTERIORS, "interiors"))


def _top(group: str):  # noqa: ANN202
    @requires("admin", "brand")
    async def route(request: Request, user: CurrentUser) -> Response:
        brand = _brand_scope(request, user)
        topic = choice("topic", request.query_params.get("topic"), TOPICS, "downloads")
        period = choice("period", request.query_params.get("period"), PERIODS, "month")
        limit = bounded("limit", query_int(request.query_params, "limit"), 1, 100, 10)
        window = period_window(period)

        async def compute() -> dict[str, Any]:
            await ensure_rollup_zone()
            rows = await fetch_all(
                top_list_sql(group, topic, brand is not None),
                {"first": window.first_day, "last": window.last_day, "brand": brand, "limit": limit},
            )
            top = [
                {"id": str(r["id"]), "name": r["name"], "slug": r["slug"], "downloads_count": r["downloads_count"],
                 "tags_count": r["tags_count"], "models_count": r["models_count"],
                 "category_name": r["category_name"]}
                for r in rows if r["id"] is not None
            ]
            return {"count": rows[0]["total"] if rows else 0, "topic": topic, "period": period, "top_list": top}

        return ok(await cache.get((group, topic, period, limit, brand, window.end), compute))

    route.__name__ = f"top_{group}"
    return route


def _chart(topic: str):  # noqa: ANN202
    @requires("admin", "brand")
    async def route(request: Request, user: CurrentUser) -> Response:
        brand = _brand_scope(request, user)
        period = choice("period", request.query_params.get("period"), PERIODS, "month")
        window = period_window(period)
        params = {"first": window.first_day, "last": window.last_day, "brand": brand}

        async def compute() -> dict[str, Any]:
            await ensure_rollup_zone()
            daily = await fetch_all(chart_sql(topic, brand is not None), params)
            return {"count": sum(r["count"] for r in daily), "period": period,
                    "chart_data": {f"daily_{topic}": daily}}

        return ok(await cache.get((f"chart_{topic}", period, brand, window.end), compute))

    route.__name__ = f"chart_{topic}"
    return route


routes = [
    Route("/api/statistics/main", main, methods=["GET"]),
    Route("/api/statistics/registrations", registrations, methods=["GET"]),
    Route("/api/statistics/interiors", interiors, methods=["GET"]),
    Route("/api/statistics/models", _top("models"), methods=["GET"]),
    Route("/api/statistics/brands", _top("brands"), methods=["GET"]),
    Route("/api/statistics/categories", _top("categories"), methods=["GET"]),
    Route("/api/statistics/downloads/chart", _chart("downloads"), methods=["GET"]),
    Route("/api/statistics/tags/chart", _chart("tags"), methods=["GET"]),
]
