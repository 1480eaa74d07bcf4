"""An upload's two steps besides claiming: the plan handed to the client, and the checks on completion.

`create_upload` decides between one presigned PUT and a multipart upload of equal parts (R2's rule) and
records the pending row; `complete_upload` finishes the object and checks that its size and sniffed type
are what was declared, removing an object that is not. With a replica configured, a completed upload
exists on one side only (the client PUT it straight there), so completing it also queues it in
`replication_queue`, in the same transaction: the copy to the other side survives any crash, and
`python -m shared.storage.replication.replicate` drains the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions.uploads.queries import insert_upload, mark_completed
from shared.storage.base import CompletedPart, Storage, read_bytes
from shared.storage.errors import (
    InvalidMultipart,
    MalformedForm,
    ObjectNotFound,
    StorageError,
    TooLarge,
    UnsupportedType,
)
from shared.storage.keys import new_key
from shared.storage.parts import part_count, part_size_for
from shared.storage.replication.journal import enqueue
from shared.storage.replication.replica import is_replicated
from shared.storage.sniff import ALLOWED_TYPES, CONTENT_TYPES, EXTENSIONS, SNIFF_BYTES, allowed, sniff


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
        upload_id = await insert_upload(
            conn,
            owner_id=owner_id,
            kind=kind,
            key=key,
            filename=filename,
            size=size,
            content_type=content_type,
            multipart_id=multipart_id,
            part_size=part_size,
            ttl_s=ttl_s,
        )
    except BaseException:
        if multipart_id:
            await storage.abort_multipart("files", key, multipart_id)
        raise
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


async def complete_upload(
    storage: Storage, conn: Any, row: dict[str, Any], parts: list[CompletedPart], *, keep_for_s: int
) -> dict[str, Any] | None:
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
    done = await mark_completed(conn, row["id"], size=info.size, file_type=file_type, keep_for_s=keep_for_s)
    if is_replicated(storage):
        await enqueue(conn, bucket, key)
    return done
