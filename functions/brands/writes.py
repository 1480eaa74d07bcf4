"""Brand writes: create (with the brand's admin account, in one transaction), edit, delete.

The account is created through the auth provider inside the brand's transaction; a provider that
keeps users outside our database (Supabase) is told to discard it when the transaction fails.
"""

from __future__ import annotations

from typing import Any

import msgspec
from psycopg import errors

from functions.brands import queries as q
from functions.brands.inputs import BrandIn
from shared.auth.profiles import insert_profile
from shared.auth.provider import get_provider
from shared.db import transaction
from shared.domain.common import api_error_from_db, str_ids
from shared.domain.text import clean_description, slugify
from shared.http.errors import ApiError, FieldError

ADMIN_EMAIL_DOMAIN = "brands.tridmo.local"
BRAND_COLUMNS = ("description", "site_link", "phone", "email", "instagram", "address", "country_id")


def _db_error(exc: Exception) -> ApiError:
    if isinstance(exc, errors.ForeignKeyViolation) and "style" in (exc.diag.constraint_name or ""):
        return ApiError("validation", errors=[FieldError("styles", "unknown reference")])
    if isinstance(exc, errors.UniqueViolation) and "brands_slug" in (exc.diag.constraint_name or ""):
        return ApiError("conflict", "slug_taken", errors=[FieldError("name", "slug_taken")])
    mapped = api_error_from_db(exc, columns=BRAND_COLUMNS)
    return mapped or ApiError("internal")


async def _written(brand_id: str, conn: Any) -> msgspec.Raw:
    """The brand as the transaction left it (404 if it vanished, as reading it anywhere would)."""
    brand = await q.brand_detail(brand_id, conn)
    if brand is None:
        raise ApiError("not_found")
    return brand


async def create_brand(body: BrandIn, logo: str | None) -> dict[str, Any]:
    """Brand, styles and its admin account (role brand) in one transaction; 409 if the slug is taken."""
    provider = get_provider()
    slug = slugify(body.name, 120)
    email = (body.admin_email or f"{body.username.lower()}@{ADMIN_EMAIL_DOMAIN}").lower()
    signed = None
    try:
        async with transaction() as conn:
            brand_id = await q.insert_brand(
                conn, slug, body.name.strip(), clean_description(body.description), body, logo
            )
            await q.set_styles(conn, brand_id, body.styles)
            if await q.username_taken(conn, body.username):
                raise ApiError("conflict", "username_taken", errors=[FieldError("username", "username_taken")])
            signed = await provider.create_user(email, body.password, conn)
            await insert_profile(
                conn, signed.user_id, email, body.name.strip()[:100], body.name.strip()[:200], role_id=2,
                username=body.username, brand_id=brand_id,
            )
            brand = await _written(brand_id, conn)
            admin = await q.brand_admin(conn, signed.user_id)
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
            old = await q.locked_logo(conn, brand_id)
            if old is None:
                raise ApiError("not_found")
            if values:
                await q.update_brand_row(conn, brand_id, values)
            if styles is not None:
                await q.set_styles(conn, brand_id, styles)
            brand = await _written(brand_id, conn)
    except (errors.UniqueViolation, errors.ForeignKeyViolation, errors.CheckViolation) as exc:
        raise _db_error(exc) from None
    replaced = old["logo"] if "logo" in values and old["logo"] != values["logo"] else None
    return brand, replaced


async def delete_brand(brand_id: str) -> tuple[list[str], str | None]:
    """Soft-delete the brand's models and delete the brand; returns its accounts and logo to remove."""
    async with transaction() as conn:
        brand = await q.locked_logo(conn, brand_id)
        if brand is None:
            raise ApiError("not_found")
        accounts = await q.brand_accounts(conn, brand_id)
        await q.delete_brand_row(conn, brand_id)
    return accounts, brand["logo"]
