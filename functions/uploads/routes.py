"""`/api/uploads`: big files go straight to storage (presigned PUT, or R2 multipart with equal parts).

The API only hands out URLs and checks the result, so a 2 GiB archive never passes through a Lambda.
An upload is `pending` until completed, then `completed` (size and sniffed type checked) until a model
route claims it (`shared.storage.uploads.claim_upload`). Unfinished and unclaimed uploads expire and
the sweep (`python -m shared.storage.sweep`) removes them with their objects.

With a storage replica, completing an upload queues the object for copying in the same transaction
(`replication_queue`); `python -m shared.storage.replication.replicate` drains it on a schedule. On a
long-lived server the copy is also tried right after the response (fast path); on Lambda it is not,
because Mangum would hold the response until the copy ends and the frozen process cannot run it afterwards.
"""

from __future__ import annotations

import os

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.uploads.inputs import CompleteBody, NewUpload, check_new, parse_upload_id
from functions.uploads.lifecycle import complete_upload, create_upload
from functions.uploads.queries import own_upload, void_upload
from shared.auth.guard import CurrentUser, requires
from shared.config import get_settings
from shared.db import transaction
from shared.http.envelope import created, ok
from shared.http.errors import ApiError
from shared.http.validation import parse_body
from shared.storage.base import CompletedPart
from shared.storage.errors import StorageError
from shared.storage.factory import get_storage
from shared.storage.replication.replica import is_replicated
from shared.storage.replication.replicate import mirror_soon
from shared.storage.uploads import discard_upload


@requires("brand", "designer", "admin")
async def start_upload(request: Request, user: CurrentUser) -> Response:
    body = await parse_body(request, NewUpload)
    check_new(body)
    settings = get_settings()
    limit = settings.max_archive_bytes if body.kind == "model_archive" else settings.max_image_bytes
    async with transaction() as conn:
        plan = await create_upload(
            get_storage(),
            conn,
            owner_id=user.id,
            kind=body.kind,
            filename=body.filename.strip(),
            size=body.size,
            limit=limit,
            ttl_s=settings.upload_url_ttl_s,
            multipart_threshold=settings.multipart_threshold_bytes,
        )
    return created(plan.as_dict())


@requires("user")
async def finish_upload(request: Request, user: CurrentUser) -> Response:
    upload_id = parse_upload_id(request.path_params["upload_id"])
    body = await parse_body(request, CompleteBody)
    storage = get_storage()
    try:
        async with transaction() as conn:
            row = await own_upload(conn, upload_id, user.id, lock=True)
            if row is None:
                raise ApiError("not_found")
            if row["status"] != "pending":
                return ok(_public(row), "ok")  # completing twice is harmless
            if row["expired"]:
                raise ApiError("gone", "this upload has expired; start a new one")
            parts = [CompletedPart(p.part_number, p.etag) for p in body.parts]
            done = await complete_upload(storage, conn, row, parts, keep_for_s=get_settings().orphan_grace_s)
    except StorageError as exc:
        if getattr(exc, "void_upload", False):
            await void_upload(upload_id)
        raise
    response = ok(_public(done), "ok")
    if is_replicated(storage) and not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        # The durable record is the queue row committed above; this only makes the copy happen sooner.
        response.background = BackgroundTask(mirror_soon, storage, row["bucket"], row["object_key"])
    return response


@requires("user")
async def cancel_upload(request: Request, user: CurrentUser) -> Response:
    upload_id = parse_upload_id(request.path_params["upload_id"])
    async with transaction() as conn:
        row = await own_upload(conn, upload_id, user.id, lock=True)
        if row is None:
            raise ApiError("not_found")
        if row["status"] == "attached":
            raise ApiError("conflict", "this upload is already attached and cannot be removed here")
        await discard_upload(get_storage(), conn, row)
    return ok(None, "deleted")


def _public(row: dict) -> dict:
    return {
        "upload_id": str(row["id"]),
        "kind": row["kind"],
        "filename": row["filename"],
        "status": row["status"],
        "size": row["size"],
        "type": row["file_type"],
        "expires_at": row["expires_at"].isoformat(),
    }


routes = [
    Route("/api/uploads", start_upload, methods=["POST"]),
    Route("/api/uploads/{upload_id}/complete", finish_upload, methods=["POST"]),
    Route("/api/uploads/{upload_id}", cancel_upload, methods=["DELETE"]),
]
