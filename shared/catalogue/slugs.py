"""Unique ASCII slugs from (often Cyrillic) names; a taken slug gets the next free numeric suffix."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from shared.db import fetch_all
from shared.domain.text import slugify


async def free_slug(conn: AsyncConnection[Any], table: str, name: str, max_length: int = 120) -> str:
    """`divan-chester`, or `divan-chester-2`, `-3`, ... (one indexed query; callers retry on a race)."""
    base = slugify(name, max_length - 8)
    rows = await fetch_all(
        f"SELECT slug::text AS slug FROM {table} WHERE slug::text = %s OR slug::text LIKE %s",  # noqa: S608 - table is code
        (base, base.replace("_", "\\_") + "-%"), conn,
    )
    taken = {r["slug"] for r in rows}
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
