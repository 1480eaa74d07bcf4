"""Adapter to the uploads group (`/api/uploads`): a completed upload attached as a model's archive.

The uploads table belongs to the storage engineer and was not installed when this was written, so the
row is read as JSON and the few fields needed are taken by their likely names. Replace this module's
body with a call into their API (e.g. `claim_upload(conn, upload_id, owner_id, kind)`) once it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.catalogue.common import uuid_or_none
from shared.db import fetch_one
from shared.http.errors import ApiError, FieldError
from shared.storage.keys import extension


@dataclass(frozen=True)
class AttachedUpload:
    key: str
    size: int
    filename: str
    ext: str


def _invalid(message: str) -> ApiError:
    return ApiError("validation", errors=[FieldError("upload_id", message)])


def _first(row: dict[str, Any], *names: str) -> Any:
    for name in names:
        if row.get(name) is not None:
            return row[name]
    return None


async def claim_upload(conn: Any, upload_id: str, user_id: str, *, is_admin: bool) -> AttachedUpload:
    """The completed archive upload `upload_id` of `user_id` (any owner for admins), locked for this transaction."""
    parsed = uuid_or_none(upload_id)
    present = await fetch_one("SELECT to_regclass('public.uploads') IS NOT NULL AS ok", None, conn)
    if parsed is None or not present or not present["ok"]:
        raise _invalid("unknown upload")
    row = await fetch_one("SELECT to_jsonb(u) AS u FROM uploads u WHERE id = %s FOR UPDATE", (parsed,), conn)
    if row is None:
        raise _invalid("unknown upload")
    upload = row["u"]
    owner = _first(upload, "owner_id", "user_id", "created_by")
    if not is_admin and str(owner) != user_id:
        raise _invalid("unknown upload")
    status = str(_first(upload, "status", "state") or "")
    if status not in ("completed", "complete", "done") and not upload.get("completed_at"):
        raise _invalid("the upload is not completed")
    if _first(upload, "kind") not in (None, "model_archive"):
        raise _invalid("not a model archive upload")
    if _first(upload, "attached_at", "model_id") is not None:
        raise _invalid("the upload is already attached")
    key = _first(upload, "key", "object_key", "storage_key")
    filename = str(_first(upload, "filename", "file_name", "name") or key)
    ext = str(_first(upload, "ext", "type", "sniffed_type") or extension(filename) or "")
    size = int(_first(upload, "size", "size_bytes", "bytes") or 0)
    for column in ("attached_at",):
        if column in upload:
            await conn.execute(f"UPDATE uploads SET {column} = now() WHERE id = %s", (parsed,))  # noqa: S608
    return AttachedUpload(str(key), size, filename[:255], ext[:10])
