"""`/api/files`: what the local storage backend's signed URLs and public image URLs point at.

With R2 configured, clients talk to R2 directly and these routes answer 404. Locally they play R2's part:
GET (with `Range`) and PUT (whole object, or one part of a multipart upload), each allowed only by a URL
signed for exactly that bucket, key, operation and expiry. A bad signature is 403; an expired one is also
403 (`access_denied`, "link expired"), as R2 and S3 answer, so clients handle both backends alike. Images
are public without a signature, as behind `BASE_IMG_URL`.
"""

from __future__ import annotations

from email.utils import format_datetime

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from functions.files.inputs import parse_range
from shared.config import get_settings
from shared.http.errors import ApiError
from shared.storage.backends.local import FILES_ROUTE, LocalStorage, signing
from shared.storage.disposition import attachment
from shared.storage.errors import InvalidRange, MalformedForm, TooLarge
from shared.storage.factory import get_storage
from shared.storage.keys import check_bucket


def _local() -> LocalStorage:
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        raise ApiError("not_found")
    return storage


def _params(request: Request) -> tuple[str, str]:
    bucket = request.path_params["bucket"]
    check_bucket(bucket)
    return bucket, request.path_params["key"]


async def read_object(request: Request) -> Response:
    storage = _local()
    bucket, key = _params(request)
    filename = ""
    if "sig" in request.query_params:
        grant = signing.verify(bucket, key, request.query_params, storage.secret, ops=("get",))
        filename = grant.filename
        cache = "private, no-store"
    elif bucket == "images":
        cache = "public, max-age=31536000, immutable"  # image keys are never reused
    else:
        raise ApiError("access_denied", "a signed URL is required for this file")
    info = await storage.head(bucket, key)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": info.etag,
        "Cache-Control": cache,
        "Content-Type": info.content_type,
    }
    if info.last_modified:
        headers["Last-Modified"] = format_datetime(info.last_modified, usegmt=True)
    if filename:
        headers["Content-Disposition"] = attachment(filename)
    if request.headers.get("if-none-match") == info.etag:
        return Response(status_code=304, headers={k: v for k, v in headers.items() if k != "Content-Type"})
    try:
        wanted = parse_range(request.headers.get("range"), info.size)
    except InvalidRange:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{info.size}"})
    status = 200
    start, end = 0, info.size - 1
    if wanted is not None:
        status, (start, end) = 206, wanted
        headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
    headers["Content-Length"] = str(max(end - start + 1, 0))
    if request.method == "HEAD" or info.size == 0:
        return Response(status_code=status, headers=headers)
    stream = await storage.get(bucket, key, start=start, end=end)
    return StreamingResponse(stream.chunks, status_code=status, headers=headers)


async def write_object(request: Request) -> Response:
    storage = _local()
    bucket, key = _params(request)
    grant = signing.verify(bucket, key, request.query_params, storage.secret, ops=("put", "part"))
    limit = grant.max_bytes or get_settings().max_archive_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the body is larger than the limit of {limit} bytes", limit=limit)
    if grant.op == "put":
        content_type = grant.content_type or request.headers.get("content-type") or "application/octet-stream"
        writer = await storage.open_writer(bucket, key, content_type=content_type, max_bytes=limit)
    else:
        writer = await storage.open_part_writer(
            bucket, key, grant.upload_id, grant.part_number, max_bytes=limit, part_size=grant.max_bytes or None
        )
    try:
        async for chunk in request.stream():
            if chunk:
                await writer.write(chunk)
        info = await writer.commit()
    except ClientDisconnect:
        await writer.abort()
        raise MalformedForm("the client disconnected before the body was complete") from None
    except BaseException:
        await writer.abort()
        raise
    return Response(status_code=200, headers={"ETag": info.etag})


routes = [
    Route(FILES_ROUTE + "/{bucket}/{key:path}", read_object, methods=["GET", "HEAD"]),
    Route(FILES_ROUTE + "/{bucket}/{key:path}", write_object, methods=["PUT"]),
]
