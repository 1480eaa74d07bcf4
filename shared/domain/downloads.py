"""Model downloads: signed archive URLs under a daily per-user quota, first downloads recorded.

The quota check and the request record run in one transaction under a per-user advisory lock, so
parallel requests of one user cannot both slip under the limit, and different users never wait
for each other. Brand and admin accounts are not recorded as downloaders.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.auth.guard import CurrentUser
from shared.config import get_settings
from shared.db import fetch_all, fetch_one, transaction
from shared.domain.common import image_prefix
from shared.domain.notify import notify
from shared.domain.paging import Page, paged
from shared.http.errors import ApiError
from shared.http.pagination import PageRequest
from shared.storage import signed_download_url

UNCOUNTED_ROLES = ("brand", "admin")


def day_bounds(now: datetime, tz_name: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(tz_name)
    local = now.astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


async def request_download(user: CurrentUser, model_id: str) -> dict[str, Any]:
    settings = get_settings()
    async with transaction() as conn:
        model = await fetch_one(
            "SELECT id, brand_id, file_key, file_name FROM models WHERE id = %s AND NOT is_deleted", (model_id,), conn
        )
        if model is None or not model["file_key"]:
            raise ApiError("not_found")
        if not user.is_admin:
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('download:' || %s, 0))", (user.id,))
            now = (await fetch_one("SELECT now() AS now", None, conn))["now"]
            start, end = day_bounds(now, settings.business_timezone)
            used = await fetch_one(
                "SELECT count(*) AS n FROM download_requests WHERE user_id = %s AND created_at >= %s",
                (user.id, start), conn,
            )
            if used["n"] >= settings.downloads_per_day:
                retry = max(1, int((end - now).total_seconds()))
                raise ApiError("rate_limited", "download_quota", headers={"Retry-After": str(retry)})
            await conn.execute(
                "INSERT INTO download_requests (user_id, model_id) VALUES (%s, %s)", (user.id, model_id)
            )
        if user.role not in UNCOUNTED_ROLES:
            first = await fetch_one(
                "INSERT INTO downloads (user_id, model_id) VALUES (%s, %s)"
                " ON CONFLICT (user_id, model_id) DO NOTHING RETURNING id", (user.id, model_id), conn,
            )
            if first is not None and model["brand_id"] is not None:
                accounts = await fetch_all(
                    "SELECT id FROM profiles WHERE brand_id = %s AND role_id = 2", (model["brand_id"],), conn
                )
                for account in accounts:
                    await notify(conn, recipient_id=str(account["id"]), actor_id=user.id, type="download",
                                 model_id=model_id)
    ttl = settings.download_url_ttl_s
    url = await signed_download_url("files", model["file_key"], filename=model["file_name"], expires_in=ttl)
    return {"url": url, "expires_in": ttl}


ORDER_COLUMNS = {"created_at": "d.created_at"}

ROW_JSON = """json_build_object(
    'id', d.id, 'created_at', iso_utc(d.created_at),
    'user', CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('id', u.id, 'username', u.username,
        'full_name', u.full_name, 'email', u.email, 'image_src', u.image_src) END,
    'model', json_build_object('id', m.id, 'name', m.name, 'slug', m.slug,
        'brand', CASE WHEN b.id IS NULL THEN NULL
                      ELSE json_build_object('id', b.id, 'name', b.name, 'slug', b.slug) END,
        'cover', CASE WHEN ci.image_src IS NULL THEN '[]'::json
            ELSE json_build_array(json_build_object('image_src', ci.image_src, 'url', %(img)s || ci.image_src)) END))"""


async def list_downloads(page: PageRequest, filters: dict[str, Any]) -> Page:
    where = ["TRUE"]
    for name, sql in (
        ("user_id", "d.user_id = %(user_id)s"), ("brand_id", "m.brand_id = %(brand_id)s"),
        ("model_id", "d.model_id = %(model_id)s"), ("from", "d.created_at >= %(from)s"),
        ("to", "d.created_at < %(to)s"),
    ):
        if filters.get(name) is not None:
            where.append(sql)
    base = f"""FROM downloads d JOIN models m ON m.id = d.model_id
LEFT JOIN profiles u ON u.id = d.user_id
LEFT JOIN brands b ON b.id = m.brand_id
LEFT JOIN LATERAL (SELECT image_src FROM model_images WHERE model_id = m.id AND is_main LIMIT 1) ci ON true
WHERE {' AND '.join(where)}"""  # noqa: S608
    params = {**filters, "img": image_prefix()}
    return await paged(base=base, params=params, page=page, row_json=ROW_JSON, id_sql="d.id",
                       cast="timestamptz", id_cast="bigint")
