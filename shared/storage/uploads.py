"""Direct uploads as data: creating, completing, claiming and discarding rows of `uploads`.

Routes in `functions/uploads.py` speak HTTP; this module holds the rules so the models and interiors
routes can attach a completed upload inside their own transaction:

    claimed = await claim_upload(upload_id, owner_id=user.id, kind="model_archive", conn=conn)
    # → claimed.key / size / file_type / filename, and the row is now 'attached'

A claimed image upload is re-encoded on claim (`claim_image_upload`): the original is never kept.

With a replica configured, a completed upload exists on one side only (the client PUT it straight there):
completing it also queues it in `replication_queue`, in the same transaction, so the copy to the other
side survives any crash; `python -m shared.storage.replicate` drains the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.storage.base import CompletedPart, Storage, read_bytes
from shared.storage.errors import (
    InvalidMultipart,
    MalformedForm,
    ObjectNotFound,
    StorageError,
    TooLarge,
    UnsupportedType,
)
from shared.storage.images import StoredImage, store_image
from shared.storage.keys import Bucket, new_key
from shared.storage.parts import part_count, part_size_for
from shared.storage.replica import is_replicated
from shared.storage.sniff import ALLOWED_TYPES, CONTENT_TYPES, EXTENSIONS, SNIFF_BYTES, allowed, sniff

_SELECT_OWN = """
SELECT id, owner_id, kind, bucket, object_key, filename, declared_size, content_type, multipart_id, part_size,
       status, size, file_type, expires_at, created_at, expires_at < now() AS expired
FROM uploads WHERE id = %s AND owner_id = %s
"""
_MARK_COMPLETED = """
UPDATE uploads SET status = 'completed', size = %s, file_type = %s, completed_at = now(),
       expires_at = now() + make_interval(secs => %s)
WHERE id = %s
RETURNING id, kind, filename, status, size, file_type, expires_at
"""
_EXPIRED = """
SELECT id, bucket, object_key, multipart_id, status FROM uploads
WHERE status <> 'attached' AND expires_at < now() LIMIT %s
"""


@dataclass(frozen=True)
class UploadPlan:
    """What the client is told: where to PUT, in one request or as equal parts."""

    upload_id: str
    method: str
    expires_in: int
    headers: dict[str, str]
    url: str | None = None
    parts: list[dict[str, Any]] | None = None
    part_size: int | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"upload_id": self.upload_id, "method": self.method, "expires_in": self.expires_in}
        if self.url is not None:
            data["url"] = self.url
        else:
            data["parts"], data["part_size"] = self.parts, self.part_size
        data["headers"] = self.headers
        return data


@dataclass(frozen=True)
class ClaimedUpload:
    upload_id: str
    bucket: Bucket
    key: str
    size: int
    file_type: str
    filename: str


def declared_type(kind: str, filename: str) -> str:
    """The type the file name announces, or `UnsupportedType` (415) naming the field."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    file_type = EXTENSIONS.get(ext)
    if file_type is None or file_type not in ALLOWED_TYPES[kind]:
        names = sorted(e for e, t in EXTENSIONS.items() if t in ALLOWED_TYPES[kind])
        raise UnsupportedType(f"files of this type are not accepted; allowed: {', '.join(names)}", field="filename")
    return file_type


async def create_upload(
    storage: Storage,
    conn: Any,
    *,
    owner_id: str,
    kind: str,
    filename: str,
    size: int,
    limit: int,
    ttl_s: int,
    multipart_threshold: int,
) -> UploadPlan:
    if size > limit:
        raise TooLarge(f"the file is larger than the limit of {limit} bytes", field="size", limit=limit)
    file_type = declared_type(kind, filename)
    content_type = CONTENT_TYPES[file_type]
    prefix = "models" if kind == "model_archive" else "uploads"
    key = new_key(prefix, ext=filename.rsplit(".", 1)[-1].lower())
    headers = {"Content-Type": content_type}
    multipart_id = part_size = None
    if kind == "model_archive" and size >= multipart_threshold:
        part_size = part_size_for(size)
        multipart_id = await storage.create_multipart("files", key, content_type=content_type)
    try:
        row = await _fetch_one(
            conn,
            "INSERT INTO uploads (owner_id, kind, bucket, object_key, filename, declared_size, content_type,"
            " multipart_id, part_size, expires_at)"
            " VALUES (%s, %s, 'files', %s, %s, %s, %s, %s, %s, now() + make_interval(secs => %s)) RETURNING id",
            (owner_id, kind, key, filename, size, content_type, multipart_id, part_size, ttl_s),
        )
    except BaseException:
        if multipart_id:
            await storage.abort_multipart("files", key, multipart_id)
        raise
    upload_id = str(row["id"])
    if multipart_id is None:
        url = await storage.presign_put("files", key, expires_in=ttl_s, content_type=content_type, max_bytes=size)
        return UploadPlan(upload_id, "PUT", ttl_s, headers, url=url)
    assert part_size is not None
    parts = []
    for number in range(1, part_count(size, part_size) + 1):
        length = min(part_size, size - (number - 1) * part_size)
        url = await storage.presign_part("files", key, multipart_id, number, expires_in=ttl_s, max_bytes=part_size)
        parts.append({"part_number": number, "url": url, "size": length})
    return UploadPlan(upload_id, "PUT", ttl_s, {}, parts=parts, part_size=part_size)


async def load_upload(conn: Any, upload_id: str, owner_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    """The caller's own upload, or None (someone else's id is indistinguishable from a missing one)."""
    return await _fetch_one(conn, _SELECT_OWN + (" FOR UPDATE" if lock else ""), (upload_id, owner_id))


async def complete_upload(
    storage: Storage, conn: Any, row: dict[str, Any], parts: list[CompletedPart], *, keep_for_s: int
) -> dict[str, Any]:
    """Finish the object, then check it really is what was declared; a bad object is removed."""
    bucket, key = row["bucket"], row["object_key"]
    if row["multipart_id"]:
        if not parts:
            raise InvalidMultipart("parts are required for a multipart upload", field="parts")
        await storage.complete_multipart(bucket, key, row["multipart_id"], parts)
    try:
        info = await storage.head(bucket, key)
    except ObjectNotFound:
        raise MalformedForm("nothing was uploaded for this upload yet", field="upload_id") from None
    try:
        if info.size != row["declared_size"]:
            raise MalformedForm(
                f"the uploaded file has {info.size} bytes, {row['declared_size']} were declared", field="size"
            )
        file_type = sniff(await read_bytes(storage, bucket, key, end=SNIFF_BYTES - 1))
        if not allowed(row["kind"], file_type):
            raise UnsupportedType("the uploaded bytes are not an accepted file type", field="filename")
    except StorageError as exc:
        # The object is not what was declared: remove it. The caller's transaction will roll back, so the
        # row is deleted by the caller afterwards (`void_upload`); the upload id is then unknown.
        await storage.delete(bucket, key)
        exc.void_upload = True  # type: ignore[attr-defined]
        raise
    done = await _fetch_one(conn, _MARK_COMPLETED, (info.size, file_type, keep_for_s, row["id"]))
    if is_replicated(storage):
        from shared.storage.replicate import enqueue

        await enqueue(conn, bucket, key)
    return done


async def discard_upload(storage: Storage, conn: Any, row: dict[str, Any]) -> None:
    """Abort a multipart upload, remove the object and the row (for DELETE and for the sweep)."""
    if row["status"] == "pending" and row["multipart_id"]:
        await storage.abort_multipart(row["bucket"], row["object_key"], row["multipart_id"])
    await storage.delete(row["bucket"], row["object_key"])
    await _execute(conn, "DELETE FROM uploads WHERE id = %s", (row["id"],))


async def claim_upload(upload_id: str, *, owner_id: str, kind: str, conn: Any) -> ClaimedUpload:
    """Mark a completed upload as attached (in the caller's transaction) and return what it holds.

    Raises `MalformedForm` (400, field `upload_id`) when it is not the caller's completed upload of that kind.
    """
    row = await _fetch_one(
        conn,
        "UPDATE uploads SET status = 'attached', attached_at = now()"
        " WHERE id = %s AND owner_id = %s AND kind = %s AND status = 'completed' AND expires_at > now()"
        " RETURNING id, bucket, object_key, size, file_type, filename",
        (upload_id, owner_id, kind),
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
    await _execute(conn, "DELETE FROM uploads WHERE id = %s", (claimed.upload_id,))
    return image


async def void_upload(upload_id: str) -> None:
    """Forget an upload whose object failed the checks (after the completing transaction rolled back)."""
    await _execute(None, "DELETE FROM uploads WHERE id = %s AND status = 'pending'", (upload_id,))


async def expired_uploads(conn: Any, limit: int = 500) -> list[dict[str, Any]]:
    return await _fetch_all(conn, _EXPIRED, (limit,))


def ttl_left(expires_at: datetime, now: datetime) -> int:
    return max(int((expires_at - now).total_seconds()), 0)


async def _fetch_one(conn: Any, sql: str, params: Any) -> dict[str, Any] | None:
    from shared.db import fetch_one

    return await fetch_one(sql, params, conn=conn)


async def _fetch_all(conn: Any, sql: str, params: Any) -> list[dict[str, Any]]:
    from shared.db import fetch_all

    return await fetch_all(sql, params, conn=conn)


async def _execute(conn: Any, sql: str, params: Any) -> None:
    from shared.db import execute

    await execute(sql, params, conn=conn)
