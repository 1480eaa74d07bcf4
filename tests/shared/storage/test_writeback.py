"""Uploads to the local backend leave (almost) no dirty page cache behind: writeback starts while bytes arrive.

The check reads the kernel's own per-file page counters (`cachestat`, Linux 6.5+); without writeback a
freshly written file's pages stay dirty for `dirty_expire_centisecs` (30 s by default).
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

import pytest

from shared.storage.backends.local import LocalStorage
from shared.storage.backends.local.writeback import WRITEBACK_AFTER, Writeback

MIB = 1024 * 1024
_CACHESTAT = 451  # the same syscall number on every architecture (unified table)


class _Range(ctypes.Structure):
    _fields_ = [("off", ctypes.c_uint64), ("len", ctypes.c_uint64)]


class _Stat(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in ("cache", "dirty", "writeback", "evicted", "recently_evicted")]


def dirty_pages(path: Path) -> int:
    return _cachestat(path).dirty


def cached_pages(path: Path) -> int:
    return _cachestat(path).cache


def _cachestat(path: Path) -> _Stat:
    libc = ctypes.CDLL(None, use_errno=True)
    whole, stat = _Range(0, 0), _Stat()
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.syscall(_CACHESTAT, fd, ctypes.byref(whole), ctypes.byref(stat), 0) != 0:
            pytest.skip(f"cachestat is not available here: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)
    return stat


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sync_file_range and cachestat are Linux's")
async def test_a_stored_upload_has_no_dirty_pages_left(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage", secret="s", api_base="http://testserver")
    writer = await storage.open_writer("files", "models/big.zip")
    chunk = os.urandom(256 * 1024 + 17)  # odd sizes: the tail is not a multiple of the stretch
    for _ in range(int(3.5 * WRITEBACK_AFTER) // len(chunk)):
        await writer.write(chunk)
    info = await writer.commit()

    pages = info.size // 4096
    # a page or two at a stretch boundary can be dirtied again while under writeback; without writeback
    # every page of the file would still be dirty
    assert dirty_pages(storage.path("files", "models/big.zip")) <= pages // 100


def test_writeback_is_queued_in_stretches_and_the_tail_on_flush() -> None:
    kicked: list[tuple[int, int, int]] = []
    window = Writeback(7, 100, kick=lambda fd, offset, nbytes: kicked.append((fd, offset, nbytes)))
    for _ in range(9):
        window.wrote(MIB)
    window.flush()
    window.flush()  # nothing new written: nothing queued

    assert kicked == [(7, 100, 4 * MIB), (7, 100 + 4 * MIB, 4 * MIB), (7, 100 + 8 * MIB, MIB)]
