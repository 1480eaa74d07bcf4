"""Streaming writers for the local backend: bytes go to a file descriptor, written by a thread of their own.

Chunks arrive from uvicorn in 64-256 KiB pieces. They are kept as they are (no copying in the event loop)
and queued, about 256 KiB at a time, to the writer's own thread, which hands each batch to a sink
(`sinks.py`): straight to the disk through `O_DIRECT` where the filesystem allows it, else through the page
cache. The event loop never waits for the disk unless more than two stages are queued, so the socket and
the disk are busy at the same time, and there is no future, executor job or loop wake-up per batch (a
thread-pool hop per batch cost ~20% of the server's CPU on a 1 GiB upload).

`LocalWriter` writes a temp file that `commit` hands to a finisher (which renames it into place);
`multipart.PartWriter` writes one part at its offset inside the upload's data file.
`abort` is synchronous on purpose: it must still clean up when the task is being cancelled; the thread
closes the file and removes it after the write it may be doing, never under its feet.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from queue import Empty, SimpleQueue

from shared.storage.backends.local.sinks import STAGE, BufferedSink, DirectSink, open_sink
from shared.storage.base import ObjectInfo
from shared.storage.errors import TooLarge

FLUSH_AT = 256 * 1024
MAX_QUEUED = 2 * STAGE  # bytes handed to the writer thread and not yet written: the stage being written and the next
ABANDONED_AFTER_S = 3600.0  # no batch, commit or abort for this long: the writer thread gives up
_OPEN_FLAGS = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)


def file_etag(st: os.stat_result) -> str:
    """Size and mtime, not a content hash: hashing would halve local upload throughput for no gain."""
    return f'"{st.st_size:x}-{st.st_mtime_ns:x}"'


# Called in a worker thread with the closed temp file and its size; moves it into place.
Finisher = Callable[[Path, int], ObjectInfo]


class BatchWriter:
    """The batching, size limit and writer thread shared by the local writers; subclasses say where bytes go.

    Each writer has one thread of its own, started with the first batch, that owns the file descriptor:
    `_open` (returns the descriptor and the offset of byte 0), the batch writes, then `_finish` (descriptor
    still open; must close it) or, on abort, closing and `_discard` all run there, in order. The event loop
    only queues batches (`SimpleQueue.put`, no future or wake-up per batch) and waits when more than
    `MAX_QUEUED` bytes are queued, so memory stays bounded and backpressure reaches the socket.
    """

    def __init__(self, *, max_bytes: int | None = None) -> None:
        self._max = max_bytes
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._thread: _WriterThread | None = None
        self._closed = False
        self.size = 0

    # subclass hooks (called in the writer thread) ---------------------------------------------------
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
        if not self._pending:
            return
        batch, size = self._pending, self._pending_bytes
        self._pending, self._pending_bytes = [], 0
        if self._thread is None:
            self._thread = _WriterThread(self)
        await self._thread.put(batch, size)

    async def commit(self) -> ObjectInfo:
        if self._closed:
            raise RuntimeError("writer is closed")
        try:
            await self._flush()
            if self._thread is None:
                self._thread = _WriterThread(self)
            info = await self._thread.finish()
        except BaseException:
            await self.abort()
            raise
        self._closed = True
        return info

    async def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pending = []
        if self._thread is not None:
            self._thread.abort()  # the thread closes and discards after the write it may be doing
        else:
            with contextlib.suppress(OSError):
                self._discard()


class _WriterThread:
    def __init__(self, writer: BatchWriter) -> None:
        self._writer = writer
        self._loop = asyncio.get_running_loop()
        self._queue: SimpleQueue[tuple[list[bytes], int] | str] = SimpleQueue()
        self._lock = threading.Lock()
        self._queued = 0
        self._waiter: asyncio.Future[None] | None = None
        self._done: asyncio.Future[ObjectInfo] = self._loop.create_future()
        self._error: BaseException | None = None
        self._aborted = False
        threading.Thread(target=self._run, name="local-writer", daemon=True).start()

    async def put(self, batch: list[bytes], size: int) -> None:
        if self._error is not None:
            raise self._error
        with self._lock:
            self._queued += size
            full = self._queued > MAX_QUEUED
            if full:
                self._waiter = self._loop.create_future()
                waiter = self._waiter
        self._queue.put((batch, size))
        if full:
            await waiter
            if self._error is not None:
                raise self._error

    async def finish(self) -> ObjectInfo:
        self._queue.put("finish")
        return await asyncio.shield(self._done)

    def abort(self) -> None:
        self._aborted = True
        self._queue.put("abort")

    # the thread -------------------------------------------------------------------------------------
    def _run(self) -> None:
        writer, fd = self._writer, None
        sink: BufferedSink | DirectSink | None = None  # batches arrive in order, so writes are sequential
        while True:
            try:
                item = self._queue.get(timeout=ABANDONED_AFTER_S)
            except Empty:  # the writer was dropped without commit or abort: clean up, free the thread
                self._error, item = TimeoutError("the writer was abandoned"), "abort"
            if isinstance(item, tuple):
                batch, size = item
                if self._error is None and not self._aborted:
                    try:
                        if sink is None:
                            fd, base = writer._open()
                            sink = open_sink(fd, base)
                        sink.write(batch, size)
                    except BaseException as exc:
                        self._error = exc
                del batch, item
                self._written(size)
                continue
            if item == "finish" and not self._aborted:
                try:
                    if self._error is not None:
                        raise self._error
                    if fd is None:
                        fd, _ = writer._open()
                    if sink is not None:
                        sink, last = None, sink
                        last.finish()
                    fd, owned = None, fd
                    self._resolve(writer._finish(owned), None)
                except BaseException as exc:
                    self._resolve(None, exc)
                    continue  # the loop aborts the writer: wait for that
                return
            if sink is not None:
                sink.close()
            if fd is not None:  # abort
                with contextlib.suppress(OSError):
                    os.close(fd)
            with contextlib.suppress(OSError):
                writer._discard()
            return

    def _written(self, size: int) -> None:
        with self._lock:
            self._queued -= size
            waiter = self._waiter if (self._queued <= MAX_QUEUED // 2 or self._error is not None) else None
            if waiter is not None:
                self._waiter = None
        if waiter is not None:
            self._loop.call_soon_threadsafe(_set_result, waiter, None)

    def _resolve(self, info: ObjectInfo | None, error: BaseException | None) -> None:
        def settle() -> None:
            if self._done.done():
                return
            if error is not None:
                self._done.set_exception(error)
            else:
                self._done.set_result(info)  # type: ignore[arg-type]

        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting
            self._loop.call_soon_threadsafe(settle)


def _set_result(future: asyncio.Future[None], value: None) -> None:
    if not future.done():
        future.set_result(value)


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
