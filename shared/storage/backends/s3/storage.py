"""R2/S3 backend through boto3. Every blocking call runs in a worker thread; errors become ours.

Logical buckets (`images`, `files`) map to the endpoint's real bucket names. Multipart completion checks
part sizes with `list_parts` first, because R2 rejects unequal parts and moto (our test server) does not:
checking here gives the same answer everywhere.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from anyio import to_thread

from shared.storage.backends.s3.client import LazyClient, S3Endpoint, translate
from shared.storage.backends.s3.writer import S3Writer
from shared.storage.base import (
    DEFAULT_CONTENT_TYPE,
    CompletedPart,
    HealthStatus,
    ListedObject,
    ObjectInfo,
    ObjectStream,
    resolve_range,
)
from shared.storage.disposition import attachment
from shared.storage.errors import InvalidMultipart, ObjectNotFound, StorageError
from shared.storage.keys import Bucket, check_bucket, check_key
from shared.storage.parts import check_part_list, check_part_sizes

READ_CHUNK = 256 * 1024


class S3Storage:
    name = "s3"

    def __init__(self, endpoint: S3Endpoint, *, public_base: str = "") -> None:
        self.endpoint = endpoint
        self.client = LazyClient(endpoint)
        self.public_base = public_base.rstrip("/")

    def _bucket(self, bucket: str) -> str:
        return self.endpoint.buckets[check_bucket(bucket)]

    async def _call(self, what: str, method: str, **kwargs: Any) -> Any:
        client = await to_thread.run_sync(self.client.get)
        try:
            return await to_thread.run_sync(lambda: getattr(client, method)(**kwargs))
        except StorageError:
            raise
        except Exception as exc:
            raise translate(exc, self.endpoint.label, what) from exc

    # objects -----------------------------------------------------------------------------------
    async def open_writer(
        self,
        bucket: Bucket,
        key: str,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        max_bytes: int | None = None,
        size_hint: int | None = None,
    ) -> S3Writer:
        return S3Writer(
            self.client,
            bucket,
            self._bucket(bucket),
            check_key(key),
            content_type=content_type,
            max_bytes=max_bytes,
            size_hint=size_hint,
            info=self.head,
        )

    async def head(self, bucket: Bucket, key: str) -> ObjectInfo:
        answer = await self._call(
            f"head {bucket}/{key}", "head_object", Bucket=self._bucket(bucket), Key=check_key(key)
        )
        return ObjectInfo(
            bucket,
            key,
            int(answer.get("ContentLength", 0)),
            answer.get("ContentType") or DEFAULT_CONTENT_TYPE,
            answer.get("ETag", ""),
            answer.get("LastModified"),
        )

    async def get(self, bucket: Bucket, key: str, *, start: int = 0, end: int | None = None) -> ObjectStream:
        info = await self.head(bucket, key)
        first, last = resolve_range(info.size, start, end)
        if info.size == 0:
            return ObjectStream(info, 0, -1, _empty())
        answer = await self._call(
            f"get {bucket}/{key}",
            "get_object",
            Bucket=self._bucket(bucket),
            Key=key,
            Range=f"bytes={first}-{last}",
        )
        return ObjectStream(info, first, last, self._read(answer["Body"], f"read {bucket}/{key}"))

    async def _read(self, body: Any, what: str) -> AsyncIterator[bytes]:
        try:
            while True:
                try:
                    chunk = await to_thread.run_sync(body.read, READ_CHUNK)
                except Exception as exc:
                    raise translate(exc, self.endpoint.label, what) from exc
                if not chunk:
                    break
                yield chunk
        finally:
            body.close()

    async def delete(self, bucket: Bucket, key: str) -> None:
        await self._call(f"delete {bucket}/{key}", "delete_object", Bucket=self._bucket(bucket), Key=check_key(key))

    async def list(self, bucket: Bucket, prefix: str = "") -> AsyncIterator[ListedObject]:
        real = self._bucket(bucket)
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": real, "Prefix": prefix, "MaxKeys": 1000}
            if token:
                kwargs["ContinuationToken"] = token
            page = await self._call(f"list {bucket}", "list_objects_v2", **kwargs)
            for item in page.get("Contents", []):
                yield ListedObject(item["Key"], int(item["Size"]), item["LastModified"])
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    # URLs --------------------------------------------------------------------------------------
    def public_url(self, key: str) -> str:
        check_key(key)
        if self.public_base:
            return f"{self.public_base}/{key}"
        return f"{self.endpoint.endpoint_url.rstrip('/')}/{self._bucket('images')}/{key}"

    async def _presign(self, method: str, params: dict[str, Any], expires_in: int) -> str:
        client = await to_thread.run_sync(self.client.get)
        return client.generate_presigned_url(method, Params=params, ExpiresIn=expires_in, HttpMethod=None)

    async def presign_get(self, bucket: Bucket, key: str, *, expires_in: int, filename: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self._bucket(bucket), "Key": check_key(key)}
        if filename:
            params["ResponseContentDisposition"] = attachment(filename)
        return await self._presign("get_object", params, expires_in)

    async def presign_put(
        self,
        bucket: Bucket,
        key: str,
        *,
        expires_in: int,
        content_type: str | None = None,
        max_bytes: int | None = None,
    ) -> str:
        # R2 cannot cap a presigned PUT's size; the uploads route checks the size on completion instead.
        params: dict[str, Any] = {"Bucket": self._bucket(bucket), "Key": check_key(key)}
        if content_type:
            params["ContentType"] = content_type
        return await self._presign("put_object", params, expires_in)

    # multipart ---------------------------------------------------------------------------------
    async def create_multipart(self, bucket: Bucket, key: str, *, content_type: str = DEFAULT_CONTENT_TYPE) -> str:
        answer = await self._call(
            "create multipart",
            "create_multipart_upload",
            Bucket=self._bucket(bucket),
            Key=check_key(key),
            ContentType=content_type,
        )
        return answer["UploadId"]

    async def presign_part(
        self,
        bucket: Bucket,
        key: str,
        upload_id: str,
        part_number: int,
        *,
        expires_in: int,
        max_bytes: int | None = None,
    ) -> str:
        params = {
            "Bucket": self._bucket(bucket),
            "Key": check_key(key),
            "UploadId": upload_id,
            "PartNumber": part_number,
        }
        return await self._presign("upload_part", params, expires_in)

    async def _part_sizes(self, real: str, key: str, upload_id: str) -> dict[int, tuple[int, str]]:
        sizes: dict[int, tuple[int, str]] = {}
        marker = 0
        while True:
            page = await self._call(
                "list parts", "list_parts", Bucket=real, Key=key, UploadId=upload_id, PartNumberMarker=marker
            )
            for part in page.get("Parts", []):
                sizes[int(part["PartNumber"])] = (int(part["Size"]), part["ETag"].strip('"'))
            if not page.get("IsTruncated"):
                return sizes
            marker = int(page["NextPartNumberMarker"])

    async def complete_multipart(
        self, bucket: Bucket, key: str, upload_id: str, parts: Sequence[CompletedPart]
    ) -> ObjectInfo:
        real = self._bucket(bucket)
        check_part_list([part.part_number for part in parts])
        uploaded = await self._part_sizes(real, check_key(key), upload_id)
        for part in parts:
            size_etag = uploaded.get(part.part_number)
            if size_etag is None:
                raise InvalidMultipart(f"part {part.part_number} was never uploaded", field="parts")
            if size_etag[1] != part.etag.strip().strip('"'):
                raise InvalidMultipart(f"part {part.part_number} has a different ETag", field="parts")
        check_part_sizes([uploaded[part.part_number][0] for part in parts])
        listed = [{"PartNumber": part.part_number, "ETag": uploaded[part.part_number][1]} for part in parts]
        await self._call(
            "complete multipart",
            "complete_multipart_upload",
            Bucket=real,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": listed},
        )
        return await self.head(bucket, key)

    async def abort_multipart(self, bucket: Bucket, key: str, upload_id: str) -> None:
        with contextlib.suppress(ObjectNotFound):
            await self._call(
                "abort multipart",
                "abort_multipart_upload",
                Bucket=self._bucket(bucket),
                Key=check_key(key),
                UploadId=upload_id,
            )

    # maintenance -------------------------------------------------------------------------------
    async def check(self) -> dict[str, HealthStatus]:
        started = time.perf_counter()
        try:
            for bucket in ("images", "files"):
                await self._call(f"check {bucket}", "head_bucket", Bucket=self._bucket(bucket))
            status = HealthStatus(True, f"{self.endpoint.label} {self.endpoint.endpoint_url}")
        except StorageError as exc:
            status = HealthStatus(False, str(exc))
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        return {self.endpoint.label: HealthStatus(status.ok, status.detail, elapsed)}


async def _empty() -> AsyncIterator[bytes]:
    return
    yield b""
