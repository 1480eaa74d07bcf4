"""The uploads group's SQL on `uploads`: a new row, the owner's row, marking it completed, forgetting it.

Claiming and discarding are shared with the models and interiors routes and the sweep
(`shared.storage.uploads`).
"""

from __future__ import annotations

from typing import Any

from shared.db import execute, fetch_one

INSERT_UPLOAD = (
    "INSERT INTO uploads (owner_id, kind, bucket, object_key, filename, declared_size, content_type,"
    " multipart_id, part_size, expires_at)"
    " VALUES (%s, %s, 'files', %s, %s, %s, %s, %s, %s, now() + make_interval(secs => %s)) RETURNING id"
)
OWN_UPLOAD = """
SELECT id, owner_id, kind, bucket, object_key, filename, declared_size, content_type, multipart_id, part_size,
       status, size, file_type, expires_at, created_at, expires_at < now() AS expired
FROM uploads WHERE id = %s AND owner_id = %s
"""
MARK_COMPLETED = """
UPDATE uploads SET status = 'completed', size = %s, file_type = %s, completed_at = now(),
       expires_at = now() + make_interval(secs => %s)
WHERE id = %s
RETURNING id, kind, filename, status, size, file_type, expires_at
"""
VOID_UPLOAD = "DELETE FROM uploads WHERE id = %s AND status = 'pending'"


async def insert_upload(
    conn: Any,
    *,
    owner_id: str,
    kind: str,
    key: str,
    filename: str,
    size: int,
    content_type: str,
    multipart_id: str | None,
    part_size: int | None,
    ttl_s: int,
) -> str:
    """The new pending upload's id; it expires after `ttl_s` unless completed."""
    row = await fetch_one(
        INSERT_UPLOAD, (owner_id, kind, key, filename, size, content_type, multipart_id, part_size, ttl_s), conn=conn
    )
    assert row is not None  # INSERT ... RETURNING always returns the row
    return str(row["id"])


async def own_upload(conn: Any, upload_id: str, owner_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    """The caller's own upload, or None (someone else's id is indistinguishable from a missing one)."""
    return await fetch_one(OWN_UPLOAD + (" FOR UPDATE" if lock else ""), (upload_id, owner_id), conn=conn)


async def mark_completed(
    conn: Any, upload_id: Any, *, size: int, file_type: str | None, keep_for_s: int
) -> dict[str, Any] | None:
    """The completed row (status, size, sniffed type), kept `keep_for_s` for a model route to claim it."""
    return await fetch_one(MARK_COMPLETED, (size, file_type, keep_for_s, upload_id), conn=conn)


async def void_upload(upload_id: str) -> None:
    """Forget an upload whose object failed the checks (after the completing transaction rolled back)."""
    await execute(VOID_UPLOAD, (upload_id,))
