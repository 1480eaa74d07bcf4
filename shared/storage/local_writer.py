"""Streaming writer for the local backend: bytes go to a temp file, `commit` renames it into place.

Writes are batched (about 1 MiB) into one thread hop, so a 1 GiB stream costs ~1000 hops, not 16,000.
`abort` is synchronous on purpose: it must still clean up when the task is being cancelled.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from anyio import to_thread

from shared.storage.base import ObjectInfo
from shared.storage.errors import TooLarge

FLUSH_AT = 1024 * 1024


def file_etag(st: os.stat_result) -> str:
    """Size and mtime, not a content hash: hashing would halve local upload throughput for no gain."""
    return f'"{st.st_size:x}-{st.st_mtime_ns:x}"'


# Called in a worker thread with the closed temp file and its size; moves it into place.
Finisher = Callable[[Path, int], ObjectInfo]


class LocalWriter:
    def __init__(self, tmp_dir: Path, finish: Finisher, *, max_bytes: int | None = None) -> None:
        self._tmp = tmp_dir / f"{uuid.uuid4().hex}.tmp"
        self._finish = finish
        self._max = max_bytes
        self._file: BinaryIO | None = None
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._closed = False
        self.size = 0

    async def write(self, data: bytes) -> None:
        if self._closed:
            raise RuntimeError("writer is closed")
        self.size += len(data)
        if self._max is not None and self.size > self._max:
            await self.abort()
            raise TooLarge(f"the file is larger than the limit of {self._max} bytes", limit=self._max)
        self._pending.append(data)
        self._pending_bytes += len(data)
        if self._pending_bytes >= FLUSH_AT:
            await self._flush()

    async def _flush(self) -> None:
        batch, self._pending, self._pending_bytes = self._pending, [], 0
        await to_thread.run_sync(self._write_batch, batch)

    def _write_batch(self, batch: list[bytes]) -> None:
        if self._file is None:
            self._tmp.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self._tmp, "wb")  # noqa: SIM115 - closed in commit/abort
        self._file.writelines(batch)

    async def commit(self) -> ObjectInfo:
        if self._closed:
            raise RuntimeError("writer is closed")
        try:
            await self._flush()
            info = await to_thread.run_sync(self._close_and_finish)
        except BaseException:
            await self.abort()
            raise
        self._closed = True
        return info

    def _close_and_finish(self) -> ObjectInfo:
        assert self._file is not None
        self._file.close()
        return self._finish(self._tmp, self.size)

    async def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pending = []
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
        with contextlib.suppress(OSError):
            os.unlink(self._tmp)
