"""The one small protocol every storage backend implements, and the value types it speaks.

A backend is push-style for writes (`open_writer` → `write` … `commit`/`abort`) because both callers
produce bytes as they arrive: the streamed form parser and the signed-PUT route. `put_stream` adapts an
async iterator to that. Reads are pull-style (`get` returns an `ObjectStream`). Everything that can touch
the network is async; presigning is async too because the replicated backend may probe health first.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from shared.storage.errors import InvalidRange
from shared.storage.keys import Bucket

DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    content_type: str
    etag: str
    last_modified: datetime | None = None


@dataclass(frozen=True)
class ListedObject:
    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class CompletedPart:
    part_number: int
    etag: str


@dataclass
class ObjectStream:
    """An open read: `info` describes the whole object; `chunks` yields bytes `start`..`end` inclusive."""

    info: ObjectInfo
    start: int
    end: int
    chunks: AsyncIterator[bytes]

    @property
    def length(self) -> int:
        return self.end - self.start + 1 if self.info.size else 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.chunks

    async def aclose(self) -> None:
        aclose = getattr(self.chunks, "aclose", None)
        if aclose is not None:
            await aclose()


@dataclass(frozen=True)
class HealthStatus:
    ok: bool
    detail: str = ""
    latency_ms: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.ok


class ObjectWriter(Protocol):
    """One object being written. Nothing is visible under the key until `commit` succeeds."""

    async def write(self, data: bytes) -> None:
        """Append bytes; raises `TooLarge` (after aborting) when the writer's limit is crossed."""

    async def commit(self) -> ObjectInfo: ...

    async def abort(self) -> None:
        """Discard everything written so far; safe to call twice or after a failed write."""


@runtime_checkable
class Storage(Protocol):
    name: str

    async def open_writer(
        self,
        bucket: Bucket,
        key: str,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        max_bytes: int | None = None,
        size_hint: int | None = None,
    ) -> ObjectWriter: ...

    async def get(self, bucket: Bucket, key: str, *, start: int = 0, end: int | None = None) -> ObjectStream: ...

    async def head(self, bucket: Bucket, key: str) -> ObjectInfo: ...

    async def delete(self, bucket: Bucket, key: str) -> None:
        """Idempotent: deleting a missing object is not an error."""

    def public_url(self, key: str) -> str:
        """Absolute URL of an object in the public images bucket."""

    async def presign_get(self, bucket: Bucket, key: str, *, expires_in: int, filename: str | None = None) -> str: ...

    async def presign_put(
        self,
        bucket: Bucket,
        key: str,
        *,
        expires_in: int,
        content_type: str | None = None,
        max_bytes: int | None = None,
    ) -> str:
        """A URL for one PUT of the whole object; `max_bytes` is enforced where the backend can."""

    async def create_multipart(self, bucket: Bucket, key: str, *, content_type: str = DEFAULT_CONTENT_TYPE) -> str:
        """Start a multipart upload and return its id."""

    async def presign_part(
        self,
        bucket: Bucket,
        key: str,
        upload_id: str,
        part_number: int,
        *,
        expires_in: int,
        max_bytes: int | None = None,
    ) -> str: ...

    async def complete_multipart(
        self, bucket: Bucket, key: str, upload_id: str, parts: Sequence[CompletedPart]
    ) -> ObjectInfo: ...

    async def abort_multipart(self, bucket: Bucket, key: str, upload_id: str) -> None: ...

    def list(self, bucket: Bucket, prefix: str = "") -> AsyncIterator[ListedObject]: ...

    async def check(self) -> dict[str, HealthStatus]:
        """Readiness per component (e.g. `{"primary": ..., "replica": ...}`), with short timeouts."""


async def put_stream(
    storage: Storage,
    bucket: Bucket,
    key: str,
    chunks: AsyncIterable[bytes],
    *,
    content_type: str = DEFAULT_CONTENT_TYPE,
    max_bytes: int | None = None,
    size_hint: int | None = None,
) -> ObjectInfo:
    """Store an async stream of bytes; on any failure (including `TooLarge`) nothing is left behind."""
    writer = await storage.open_writer(bucket, key, content_type=content_type, max_bytes=max_bytes, size_hint=size_hint)
    try:
        async for chunk in chunks:
            if chunk:
                await writer.write(chunk)
        return await writer.commit()
    except BaseException:
        await writer.abort()
        raise


async def put_bytes(
    storage: Storage, bucket: Bucket, key: str, data: bytes, *, content_type: str = DEFAULT_CONTENT_TYPE
) -> ObjectInfo:
    async def one() -> AsyncIterator[bytes]:
        yield data

    return await put_stream(storage, bucket, key, one(), content_type=content_type, size_hint=len(data))


async def read_bytes(storage: Storage, bucket: Bucket, key: str, *, start: int = 0, end: int | None = None) -> bytes:
    """Read (part of) an object into memory: for small things like the first bytes used for sniffing."""
    stream = await storage.get(bucket, key, start=start, end=end)
    out = bytearray()
    try:
        async for chunk in stream:
            out += chunk
    finally:
        await stream.aclose()
    return bytes(out)


def resolve_range(size: int, start: int, end: int | None) -> tuple[int, int]:
    """Clamp a requested inclusive range to the object; `InvalidRange` when it starts past the end."""
    if start < 0 or (end is not None and end < start):
        raise InvalidRange(f"invalid byte range {start}-{end}")
    if size == 0:
        return 0, -1
    if start >= size:
        raise InvalidRange(f"range starts at {start}, object has {size} bytes")
    last = size - 1 if end is None else min(end, size - 1)
    return start, last
