"""The catalogue's small dictionaries (colors, materials, styles, platforms, countries, categories).

One table-driven implementation: each dictionary is a `Dictionary` spec naming its table, columns,
filters and request bodies, so the six groups of routes share one tested code path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import msgspec
from psycopg import errors

from shared.db import fetch_all, fetch_one, transaction
from shared.domain.common import api_error_from_db, image_obj
from shared.http.errors import ApiError

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Hex = Annotated[str, msgspec.Meta(pattern=r"^#[0-9a-fA-F]{6}$")]
Section = Annotated[str, msgspec.Meta(max_length=100)]
Description = Annotated[str, msgspec.Meta(max_length=2000)]
UNSET: Any = msgspec.UNSET
Unset = msgspec.UnsetType


class ColorIn(msgspec.Struct, forbid_unknown_fields=False):
    name: Name
    hex_value: Hex


class ColorEdit(msgspec.Struct, forbid_unknown_fields=False):
    name: Name | Unset = UNSET
    hex_value: Hex | Unset = UNSET


class NameIn(msgspec.Struct, forbid_unknown_fields=False):
    name: Name


class NameEdit(msgspec.Struct, forbid_unknown_fields=False):
    name: Name | Unset = UNSET


class StyleIn(msgspec.Struct, forbid_unknown_fields=False):
    name: Name
    type: Literal[1, 2] = 1


class StyleEdit(msgspec.Struct, forbid_unknown_fields=False):
    name: Name | Unset = UNSET
    type: Literal[1, 2] | Unset = UNSET


class PlatformIn(msgspec.Struct, forbid_unknown_fields=False):
    name: Name
    type: Literal[1, 2]


class PlatformEdit(msgspec.Struct, forbid_unknown_fields=False):
    name: Name | Unset = UNSET
    type: Literal[1, 2] | Unset = UNSET


class CategoryIn(msgspec.Struct, forbid_unknown_fields=False):
    name: Name
    type: Literal["model", "interior"] = "model"
    section: Section | None = None
    description: Description | None = None
    parent_id: int | None = None


class CategoryEdit(msgspec.Struct, forbid_unknown_fields=False):
    name: Name | Unset = UNSET
    type: Literal["model", "interior"] | Unset = UNSET
    section: Section | None | Unset = UNSET
    description: Description | None | Unset = UNSET
    parent_id: int | None | Unset = UNSET


@dataclass(frozen=True)
class Dictionary:
    key: str  # plural: the path prefix and the answer's key
    table: str
    columns: tuple[str, ...]
    create: type[msgspec.Struct]
    edit: type[msgspec.Struct]
    int_id: bool = True
    filters: dict[str, str] = field(default_factory=dict)  # query param -> SQL with %(param)s
    extra_select: str = ""
    has_image: bool = False


DICTIONARIES: dict[str, Dictionary] = {
    d.key: d
    for d in (
        Dictionary("colors", "colors", ("id", "name", "hex_value", "created_at"), ColorIn, ColorEdit),
        Dictionary("materials", "materials", ("id", "name", "created_at"), NameIn, NameEdit),
        Dictionary("styles", "styles", ("id", "name", "type", "created_at"), StyleIn, StyleEdit,
                   filters={"type": "t.type = %(type)s::smallint"}),
        Dictionary("platforms", "platforms", ("id", "name", "type", "created_at"), PlatformIn, PlatformEdit,
                   int_id=False, filters={"type": "t.type = %(type)s::smallint"}),
        Dictionary(
            "countries", "countries", ("id", "name", "created_at"), NameIn, NameEdit, int_id=False,
            extra_select=(
                ", (SELECT count(*) FROM brands b WHERE b.country_id = t.id) AS brands_count"
                ", (SELECT count(*) FROM models m JOIN brands b ON b.id = m.brand_id"
                " WHERE b.country_id = t.id AND NOT m.is_deleted) AS models_count"
            ),
        ),
        Dictionary(
            "categories", "categories",
            ("id", "name", "type", "section", "description", "parent_id", "image_src", "created_at"),
            CategoryIn, CategoryEdit, has_image=True,
            filters={"type": "t.type = %(type)s", "parent_id": "t.parent_id = %(parent_id)s::int"},
        ),
    )
}


def shape(spec: Dictionary, row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    if not spec.int_id:
        row["id"] = str(row["id"])
    if spec.has_image:
        row["image"] = image_obj(row.get("image_src"))
    return row


def _select(spec: Dictionary) -> str:
    cols = ", ".join(f"t.{c}" for c in spec.columns)
    return f"SELECT {cols}{spec.extra_select} FROM {spec.table} t"  # noqa: S608 - names from the spec


async def list_entries(spec: Dictionary, params: dict[str, Any]) -> list[dict[str, Any]]:
    where, values = ["TRUE"], {}
    keyword = params.get("keyword") or params.get("name")
    if keyword:
        where.append("t.name ILIKE %(keyword)s")
        values["keyword"] = f"%{escape_like(keyword)}%"
    for name, sql in spec.filters.items():
        if params.get(name) not in (None, ""):
            where.append(sql)
            values[name] = params[name]
    rows = await fetch_all(f"{_select(spec)} WHERE {' AND '.join(where)} ORDER BY t.name, t.id", values)
    return [shape(spec, r) for r in rows]


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def get_entry(spec: Dictionary, entry_id: Any, conn: Any = None) -> dict[str, Any]:
    row = await fetch_one(f"{_select(spec)} WHERE t.id = %s", (entry_id,), conn)
    if row is None:
        raise ApiError("not_found")
    return shape(spec, row)


async def create_entry(spec: Dictionary, values: dict[str, Any]) -> dict[str, Any]:
    cols = list(values)
    placeholders = ", ".join(f"%({c})s" for c in cols)
    sql = f"INSERT INTO {spec.table} ({', '.join(cols)}) VALUES ({placeholders}) RETURNING id"  # noqa: S608
    try:
        async with transaction() as conn:
            row = await fetch_one(sql, values, conn)
            return await get_entry(spec, row["id"], conn)
    except (errors.UniqueViolation, errors.ForeignKeyViolation, errors.CheckViolation) as exc:
        raise api_error_from_db(exc, columns=cols) from None


async def update_entry(spec: Dictionary, entry_id: Any, values: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Apply `values`; returns the entry and the previous row (to clean up replaced files)."""
    try:
        async with transaction() as conn:
            old = await fetch_one(f"SELECT * FROM {spec.table} WHERE id = %s FOR UPDATE", (entry_id,), conn)  # noqa: S608
            if old is None:
                raise ApiError("not_found")
            if values:
                sets = ", ".join(f"{c} = %({c})s" for c in values)
                await fetch_one(
                    f"UPDATE {spec.table} SET {sets} WHERE id = %(id)s RETURNING id",  # noqa: S608
                    {**values, "id": entry_id}, conn,
                )
            return await get_entry(spec, entry_id, conn), old
    except (errors.UniqueViolation, errors.ForeignKeyViolation, errors.CheckViolation) as exc:
        raise api_error_from_db(exc, columns=list(values)) from None


async def delete_entry(spec: Dictionary, entry_id: Any, *, cascade: bool = False) -> dict[str, Any]:
    """Delete; 409 while a model or interior still uses it. Categories: children removed or detached."""
    try:
        async with transaction() as conn:
            if spec.key == "categories" and cascade:
                await fetch_all("DELETE FROM categories WHERE parent_id = %s RETURNING id", (entry_id,), conn)
            row = await fetch_one(f"DELETE FROM {spec.table} WHERE id = %s RETURNING *", (entry_id,), conn)  # noqa: S608
    except (errors.ForeignKeyViolation, errors.RestrictViolation):
        raise ApiError("conflict", "in_use") from None
    if row is None:
        raise ApiError("not_found")
    return row


MAIN_CATEGORIES_SQL = """
SELECT p.id, p.name, p.type, p.section, p.description, p.image_src, p.created_at,
       CASE WHEN %(with_counts)s THEN (
           SELECT count(*) FROM models m
           WHERE NOT m.is_deleted AND (m.category_id = p.id
                 OR m.category_id IN (SELECT id FROM categories WHERE parent_id = p.id))) END AS models_count,
       coalesce((
           SELECT json_agg(json_build_object(
               'id', c.id, 'name', c.name, 'type', c.type, 'section', c.section, 'parent_id', c.parent_id,
               'image_src', c.image_src,
               'models_count', CASE WHEN %(with_counts)s THEN (
                   SELECT count(*) FROM models m WHERE m.category_id = c.id AND NOT m.is_deleted) END
           ) ORDER BY c.name, c.id)
           FROM categories c WHERE c.parent_id = p.id), '[]'::json) AS children
FROM categories p
WHERE p.parent_id IS NULL AND (%(type)s::text IS NULL OR p.type = %(type)s::text)
ORDER BY p.name, p.id
"""


async def main_categories(category_type: str | None, with_counts: bool) -> list[dict[str, Any]]:
    rows = await fetch_all(MAIN_CATEGORIES_SQL, {"type": category_type, "with_counts": with_counts})
    out = []
    for row in rows:
        row["image"] = image_obj(row["image_src"])
        if not with_counts:
            row.pop("models_count")
        for child in row["children"]:
            child["image"] = image_obj(child["image_src"])
            if not with_counts:
                child.pop("models_count")
        out.append(row)
    return out


BRAND_CATEGORIES_SQL = """
SELECT c.id, c.name, c.type, c.section, c.parent_id, c.image_src, count(m.id) AS models_count
FROM categories c JOIN models m ON m.category_id = c.id
WHERE m.brand_id = %s AND NOT m.is_deleted
GROUP BY c.id ORDER BY c.name, c.id
"""


async def brand_categories(brand_id: str) -> list[dict[str, Any]]:
    rows = await fetch_all(BRAND_CATEGORIES_SQL, (brand_id,))
    for row in rows:
        row["image"] = image_obj(row["image_src"])
    return rows
