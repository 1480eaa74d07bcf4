"""Streaming writer for R2/S3: small objects go up in one PUT, big ones as a multipart upload.

Parts are all `part_size` bytes except the last (R2 rejects anything else); the size comes from the
declared size when known, else 8 MiB, which still allows 80 GiB. One part is buffered, none is in
flight at a time (sent as soon as it fills), so memory stays near one part however big the file is.
Each part is filled to exactly `part_size` and handed to boto3 as the buffer itself: incoming bytes
are copied once, into the part, never again.
"""

from __future__ import annotations

import contextlib
from typing import Any

import anyio
from anyio import to_thread

from shared.storage.backends.s3.client import LazyClient, translate
from shared.storage.base import ObjectInfo
from shared.storage.errors import StorageError, TooLarge
from shared.storage.parts import PREFERRED_MIN_PART, part_size_for


class S3Writer:
    def __init__(
        self,
        client: LazyClient,
        bucket: str,
        real_bucket: str,
        key: str,
        *,
        content_type: str,
        max_bytes: int | None,
        size_hint: int | None,
        info: Any,
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._real = real_bucket
        self._key = key
        self._content_type = content_type
        self._max = max_bytes
        self._part_size = part_size_for(size_hint) if size_hint else PREFERRED_MIN_PART
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._closed = False
        self._head_object = info  # coroutine factory: (bucket, key) -> ObjectInfo
        self.size = 0

    async def _call(self, what: str, method: str, **kwargs: Any) -> Any:
        client = await to_thread.run_sync(self._client.get)
        try:
            return await to_thread.run_sync(lambda: getattr(client, method)(**kwargs))
        except StorageError:
            raise
        except Exception as exc:
            raise translate(exc, self._client.endpoint.label, what) from exc

    async def write(self, data: bytes) -> None:
        if self._closed:
            raise RuntimeError("writer is closed")
        self.size += len(data)
        if self._max is not None and self.size > self._max:
            await self.abort()
            raise TooLarge(f"the file is larger than the limit of {self._max} bytes", limit=self._max)
        rest = memoryview(data)
        while rest:
            room = self._part_size - len(self._buffer)
            self._buffer += rest[:room]
            rest = rest[room:]
            if len(self._buffer) == self._part_size:  # a full part: sent as it is, no copy
                part, self._buffer = self._buffer, bytearray()
                await self._flush_part(part)

    async def _flush_part(self, body: bytes | bytearray) -> None:
        if self._upload_id is None:
            created = await self._call(
                "create multipart", "create_multipart_upload", Bucket=self._real, Key=self._key,
                ContentType=self._content_type,
            )  # fmt: skip
            self._upload_id = created["UploadId"]
        number = len(self._parts) + 1
        answer = await self._call(
            f"upload part {number}", "upload_part", Bucket=self._real, Key=self._key,
            UploadId=self._upload_id, PartNumber=number, Body=body,
        )  # fmt: skip
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    async def commit(self) -> ObjectInfo:
        if self._closed:
            raise RuntimeError("writer is closed")
        try:
            if self._upload_id is None:
                await self._call(
                    "put", "put_object", Bucket=self._real, Key=self._key, Body=bytes(self._buffer),
                    ContentType=self._content_type,
                )  # fmt: skip
            else:
                if self._buffer:
                    await self._flush_part(self._buffer)
                await self._call(
                    "complete multipart", "complete_multipart_upload", Bucket=self._real, Key=self._key,
                    UploadId=self._upload_id, MultipartUpload={"Parts": self._parts},
                )  # fmt: skip
            self._buffer = bytearray()
            info = await self._head_object(self._bucket, self._key)
        except BaseException:
            await self.abort()
            raise
        self._closed = True
        return info

    async def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._buffer = bytearray()
        if self._upload_id is not None:
            with anyio.CancelScope(shield=True):
                # On failure R2 still expires the abandoned upload (its lifecycle default is 7 days).
                with contextlib.suppress(StorageError):
                    await self._call(
                        "abort multipart", "abort_multipart_upload", Bucket=self._real, Key=self._key,
                        UploadId=self._upload_id,
                    )  # fmt: skip
