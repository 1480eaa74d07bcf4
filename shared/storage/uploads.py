"""Direct uploads once completed: claiming them for a model or interior, and removing them.

Creating and completing uploads is the uploads group's (`functions/uploads/`); what lives here is what the
other callers need: the models and interiors routes attach a completed upload inside their own transaction,

    claimed = await claim_upload(upload_id, owner_id=user.id, kind="model_archive", conn=conn)
    # → claimed.key / size / file_type / filename, and the row is now 'attached'

and the uploads route (DELETE) and the sweep discard one with its object. A claimed image upload is
re-encoded on claim (`claim_image_upload`): the original is never kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.db import execute, fetch_all, fetch_one
from shared.storage.base import Storage, read_bytes
from shared.storage.errors import MalformedForm
from shared.storage.images import StoredImage, store_image
from shared.storage.keys import Bucket

_EXPIRED = """
SELECT id, bucket, object_key, multipart_id, status FROM uploads
WHERE status <> 'attached' AND expires_at < now() LIMIT %s
"""


@dataclass(frozen=True)
class ClaimedUpload:
    upload_id: str
    bucket: Bucket
    key: str
    size: int
    file_type: str
    filename: str


async def discard_upload(storage: Storage, conn: Any, row: dict[str, Any]) -> None:
    """Abort a multipart upload, remove the object and the row (for DELETE and for the sweep)."""
    if row["status"] == "pending" and row["multipart_id"]:
        await storage.abort_multipart(row["bucket"], row["object_key"], row["multipart_id"])
    await storage.delete(row["bucket"], row["object_key"])
    await execute("DELETE FROM uploads WHERE id = %s", (row["id"],), conn=conn)


async def claim_upload(upload_id: str, *, owner_id: str, kind: str, conn: Any) -> ClaimedUpload:
    """Mark a completed upload as attached (in the caller's transaction) and return what it holds.

    Raises `MalformedForm` (400, field `upload_id`) when it is not the caller's completed upload of that kind.
    """
    row = await fetch_one(
        "UPDATE uploads SET status = 'attached', attached_at = now()"
        " WHERE id = %s AND owner_id = %s AND kind = %s AND status = 'completed' AND expires_at > now()"
        " RETURNING id, bucket, object_key, size, file_type, filename",
        (upload_id, owner_id, kind),
        conn=conn,
    )
    if row is None:
        raise MalformedForm("no completed upload with this id", field="upload_id")
    return ClaimedUpload(
        str(row["id"]), row["bucket"], row["object_key"], row["size"], row["file_type"], row["filename"]
    )


async def claim_image_upload(storage: Storage, upload_id: str, *, owner_id: str, preset: str, conn: Any) -> StoredImage:
    """Claim an image upload, re-encode it to the preset's WebP derivatives, drop the original."""
    claimed = await claim_upload(upload_id, owner_id=owner_id, kind="image", conn=conn)
    data = await read_bytes(storage, claimed.bucket, claimed.key)
    image = await store_image(storage, data, preset, field="upload_id")
    await storage.delete(claimed.bucket, claimed.key)
    await execute("DELETE FROM uploads WHERE id = %s", (claimed.upload_id,), conn=conn)
    return image


async def expired_uploads(conn: Any, limit: int = 500) -> list[dict[str, Any]]:
    return await fetch_all(_EXPIRED, (limit,), conn=conn)


def ttl_left(expires_at: datetime, now: datetime) -> int:
    return max(int((expires_at - now).total_seconds()), 0)
