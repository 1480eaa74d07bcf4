"""The statements of model writes, each run on the caller's connection (inside its transaction) unless
it says otherwise. The order they run in, and what happens to files, is functions/models/writes.py."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from shared.db import execute, fetch_all, fetch_one

LINKS = {"materials": ("model_materials", "material_id"), "colors": ("model_colors", "color_id")}


async def live_model(model_id: str, conn: Any = None, *, lock: bool = False) -> dict[str, Any] | None:
    """The model's row unless it is missing or soft-deleted; `lock` holds it until the commit."""
    sql = "SELECT * FROM models WHERE id = %s AND NOT is_deleted" + (" FOR UPDATE" if lock else "")  # noqa: S608
    return await fetch_one(sql, (model_id,), conn)


async def taken_slugs(conn: AsyncConnection[Any], base: str) -> set[str]:
    """`base` and every `base-N` already used by a model (one indexed query)."""
    rows = await fetch_all(
        "SELECT slug::text AS slug FROM models WHERE slug::text = %s OR slug::text LIKE %s",
        (base, base.replace("_", "\\_") + "-%"), conn,
    )
    return {r["slug"] for r in rows}


async def insert_model(conn: Any, values: dict[str, Any]) -> str:
    """The new model's id; `values` maps column names to values (the slug among them)."""
    columns = ", ".join(values)
    placeholders = ", ".join(f"%({c})s" for c in values)
    row = await fetch_one(
        f"INSERT INTO models ({columns}) VALUES ({placeholders}) RETURNING id",  # noqa: S608
        values, conn,
    )
    return str(row["id"])


async def update_model_row(conn: Any, model_id: str, fields: dict[str, Any]) -> None:
    sets = ", ".join(f"{k} = %({k})s" for k in fields)
    await conn.execute(
        f"UPDATE models SET {sets}, updated_at = now() WHERE id = %(id)s",  # noqa: S608
        {**fields, "id": model_id},
    )


async def touch_model(conn: Any, model_id: str) -> None:
    await conn.execute("UPDATE models SET updated_at = now() WHERE id = %s", (model_id,))


async def set_archive(conn: Any, model_id: str, key: str, filename: str, size: int, ext: str) -> None:
    await conn.execute(
        "UPDATE models SET file_key = %s, file_name = %s, file_size = %s, file_ext = %s, updated_at = now()"
        " WHERE id = %s", (key, filename, size, ext, model_id),
    )


async def soft_delete_model(conn: Any, model_id: str) -> None:
    await conn.execute(
        "UPDATE models SET is_deleted = true, deleted_at = now(), top = false, updated_at = now() WHERE id = %s",
        (model_id,),
    )


# Links (materials, colours) ----------------------------------------------------------------------
async def set_links(conn: Any, model_id: str, kind: str, ids: list[int], *, replace: bool) -> None:
    """Add `ids` to the model's materials or colours; with `replace`, drop the others first."""
    table, column = LINKS[kind]
    if replace:
        await conn.execute(f"DELETE FROM {table} WHERE model_id = %s", (model_id,))  # noqa: S608
    if ids:
        await conn.execute(
            f"INSERT INTO {table} (model_id, {column}) SELECT %s, unnest(%s::int[]) ON CONFLICT DO NOTHING",  # noqa: S608
            (model_id, sorted(set(ids))),
        )


async def delete_link(conn: Any, model_id: str, kind: str, link_id: int) -> bool:
    """Whether the model had that material or colour (it has not any more)."""
    table, column = LINKS[kind]
    row = await fetch_one(
        f"DELETE FROM {table} WHERE model_id = %s AND {column} = %s RETURNING model_id",  # noqa: S608
        (model_id, link_id), conn,
    )
    return row is not None


# Images ------------------------------------------------------------------------------------------
async def insert_cover(conn: Any, model_id: str, key: str) -> None:
    await conn.execute(
        "INSERT INTO model_images (model_id, image_src, is_main, position) VALUES (%s, %s, true, 0)",
        (model_id, key),
    )


async def gallery_size(conn: Any, model_id: str) -> tuple[int, int]:
    """(how many gallery images the model has, the last position used)."""
    row = await fetch_one(
        "SELECT count(*) AS n, coalesce(max(position), 0) AS last FROM model_images"
        " WHERE model_id = %s AND NOT is_main", (model_id,), conn,
    )
    return row["n"], row["last"]


async def insert_gallery(conn: Any, model_id: str, after: int, keys: list[str]) -> None:
    """Gallery images in the order given, placed after position `after`."""
    await conn.execute(
        "INSERT INTO model_images (model_id, image_src, position)"
        " SELECT %s, src, %s + ord FROM unnest(%s::text[]) WITH ORDINALITY AS x (src, ord)",
        (model_id, after, keys),
    )


async def delete_gallery_images(conn: Any, model_id: str, image_ids: list[str]) -> list[str]:
    """The keys of the model's gallery images deleted (the cover is never among them)."""
    rows = await fetch_all(
        "DELETE FROM model_images WHERE model_id = %s AND id = ANY(%s::uuid[]) AND NOT is_main"
        " RETURNING image_src", (model_id, image_ids), conn,
    )
    return [r["image_src"] for r in rows]


async def delete_cover(conn: Any, model_id: str) -> list[str]:
    """The keys of the model's cover rows deleted (to be replaced)."""
    rows = await fetch_all(
        "DELETE FROM model_images WHERE model_id = %s AND is_main RETURNING image_src", (model_id,), conn
    )
    return [r["image_src"] for r in rows]


async def locked_image(conn: Any, image_id: str) -> dict[str, Any] | None:
    """A live model's image with the model's brand, locked until the commit."""
    return await fetch_one(
        "SELECT i.id, i.image_src, i.is_main, m.brand_id FROM model_images i JOIN models m ON m.id = i.model_id"
        " WHERE i.id = %s AND NOT m.is_deleted FOR UPDATE OF i", (image_id,), conn,
    )


async def delete_image_row(conn: Any, image_id: str) -> None:
    await conn.execute("DELETE FROM model_images WHERE id = %s", (image_id,))


# After the commit (own connection) ---------------------------------------------------------------
async def images_in_use(keys: list[str]) -> set[str]:
    """Which of `keys` some model image row still points at."""
    used = await fetch_all("SELECT DISTINCT image_src FROM model_images WHERE image_src = ANY(%s)", (keys,))
    return {r["image_src"] for r in used}


async def archive_in_use(key: str) -> bool:
    return await fetch_one("SELECT 1 FROM models WHERE file_key = %s LIMIT 1", (key,)) is not None


async def forget_attached_upload(key: str) -> None:
    """The direct upload the archive came from, once its object is gone."""
    await execute("DELETE FROM uploads WHERE object_key = %s AND status = 'attached'", (key,))
