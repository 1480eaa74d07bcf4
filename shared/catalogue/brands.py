"""Brands: list, detail, create (with the brand's admin account, in one transaction), edit, delete."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from psycopg import errors

from shared.auth.profiles import insert_profile
from shared.auth.provider import get_provider
from shared.db import fetch_all, fetch_one, transaction
from shared.domain.common import api_error_from_db, image_prefix, str_ids
from shared.domain.dictionaries import escape_like
from shared.domain.paging import Page, paged
from shared.domain.text import clean_description, slugify
from shared.http.errors import ApiError, FieldError
from shared.http.fields import Email, Password, Url, Username
from shared.http.pagination import PageRequest

BrandName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text5000 = Annotated[str, msgspec.Meta(max_length=5000)]
Phone = Annotated[str, msgspec.Meta(max_length=40)]
Short200 = Annotated[str, msgspec.Meta(max_length=200)]
Short300 = Annotated[str, msgspec.Meta(max_length=300)]
UNSET: Any = msgspec.UNSET
Unset = msgspec.UnsetType
ADMIN_EMAIL_DOMAIN = "brands.tridmo.local"
ORDER_COLUMNS = {"created_at": "b.created_at", "name": "b.name", "models_count": "b.models_count"}
CURSOR_CASTS = {"created_at": "timestamptz", "name": "text", "models_count": "integer"}


class BrandIn(msgspec.Struct, forbid_unknown_fields=False):
    name: BrandName
    username: Username
    password: Password
    description: Text5000 | None = None
    site_link: Url | None = None
    phone: Phone | None = None
    email: Email | None = None
    instagram: Short200 | None = None
    address: Short300 | None = None
    country_id: UUID | None = None
    styles: list[int] = []
    admin_email: Email | None = None


class BrandEdit(msgspec.Struct, forbid_unknown_fields=False):
    name: BrandName | Unset = UNSET
    description: Text5000 | None | Unset = UNSET
    site_link: Url | None | Unset = UNSET
    phone: Phone | None | Unset = UNSET
    email: Email | None | Unset = UNSET
    instagram: Short200 | None | Unset = UNSET
    address: Short300 | None | Unset = UNSET
    country_id: UUID | None | Unset = UNSET
    styles: list[int] | Unset = UNSET


BRAND_COLUMNS = ("description", "site_link", "phone", "email", "instagram", "address", "country_id")


def _row_json(detail: bool = False) -> str:
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


async def list_brands(page: PageRequest, name: str | None, country_id: str | None) -> Page:
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
        base=base, params=params, page=page, row_json=_row_json(), id_sql="b.id", cast=CURSOR_CASTS[page.order_key]
    )


async def get_brand(identifier: str, conn: Any = None) -> msgspec.Raw:
    from shared.http.ids import as_uuid

    brand_id = as_uuid(identifier)
    where = "b.id = %(id)s" if brand_id else "b.slug = %(slug)s"
    select = _row_json(detail=True)
    sql = f"SELECT {select}::text AS j FROM brands b LEFT JOIN countries c ON c.id = b.country_id"  # noqa: S608
    row = await fetch_one(
        f"{sql} WHERE {where}",
        {"img": image_prefix(), "id": brand_id, "slug": identifier}, conn,
    )
    if row is None:
        raise ApiError("not_found")
    return msgspec.Raw(row["j"].encode())


async def _set_styles(conn: Any, brand_id: str, styles: list[int]) -> None:
    await conn.execute("DELETE FROM brand_styles WHERE brand_id = %s", (brand_id,))
    if styles:
        await conn.execute(
            "INSERT INTO brand_styles (brand_id, style_id) SELECT %s, unnest(%s::int[]) ON CONFLICT DO NOTHING",
            (brand_id, sorted(set(styles))),
        )


def _db_error(exc: Exception) -> ApiError:
    if isinstance(exc, errors.ForeignKeyViolation) and "style" in (exc.diag.constraint_name or ""):
        return ApiError("validation", errors=[FieldError("styles", "unknown reference")])
    if isinstance(exc, errors.UniqueViolation) and "brands_slug" in (exc.diag.constraint_name or ""):
        return ApiError("conflict", "slug_taken", errors=[FieldError("name", "slug_taken")])
    mapped = api_error_from_db(exc, columns=BRAND_COLUMNS)
    return mapped or ApiError("internal")


async def create_brand(body: BrandIn, logo: str | None) -> dict[str, Any]:
    """Brand, styles and its admin account (role brand) in one transaction; 409 if the slug is taken."""
    provider = get_provider()
    slug = slugify(body.name, 120)
    email = (body.admin_email or f"{body.username.lower()}@{ADMIN_EMAIL_DOMAIN}").lower()
    signed = None
    try:
        async with transaction() as conn:
            row = await fetch_one(
                """INSERT INTO brands (slug, name, description, site_link, phone, email, instagram, address,
                                       country_id, logo)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
                (slug, body.name.strip(), clean_description(body.description), body.site_link, body.phone,
                 body.email, body.instagram, body.address, body.country_id, logo), conn,
            )
            brand_id = str(row["id"])
            await _set_styles(conn, brand_id, body.styles)
            if await fetch_one("SELECT 1 FROM profiles WHERE username = %s", (body.username,), conn):
                raise ApiError("conflict", "username_taken", errors=[FieldError("username", "username_taken")])
            signed = await provider.create_user(email, body.password, conn)
            await insert_profile(
                conn, signed.user_id, email, body.name.strip()[:100], body.name.strip()[:200], role_id=2,
                username=body.username, brand_id=brand_id,
            )
            brand = await get_brand(brand_id, conn)
            admin = await fetch_one(
                "SELECT id, username, email, full_name, role_id, brand_id FROM profiles WHERE id = %s",
                (signed.user_id,), conn,
            )
    except (errors.UniqueViolation, errors.ForeignKeyViolation, errors.CheckViolation) as exc:
        if signed is not None and provider.name != "builtin":
            await provider.discard_user(signed.user_id)
        raise _db_error(exc) from None
    except BaseException:
        if signed is not None and provider.name != "builtin":
            await provider.discard_user(signed.user_id)
        raise
    return {"brand": brand, "admin": str_ids(admin, "id", "brand_id")}


async def update_brand(brand_id: str, values: dict[str, Any]) -> tuple[msgspec.Raw, str | None]:
    """Returns the brand and the replaced logo key (deleted by the caller after the commit)."""
    styles = values.pop("styles", None)
    if "description" in values:
        values["description"] = clean_description(values["description"])
    if "name" in values:
        values["name"] = values["name"].strip()
    try:
        async with transaction() as conn:
            old = await fetch_one("SELECT logo FROM brands WHERE id = %s FOR UPDATE", (brand_id,), conn)
            if old is None:
                raise ApiError("not_found")
            if values:
                sets = ", ".join(f"{k} = %({k})s" for k in values)
                await conn.execute(
                    f"UPDATE brands SET {sets}, updated_at = now() WHERE id = %(id)s",  # noqa: S608
                    {**values, "id": brand_id},
                )
            if styles is not None:
                await _set_styles(conn, brand_id, styles)
            brand = await get_brand(brand_id, conn)
    except (errors.UniqueViolation, errors.ForeignKeyViolation, errors.CheckViolation) as exc:
        raise _db_error(exc) from None
    replaced = old["logo"] if "logo" in values and old["logo"] != values["logo"] else None
    return brand, replaced


async def delete_brand(brand_id: str) -> tuple[list[str], str | None]:
    """Soft-delete the brand's models and delete the brand; returns its accounts and logo to remove."""
    async with transaction() as conn:
        brand = await fetch_one("SELECT logo FROM brands WHERE id = %s FOR UPDATE", (brand_id,), conn)
        if brand is None:
            raise ApiError("not_found")
        accounts = await fetch_all(
            "SELECT id FROM profiles WHERE brand_id = %s AND role_id = 2", (brand_id,), conn
        )
        await conn.execute(
            "UPDATE models SET is_deleted = true, deleted_at = now(), top = false, updated_at = now()"
            " WHERE brand_id = %s AND NOT is_deleted",
            (brand_id,),
        )
        await conn.execute("DELETE FROM brands WHERE id = %s", (brand_id,))
    return [str(a["id"]) for a in accounts], brand["logo"]
