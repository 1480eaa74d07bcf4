"""The brands group's SQL: list and detail as JSON built by PostgreSQL, and the write statements
(run on the caller's connection, inside its transaction)."""

from __future__ import annotations

from typing import Any

import msgspec

from shared.db import fetch_all, fetch_one
from shared.domain.common import image_prefix
from shared.domain.dictionaries import escape_like
from shared.domain.paging import Page, paged
from shared.http.ids import as_uuid
from shared.http.pagination import PageRequest

ORDER_COLUMNS = {"created_at": "b.created_at", "name": "b.name", "models_count": "b.models_count"}
CURSOR_CASTS = {"created_at": "timestamptz", "name": "text", "models_count": "integer"}


def brand_json(detail: bool = False) -> str:
    """The brand object (`b`, with its country `c`); the detail adds contacts and styles."""
    extra = ""
    if detail:
        extra = """,
        'description', b.description, 'phone', b.phone, 'email', b.email, 'instagram', b.instagram,
        'address', b.address, 'updated_at', iso_utc(b.updated_at),
        'styles', coalesce((SELECT json_agg(json_build_object('id', s.id, 'name', s.name) ORDER BY s.name)
                            FROM brand_styles bs JOIN styles s ON s.id = bs.style_id
                            WHERE bs.brand_id = b.id), '[]'::json)"""
    return f"""json_build_object(
        'id', b.id, 'slug', b.slug, 'name', b.name, 'site_link', b.site_link, 'logo', b.logo,
        'image', CASE WHEN b.logo IS NULL THEN NULL
                      ELSE json_build_object('image_src', b.logo, 'url', %(img)s || b.logo) END,
        'country', CASE WHEN c.id IS NULL THEN NULL ELSE json_build_object('id', c.id, 'name', c.name) END,
        'models_count', b.models_count, 'created_at', iso_utc(b.created_at){extra})"""


async def brands_page(page: PageRequest, name: str | None, country_id: str | None) -> Page:
    where = ["TRUE"]
    params: dict[str, Any] = {"img": image_prefix()}
    if name:
        where.append("b.name ILIKE %(name)s")
        params["name"] = f"%{escape_like(name)}%"
    if country_id:
        where.append("b.country_id = %(country_id)s")
        params["country_id"] = country_id
    base = f"FROM brands b LEFT JOIN countries c ON c.id = b.country_id WHERE {' AND '.join(where)}"
    return await paged(
        base=base, params=params, page=page, row_json=brand_json(), id_sql="b.id", cast=CURSOR_CASTS[page.order_key]
    )


async def brand_detail(identifier: str, conn: Any = None) -> msgspec.Raw | None:
    """The brand by id or slug, as JSON, or None."""
    brand_id = as_uuid(identifier)
    where = "b.id = %(id)s" if brand_id else "b.slug = %(slug)s"
    select = brand_json(detail=True)
    sql = f"SELECT {select}::text AS j FROM brands b LEFT JOIN countries c ON c.id = b.country_id"  # noqa: S608
    row = await fetch_one(
        f"{sql} WHERE {where}",
        {"img": image_prefix(), "id": brand_id, "slug": identifier}, conn,
    )
    return None if row is None else msgspec.Raw(row["j"].encode())


async def insert_brand(conn: Any, slug: str, name: str, description: str | None, body: Any, logo: str | None) -> str:
    """The new brand's id; `body` carries the contact fields (a BrandIn)."""
    row = await fetch_one(
        """INSERT INTO brands (slug, name, description, site_link, phone, email, instagram, address,
                               country_id, logo)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (slug, name, description, body.site_link, body.phone,
         body.email, body.instagram, body.address, body.country_id, logo), conn,
    )
    return str(row["id"])


async def set_styles(conn: Any, brand_id: str, styles: list[int]) -> None:
    await conn.execute("DELETE FROM brand_styles WHERE brand_id = %s", (brand_id,))
    if styles:
        await conn.execute(
            "INSERT INTO brand_styles (brand_id, style_id) SELECT %s, unnest(%s::int[]) ON CONFLICT DO NOTHING",
            (brand_id, sorted(set(styles))),
        )


async def username_taken(conn: Any, username: str) -> bool:
    return await fetch_one("SELECT 1 FROM profiles WHERE username = %s", (username,), conn) is not None


async def brand_admin(conn: Any, user_id: str) -> dict[str, Any]:
    return await fetch_one(
        "SELECT id, username, email, full_name, role_id, brand_id FROM profiles WHERE id = %s",
        (user_id,), conn,
    )


async def locked_logo(conn: Any, brand_id: str) -> dict[str, Any] | None:
    """The brand's `logo` row, locked until the commit; None when there is no such brand."""
    return await fetch_one("SELECT logo FROM brands WHERE id = %s FOR UPDATE", (brand_id,), conn)


async def update_brand_row(conn: Any, brand_id: str, values: dict[str, Any]) -> None:
    sets = ", ".join(f"{k} = %({k})s" for k in values)
    await conn.execute(
        f"UPDATE brands SET {sets}, updated_at = now() WHERE id = %(id)s",  # noqa: S608
        {**values, "id": brand_id},
    )


async def brand_accounts(conn: Any, brand_id: str) -> list[str]:
    """The ids of the brand's admin accounts (role brand)."""
    rows = await fetch_all("SELECT id FROM profiles WHERE brand_id = %s AND role_id = 2", (brand_id,), conn)
    return [str(a["id"]) for a in rows]


async def delete_brand_row(conn: Any, brand_id: str) -> None:
    """Soft-delete the brand's live models, then delete the brand."""
    await conn.execute(
        "UPDATE models SET is_deleted = true, deleted_at = now(), top = false, updated_at = now()"
        " WHERE brand_id = %s AND NOT is_deleted",
        (brand_id,),
    )
    await conn.execute("DELETE FROM brands WHERE id = %s", (brand_id,))
