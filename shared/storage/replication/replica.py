"""A primary backend with a mirror: writes go to both, reads fall over to the replica.

When the primary fails (unreachable, timing out, 5xx) it is skipped for `cooldown_s`, so every request
after the first does not pay the timeout again. Objects written while the primary was down exist only on
the replica, so a read that finds nothing on the primary also asks the replica. Multipart uploads started
on the replica carry an `r:` prefix in their id, so the later part/complete/abort calls find it without
any shared state.

Sides diverge in two ways: a direct upload lands on one side only (the client PUTs to a presigned URL),
and a mirrored write carries on when one side drops out. `sync_object()` copies one object to the side
that lacks it, streamed (GET → equal-part multipart PUT, one part in memory); a write that lost a side
is reported to `journal` (by default `journal.record_divergence`, a row of `replication_queue`) so
`replicate.py` copies it later. Without a journal only a warning is logged and
`python -m shared.storage.replication.replicate --full` repairs it.

Deletion wins. An object on one side only is ambiguous (written while the other side was down, or
deleted while it was down), so a delete that misses a side is journalled as a *delete* (op `delete`),
which the drain carries out instead of copying the leftover back. A copy racing a delete is undone by
the copier itself: after writing the target it asks the source again, and if the object is gone there
it deletes its copy (`SyncResult("deleted")`). The re-check suffices only if each delete reaches the
target after the source, whichever way the copy runs, hence the order primary, replica, primary: a copier
that still finds its source after writing looked before the delete reached the source, so its copy was
there for the delete's later step on the other side. Keys are never reused: a deleted object stays gone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio

from shared.storage.base import (
    DEFAULT_CONTENT_TYPE,
    CompletedPart,
    HealthStatus,
    ListedObject,
    ObjectInfo,
    ObjectStream,
    ObjectWriter,
    Storage,
    put_stream,
)
from shared.storage.errors import ObjectNotFound, StorageError, StorageUnavailable
from shared.storage.keys import Bucket
from shared.storage.replication.journal import record_divergence

log = logging.getLogger("storage.replica")
T = TypeVar("T")
_REPLICA_TAG = "r:"
Journal = Callable[[Bucket, str, str, str], Awaitable[None]]  # (bucket, key, why, op): do op later


@dataclass(frozen=True)
class SyncResult:
    """What `sync_object` did: `copied` (with its direction), `in_sync`, `gone` (on neither side), or
    `deleted` (deleted while being copied, or queued as a delete: removed from both sides)."""

    outcome: str
    size: int = 0
    source: str = ""
    target: str = ""


def _etag(info: ObjectInfo) -> str:
    return info.etag.strip().strip('"')


def same_object(a: ObjectInfo, b: ObjectInfo) -> bool:
    """Equal sizes and ETags. A multipart ETag (`<md5>-<parts>`) depends on the part layout, which a copy
    need not share, so when either side has one, equal sizes are the evidence (keys are never reused)."""
    if a.size != b.size:
        return False
    ea, eb = _etag(a), _etag(b)
    return ea == eb or "-" in ea or "-" in eb


async def head_or_none(backend: Storage, bucket: Bucket, key: str) -> ObjectInfo | None:
    try:
        return await backend.head(bucket, key)
    except ObjectNotFound:
        return None


async def copy_object(source: Storage, target: Storage, bucket: Bucket, key: str) -> ObjectInfo:
    """Stream one object across endpoints (no server-side copy between accounts). The target's writer
    sends equal parts of `part_size_for(size)` and holds one part at a time; the result is verified."""
    stream = await source.get(bucket, key)
    try:
        info = await put_stream(
            target, bucket, key, stream, content_type=stream.info.content_type, size_hint=stream.info.size
        )
    finally:
        await stream.aclose()
    if info.size != stream.info.size:
        raise StorageUnavailable(f"copy of {bucket}/{key} has {info.size} bytes, the source {stream.info.size}")
    return info


class MirroredWriter:
    """Feeds every chunk to each live writer; a writer that becomes unavailable is dropped, not fatal."""

    def __init__(
        self,
        writers: list[tuple[str, ObjectWriter]],
        on_failure: Callable[[str], None],
        on_diverged: Callable[[list[str]], Awaitable[None]] | None = None,
    ) -> None:
        self._writers = writers
        self._on_failure = on_failure
        self._on_diverged = on_diverged
        self.dropped: list[str] = []

    async def _each(self, op: Callable[[ObjectWriter], Awaitable[Any]]) -> list[Any]:
        results: dict[str, Any] = {}
        errors: dict[str, StorageError] = {}

        async def run(label: str, writer: ObjectWriter) -> None:
            try:
                results[label] = await op(writer)
            except StorageUnavailable as exc:
                errors[label] = exc

        async with anyio.create_task_group() as group:
            for label, writer in self._writers:
                group.start_soon(run, label, writer)
        for label, exc in errors.items():
            log.warning("storage write dropped %s: %s", label, exc)
            self._on_failure(label)
            self.dropped.append(label)
            writer = dict(self._writers)[label]
            await writer.abort()
        self._writers = [(label, writer) for label, writer in self._writers if label not in errors]
        if not self._writers:
            raise StorageUnavailable("; ".join(str(exc) for exc in errors.values()))
        return [results[label] for label, _ in self._writers]

    async def write(self, data: bytes) -> None:
        try:
            await self._each(lambda writer: writer.write(data))
        except BaseException:
            await self.abort()
            raise

    async def commit(self) -> ObjectInfo:
        try:
            infos = await self._each(lambda writer: writer.commit())
        except BaseException:
            await self.abort()
            raise
        if self.dropped and self._on_diverged is not None:
            await self._on_diverged(self.dropped)
        return infos[0]

    async def abort(self) -> None:
        with anyio.CancelScope(shield=True):
            for _label, writer in self._writers:
                await writer.abort()


class ReplicatedStorage:
    name = "replicated"

    def __init__(
        self,
        primary: Storage,
        replica: Storage,
        *,
        cooldown_s: float = 30.0,
        journal: Journal | None = record_divergence,
    ) -> None:
        """The default journal records divergent writes in `replication_queue` when `DB_URL` is set."""
        self.primary = primary
        self.replica = replica
        self.cooldown_s = cooldown_s
        self.journal = journal
        self._primary_down_until = 0.0

    def _mark_down(self, label: str) -> None:
        if label == "primary":
            self._primary_down_until = time.monotonic() + self.cooldown_s

    @property
    def primary_suspect(self) -> bool:
        return time.monotonic() < self._primary_down_until

    def _order(self) -> list[tuple[str, Storage]]:
        both = [("primary", self.primary), ("replica", self.replica)]
        return both[::-1] if self.primary_suspect else both

    async def _read(self, call: Callable[[Storage], Awaitable[T]]) -> T:
        failures: list[str] = []
        missing: ObjectNotFound | None = None
        for label, backend in self._order():
            try:
                return await call(backend)
            except StorageUnavailable as exc:
                failures.append(f"{label}: {exc}")
                self._mark_down(label)
            except ObjectNotFound as exc:
                missing = missing or exc
        if missing is not None:
            raise missing
        raise StorageUnavailable("storage unavailable (" + "; ".join(failures) + ")")

    # objects -----------------------------------------------------------------------------------
    async def open_writer(
        self,
        bucket: Bucket,
        key: str,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        max_bytes: int | None = None,
        size_hint: int | None = None,
    ) -> MirroredWriter:
        writers: list[tuple[str, ObjectWriter]] = []
        for label, backend in self._order():
            writer = await backend.open_writer(
                bucket, key, content_type=content_type, max_bytes=max_bytes, size_hint=size_hint
            )
            writers.append((label, writer))

        async def diverged(dropped: list[str]) -> None:
            await self._record_divergence(bucket, key, f"write missed {', '.join(dropped)}")

        return MirroredWriter(writers, self._mark_down, diverged)

    async def _record_divergence(self, bucket: Bucket, key: str, why: str, op: str = "copy") -> None:
        """Best effort, never fails the write or delete: only the other side is late. A lost note is
        found by `--full` (copies) or by the sweep (a deleted object is an unreferenced orphan)."""
        journal = self.journal
        if journal is None:
            log.warning("storage sides diverged on %s/%s (%s); run the replicate job with --full", bucket, key, why)
            return
        try:
            with anyio.CancelScope(shield=True), anyio.fail_after(5):
                await journal(bucket, key, why, op)
        except Exception as exc:  # noqa: BLE001 - a lost note is repaired by --full; the write succeeded
            log.error("could not queue %s/%s for replication (%s): %s", bucket, key, why, exc)

    async def head(self, bucket: Bucket, key: str) -> ObjectInfo:
        return await self._read(lambda backend: backend.head(bucket, key))

    async def get(self, bucket: Bucket, key: str, *, start: int = 0, end: int | None = None) -> ObjectStream:
        return await self._read(lambda backend: backend.get(bucket, key, start=start, end=end))

    async def _delete_everywhere(self, bucket: Bucket, key: str) -> dict[str, str]:
        """Primary, replica, primary again (see the module docstring); the sides that failed, with why.
        The extra request is cheap next to a copier re-creating a deleted object on the primary."""
        failed: dict[str, str] = {}
        for label, backend in (("primary", self.primary), ("replica", self.replica), ("primary", self.primary)):
            if label in failed:
                continue
            try:
                await backend.delete(bucket, key)
            except StorageUnavailable as exc:
                failed[label] = f"{label}: {exc}"
                self._mark_down(label)
        return failed

    async def delete(self, bucket: Bucket, key: str) -> None:
        """Deleted on both. A side that could not be reached gets a queued delete (the drain removes the
        leftover there rather than copying it back); `StorageUnavailable` only when neither was reached."""
        failed = await self._delete_everywhere(bucket, key)
        if failed:
            await self._record_divergence(bucket, key, f"delete missed {', '.join(failed)}", op="delete")
        if len(failed) == 2:
            raise StorageUnavailable("; ".join(failed.values()))

    async def purge(self, bucket: Bucket, key: str) -> SyncResult:
        """Carry out a queued delete: like `delete`, but a missed side raises instead of queueing again,
        so the caller keeps its row and retries with backoff."""
        failed = await self._delete_everywhere(bucket, key)
        if failed:
            raise StorageUnavailable("; ".join(failed.values()))
        return SyncResult("deleted")

    async def list(self, bucket: Bucket, prefix: str = "") -> AsyncIterator[ListedObject]:
        for label, backend in self._order():
            try:
                async for item in backend.list(bucket, prefix):
                    yield item
                return
            except StorageUnavailable:
                self._mark_down(label)
        raise StorageUnavailable("neither primary nor replica storage can list objects")

    async def sync_object(self, bucket: Bucket, key: str) -> SyncResult:
        """Make both sides hold the object: copy it to the side that lacks it (the primary's wins when
        both differ). A direct upload made while the primary was suspect lives on the replica only, so
        the direction is decided here, not by the caller. `StorageUnavailable` when a side is down.
        Only for objects queued as copies: a leftover of a delete that missed a side looks the same here,
        which is why such deletes are queued as deletes and carried out by `purge`."""
        on_primary = await head_or_none(self.primary, bucket, key)
        on_replica = await head_or_none(self.replica, bucket, key)
        if on_primary is None and on_replica is None:
            return SyncResult("gone")
        if on_primary is not None and on_replica is not None and same_object(on_primary, on_replica):
            return SyncResult("in_sync", on_primary.size)
        labels = ("primary", "replica") if on_primary is not None else ("replica", "primary")
        sides = {"primary": self.primary, "replica": self.replica}
        source, target = sides[labels[0]], sides[labels[1]]
        try:
            size = (await copy_object(source, target, bucket, key)).size
        except ObjectNotFound:  # deleted since the HEAD; the delete may have missed the target
            size = -1
        # Deletion wins: if a delete reached the source meanwhile, its step on the target may have come
        # before our copy landed. A source that is still there now is deleted after our copy, if at all.
        if size < 0 or await head_or_none(source, bucket, key) is None:
            try:
                await target.delete(bucket, key)
            except StorageUnavailable:  # a retry as a copy would copy it back: make the row a delete
                await self._record_divergence(bucket, key, f"undoing a copy to the {labels[1]} failed", "delete")
                raise
            return SyncResult("deleted", 0, *labels)
        return SyncResult("copied", size, *labels)

    async def mirror(self, bucket: Bucket, key: str) -> SyncResult:
        """Copy one directly uploaded object to the other side (kept for callers of the old name)."""
        return await self.sync_object(bucket, key)

    # URLs --------------------------------------------------------------------------------------
    def public_url(self, key: str) -> str:
        return self.primary.public_url(key)

    async def presign_get(self, bucket: Bucket, key: str, *, expires_in: int, filename: str | None = None) -> str:
        """Signed on whichever side answers a HEAD for the object, so the URL points where the bytes are."""

        async def sign(backend: Storage) -> str:
            await backend.head(bucket, key)
            return await backend.presign_get(bucket, key, expires_in=expires_in, filename=filename)

        return await self._read(sign)

    async def presign_put(
        self,
        bucket: Bucket,
        key: str,
        *,
        expires_in: int,
        content_type: str | None = None,
        max_bytes: int | None = None,
    ) -> str:
        backend = self._order()[0][1]
        return await backend.presign_put(
            bucket, key, expires_in=expires_in, content_type=content_type, max_bytes=max_bytes
        )

    # multipart ---------------------------------------------------------------------------------
    def _for_upload(self, upload_id: str) -> tuple[Storage, str]:
        if upload_id.startswith(_REPLICA_TAG):
            return self.replica, upload_id[len(_REPLICA_TAG) :]
        return self.primary, upload_id

    async def create_multipart(self, bucket: Bucket, key: str, *, content_type: str = DEFAULT_CONTENT_TYPE) -> str:
        failures: list[str] = []
        for label, backend in self._order():
            try:
                upload_id = await backend.create_multipart(bucket, key, content_type=content_type)
                return _REPLICA_TAG + upload_id if label == "replica" else upload_id
            except StorageUnavailable as exc:
                failures.append(f"{label}: {exc}")
                self._mark_down(label)
        raise StorageUnavailable("; ".join(failures))

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
        backend, real_id = self._for_upload(upload_id)
        return await backend.presign_part(bucket, key, real_id, part_number, expires_in=expires_in, max_bytes=max_bytes)

    async def complete_multipart(
        self, bucket: Bucket, key: str, upload_id: str, parts: Sequence[CompletedPart]
    ) -> ObjectInfo:
        backend, real_id = self._for_upload(upload_id)
        return await backend.complete_multipart(bucket, key, real_id, parts)

    async def abort_multipart(self, bucket: Bucket, key: str, upload_id: str) -> None:
        backend, real_id = self._for_upload(upload_id)
        await backend.abort_multipart(bucket, key, real_id)

    async def check(self) -> dict[str, HealthStatus]:
        primary = await self.primary.check()
        replica = await self.replica.check()
        return {"primary": next(iter(primary.values())), "replica": next(iter(replica.values()))}


def is_replicated(storage: object) -> bool:
    return isinstance(storage, ReplicatedStorage)
