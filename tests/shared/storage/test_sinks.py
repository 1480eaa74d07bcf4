"""Big local uploads go to the disk through O_DIRECT, byte for byte, and leave the page cache alone."""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

import pytest

from shared.storage.backends.local import LocalStorage
from shared.storage.backends.local.sinks import ALIGN, STAGE, BufferedSink, DirectSink, open_sink

from .test_writeback import cached_pages

pytestmark = pytest.mark.skipif(not hasattr(os, "O_DIRECT"), reason="O_DIRECT is Linux's")


def _skip_without_o_direct(directory: Path) -> None:
    try:
        os.close(os.open(directory / ".probe", os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644))
    except OSError:
        pytest.skip(f"the filesystem of {directory} refuses O_DIRECT")


def _direct_or_skip(path: Path, base: int = 0) -> tuple[int, DirectSink]:
    _skip_without_o_direct(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    sink = open_sink(fd, base)
    assert isinstance(sink, DirectSink)
    return fd, sink


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize(
    ("total", "chunk"),
    [
        (0, 1),
        (ALIGN - 1, 1000),  # smaller than a block: all through the page cache
        (STAGE, 256 * 1024),  # exactly one stage
        (STAGE + 1, 256 * 1024),
        (3 * STAGE + 12_345, 65_536 + 7),  # chunks straddle every stage boundary
        (2 * STAGE + ALIGN, 3 * STAGE),  # one chunk bigger than a stage
    ],
)
def test_direct_sink_stores_exactly_the_bytes_written(tmp_path: Path, total: int, chunk: int) -> None:
    path = tmp_path / "object"
    data = os.urandom(total)
    fd, sink = _direct_or_skip(path)
    try:
        for piece in _chunks(data, chunk):
            sink.write([piece], len(piece))
        sink.finish()
    finally:
        os.close(fd)
    assert path.read_bytes() == data


def test_a_part_written_in_place_leaves_its_neighbours_alone(tmp_path: Path) -> None:
    path = tmp_path / "data"
    before = os.urandom(4 * STAGE)
    path.write_bytes(before)
    part = os.urandom(STAGE + 5000)
    fd, sink = _direct_or_skip(path, base=STAGE)
    try:
        sink.write(_chunks(part, 100_000), len(part))
        sink.finish()
    finally:
        os.close(fd)
    assert path.read_bytes() == before[:STAGE] + part + before[2 * STAGE + 5000 :]


def test_the_descriptor_is_left_without_o_direct(tmp_path: Path) -> None:
    fd, sink = _direct_or_skip(tmp_path / "object")
    try:
        assert fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT
        sink.write([b"x" * (STAGE + 10)], STAGE + 10)
        sink.finish()
        assert not fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT  # what the finisher does next is ordinary I/O
    finally:
        os.close(fd)


def test_an_unaligned_start_goes_through_the_page_cache(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "data", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        assert isinstance(open_sink(fd, ALIGN + 100), BufferedSink)
    finally:
        os.close(fd)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="cachestat is Linux's")
async def test_a_big_upload_does_not_fill_the_page_cache(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage", secret="s", api_base="http://testserver")
    _skip_without_o_direct(tmp_path)  # the same filesystem as the storage root
    writer = await storage.open_writer("files", "models/big.zip")
    chunk = os.urandom(256 * 1024 + 17)
    for _ in range(8 * STAGE // len(chunk)):
        await writer.write(chunk)
    info = await writer.commit()

    path = storage.path("files", "models/big.zip")
    assert path.stat().st_size == info.size
    # through the page cache every page would be cached; directly, only the unaligned tail is
    assert cached_pages(path) <= 2
    with path.open("rb") as stored:
        assert stored.read(len(chunk)) == chunk
