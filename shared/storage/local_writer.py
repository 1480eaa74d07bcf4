"""Streaming writers for the local backend: bytes go to a file descriptor, written in a worker thread.

Chunks arrive from uvicorn in 64-256 KiB pieces. They are kept as they are (no copying into a buffer) and
handed to a worker thread in batches of about 256 KiB (one `pwrite`/`pwritev` each). The write of one
batch overlaps the arrival of the next: `write` only waits for the previous batch when the next one is
ready, so the socket and the disk are busy at the same time while at most two batches are held. Batches
are kept small on purpose: bytes written right after they arrived are still in the CPU cache; measured
on a 1 GiB upload, 4 MiB batches cost ~1.5x the CPU of 256 KiB ones in the kernel's page-cache copy.

`LocalWriter` writes a temp file that `commit` hands to a finisher (which renames it into place);
`local_multipart.PartWriter` writes one part at its offset inside the upload's data file.
`abort` is synchronous on purpose: it must still clean up when the task is being cancelled; a batch still
being written in a thread then closes the file when it is done, never under its feet.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from shared.storage.base import ObjectInfo
from shared.storage.errors import TooLarge

FLUSH_AT = 256 * 1024
_IOV_MAX = 1024  # Linux's limit on iovecs per pwritev call
_OPEN_FLAGS = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
_pwritev = getattr(os, "pwritev", None)


def file_etag(st: os.stat_result) -> str:
    """Size and mtime, not a content hash: hashing would halve local upload throughput for no gain."""
    return f'"{st.st_size:x}-{st.st_mtime_ns:x}"'


# Called in a worker thread with the closed temp file and its size; moves it into place.
Finisher = Callable[[Path, int], ObjectInfo]


def write_at(fd: int, batch: list[bytes], offset: int) -> None:
    """Write every chunk of `batch` at `offset`: one `pwritev` per 1024 chunks, unless the kernel writes short."""
    for start in range(0, len(batch), _IOV_MAX):
        group = batch[start : start + _IOV_MAX]
        if len(group) > 1 and _pwritev is not None:
            done = _pwritev(fd, group, offset)
        else:
            done = os.pwrite(fd, group[0], offset) if len(group) == 1 else 0
        offset += done
        for chunk in group:  # whatever a short write left over, chunk by chunk
            if done >= len(chunk):
                done -= len(chunk)
                continue
            view, done = memoryview(chunk)[done:], 0
            while view:
                written = os.pwrite(fd, view, offset)
                view, offset = view[written:], offset + written


class BatchWriter:
    """The batching and size limit shared by the local writers; subclasses say where the bytes go.

    `_open` runs in a worker thread before the first batch and returns the descriptor and the offset of
    byte 0; `_finish` runs in a worker thread after the last batch, with the descriptor still open, and
    must close it; `_discard` runs (on the event loop, synchronously) after the descriptor is closed.
    """

    def __init__(self, *, max_bytes: int | None = None) -> None:
        self._max = max_bytes
        self._fd: int | None = None
        self._base = 0
        self._written = 0  # bytes handed to a batch (their offset is _base + what was before them)
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._inflight: asyncio.Future[None] | None = None
        self._closed = False
        self.size = 0

    # subclass hooks ---------------------------------------------------------------------------------
    def _open(self) -> tuple[int, int]:
        raise NotImplementedError

    def _finish(self, fd: int) -> ObjectInfo:
        raise NotImplementedError

    def _discard(self) -> None:
        """Remove whatever the writer left behind (temp files, locks)."""

    # writing ----------------------------------------------------------------------------------------
    async def write(self, data: bytes) -> None:
        if self._closed:
            raise RuntimeError("writer is closed")
        size = len(data)
        if not size:
            return
        self.size += size
        if self._max is not None and self.size > self._max:
            await self.abort()
            raise TooLarge(f"the file is larger than the limit of {self._max} bytes", limit=self._max)
        self._pending.append(data)
        self._pending_bytes += size
        if self._pending_bytes >= FLUSH_AT:
            try:
                await self._flush()
            except BaseException:
                await self.abort()
                raise

    async def _flush(self) -> None:
        """Wait for the batch in flight, then start writing the pending one without waiting for it."""
        if self._inflight is not None:
            inflight, self._inflight = self._inflight, None
            await inflight
        if not self._pending:
            return
        batch, self._pending, self._pending_bytes = self._pending, [], 0
        offset = self._written
        self._written += sum(len(chunk) for chunk in batch)
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, self._write_batch, batch, offset)
        future.add_done_callback(_consume_exception)  # an aborted writer may never await it
        self._inflight = future

    def _write_batch(self, batch: list[bytes], offset: int) -> None:
        if self._closed:
            return
        if self._fd is None:
            self._fd, self._base = self._open()
        write_at(self._fd, batch, self._base + offset)

    async def commit(self) -> ObjectInfo:
        if self._closed:
            raise RuntimeError("writer is closed")
        try:
            await self._flush()
            await self._flush()  # wait for the last batch
            loop = asyncio.get_running_loop()
            info = await loop.run_in_executor(None, self._open_and_finish)
        except BaseException:
            await self.abort()
            raise
        self._closed = True
        return info

    def _open_and_finish(self) -> ObjectInfo:
        if self._fd is None:
            self._fd, self._base = self._open()
        fd, self._fd = self._fd, None
        return self._finish(fd)

    async def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pending = []
        inflight, self._inflight = self._inflight, None
        if inflight is not None and not inflight.done():
            # a batch is being written in a thread: close and clean up once it is done
            inflight.add_done_callback(lambda _: self._close_and_discard())
            return
        self._close_and_discard()

    def _close_and_discard(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            self._discard()


def _consume_exception(future: asyncio.Future[None] | Future[None]) -> None:
    if not future.cancelled():
        future.exception()


class LocalWriter(BatchWriter):
    """A new object: a temp file under `tmp_dir`, renamed into place by `finish` on commit."""

    def __init__(self, tmp_dir: Path, finish: Finisher, *, max_bytes: int | None = None) -> None:
        super().__init__(max_bytes=max_bytes)
        self._tmp = tmp_dir / f"{uuid.uuid4().hex}.tmp"
        self._finisher = finish

    def _open(self) -> tuple[int, int]:
        self._tmp.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self._tmp, _OPEN_FLAGS | os.O_CREAT | os.O_EXCL, 0o644), 0

    def _finish(self, fd: int) -> ObjectInfo:
        os.close(fd)
        return self._finisher(self._tmp, self.size)

    def _discard(self) -> None:
        os.unlink(self._tmp)
