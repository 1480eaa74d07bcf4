"""Multipart uploads for the local backend, with R2's rules (equal parts, matching ETags).

Each upload is a directory `.multipart/<upload_id>/` holding `upload.json` (bucket, key, content type).
Parts are written in place: part n goes straight into the upload's one `data` file at offset
(n-1) × part size, so completing an upload whose parts all landed there only checks the part list,
truncates the file to its size and renames it into place; no byte is copied. The part size (the `stride`)
is the one the part URLs were signed with (`max_bytes`, which `create_upload` sets to the plan's part size);
the first part written fixes it for the upload. Bookkeeping per part:

- `<n>.at`   — part n lies in `data` at its offset: `{"size": …, "etag": …}`, written after its bytes;
- `<n>.lock` — part n is being written in place (created exclusively, removed on commit or abort);
- `<n>.part` — part n as a file of its own, the fallback (and the only layout before this scheme):
  used when no part size was signed, the stride differs, the part was already uploaded once (a failed
  re-upload must not damage the bytes of the one that succeeded), or another write of it is in flight;
- `completing` — set while `complete` runs: writers that start now use the fallback, so nothing can write
  into `data` after it was checked.

A part file takes precedence over a record. When a part is not in place, an in-place write is still in
flight, or the uploaded parts are smaller than the stride, completion falls back to concatenating the
parts (from `data` ranges and part files) with `copy_file_range` into a temp file. Everything here runs in
a worker thread, except `PartWriter`'s batching (see `writer.BatchWriter`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared.storage.backends.local.writer import _OPEN_FLAGS, BatchWriter, LocalWriter, file_etag
from shared.storage.base import CompletedPart, ObjectInfo
from shared.storage.errors import InvalidMultipart, ObjectNotFound
from shared.storage.parts import MAX_PARTS, check_part_list, check_part_sizes

_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
DATA = "data"
STRIDE = "stride"
COMPLETING = "completing"


@dataclass(frozen=True)
class LocalUpload:
    upload_id: str
    bucket: str
    key: str
    content_type: str
    directory: Path


@dataclass(frozen=True)
class _Part:
    number: int
    size: int
    etag: str
    path: Path | None  # its own file, or None when it lies in `data` at (number - 1) * stride


def _bare(etag: str) -> str:
    return etag.strip().strip('"')


def _create_exclusive(path: Path, text: str = "") -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    try:
        if text:
            os.write(fd, text.encode())
    finally:
        os.close(fd)
    return True


class PartWriter(BatchWriter):
    """One part written at its offset in the upload's `data` file; see the module docstring."""

    def __init__(self, upload: LocalUpload, part_number: int, stride: int, *, max_bytes: int | None) -> None:
        limit = stride if max_bytes is None else min(max_bytes, stride)  # never past the part's own range
        super().__init__(max_bytes=limit)
        self.upload = upload
        self.part_number = part_number
        self._lock = upload.directory / f"{part_number}.lock"
        self._offset = (part_number - 1) * stride

    def _open(self) -> tuple[int, int]:
        try:
            fd = os.open(self.upload.directory / DATA, _OPEN_FLAGS | os.O_CREAT, 0o644)
        except FileNotFoundError:
            raise ObjectNotFound("the multipart upload was aborted") from None
        return fd, self._offset

    def _finish(self, fd: int) -> ObjectInfo:
        os.close(fd)
        etag = f'"{self.size:x}-{time.time_ns():x}-{self.part_number:x}"'
        directory = self.upload.directory
        record = directory / f"{self.part_number}.at"
        scratch = directory / f".{self.part_number}.{uuid.uuid4().hex}.at"
        try:
            scratch.write_text(json.dumps({"size": self.size, "etag": etag}))
            os.replace(scratch, record)
        except FileNotFoundError:
            raise ObjectNotFound("the multipart upload was aborted") from None
        with contextlib.suppress(OSError):
            self._lock.unlink()
        return ObjectInfo(self.upload.bucket, self.upload.key, self.size, "", etag)

    def _discard(self) -> None:
        self._lock.unlink()


class MultipartArea:
    def __init__(self, root: Path, tmp_dir: Path) -> None:
        self.root = root
        self.tmp_dir = tmp_dir

    def _dir(self, upload_id: str) -> Path:
        if not _UPLOAD_ID.match(upload_id or ""):
            raise ObjectNotFound("no such multipart upload")
        return self.root / upload_id

    def create(self, bucket: str, key: str, content_type: str) -> str:
        upload_id = uuid.uuid4().hex
        directory = self.root / upload_id
        directory.mkdir(parents=True)
        meta = {"bucket": bucket, "key": key, "content_type": content_type, "created": time.time()}
        (directory / "upload.json").write_text(json.dumps(meta))
        return upload_id

    def load(self, bucket: str, key: str, upload_id: str) -> LocalUpload:
        directory = self._dir(upload_id)
        try:
            meta = json.loads((directory / "upload.json").read_text())
        except (OSError, ValueError):
            raise ObjectNotFound("no such multipart upload") from None
        if meta.get("bucket") != bucket or meta.get("key") != key:
            raise ObjectNotFound("no such multipart upload for this key")
        return LocalUpload(upload_id, bucket, key, meta.get("content_type", ""), directory)

    # writing parts ------------------------------------------------------------------------------------
    def part_writer(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        *,
        part_size: int | None,
        max_bytes: int | None,
    ) -> BatchWriter:
        """The writer for a signed part PUT: in place when it safely can be, else a part file of its own."""
        upload = self.load(bucket, key, upload_id)
        if not 1 <= part_number <= MAX_PARTS:
            raise InvalidMultipart(f"part number must be within 1..{MAX_PARTS}", field="part_number")
        if part_size and self._claim_in_place(upload, part_number, part_size):
            return PartWriter(upload, part_number, part_size, max_bytes=max_bytes)
        return LocalWriter(self.tmp_dir, self._part_file_finisher(upload, part_number), max_bytes=max_bytes)

    def _claim_in_place(self, upload: LocalUpload, number: int, part_size: int) -> bool:
        directory = upload.directory
        if self._stride(upload, part_size) != part_size:
            return False

        def uploaded() -> bool:
            return (directory / f"{number}.at").exists() or (directory / f"{number}.part").exists()

        if uploaded() or (directory / COMPLETING).exists():
            return False
        lock = directory / f"{number}.lock"
        try:
            if not _create_exclusive(lock):
                return False  # another write of this part is in flight
        except FileNotFoundError:
            raise ObjectNotFound("the multipart upload was aborted") from None
        # checked again now that the lock is held: a write that just finished, a completion that just began
        if uploaded() or (directory / COMPLETING).exists():
            with contextlib.suppress(OSError):
                lock.unlink()
            return False
        return True

    @staticmethod
    def _stride(upload: LocalUpload, part_size: int) -> int | None:
        path = upload.directory / STRIDE
        with contextlib.suppress(FileNotFoundError):
            if _create_exclusive(path, str(part_size)):
                return part_size
        try:
            return int(path.read_text() or 0) or None
        except (OSError, ValueError):
            return None  # being written by the other claimant this instant, or gone: use the fallback

    @staticmethod
    def _part_file_finisher(upload: LocalUpload, part_number: int) -> Callable[[Path, int], ObjectInfo]:
        target = upload.directory / f"{part_number}.part"

        def finish(tmp: Path, size: int) -> ObjectInfo:
            if not upload.directory.is_dir():
                raise ObjectNotFound("the multipart upload was aborted")
            os.replace(tmp, target)
            etag = file_etag(target.stat())
            with contextlib.suppress(OSError):
                (upload.directory / f"{part_number}.at").unlink()  # superseded
            return ObjectInfo(upload.bucket, upload.key, size, "", etag)

        return finish

    # completing ---------------------------------------------------------------------------------------
    def _part(self, upload: LocalUpload, number: int) -> _Part | None:
        path = upload.directory / f"{number}.part"
        try:
            st = path.stat()
            return _Part(number, st.st_size, file_etag(st), path)
        except FileNotFoundError:
            pass
        try:
            record = json.loads((upload.directory / f"{number}.at").read_text())
            return _Part(number, int(record["size"]), str(record["etag"]), None)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def assemble(
        self, upload: LocalUpload, parts: list[CompletedPart], finish: Callable[[Path, int], ObjectInfo]
    ) -> ObjectInfo:
        check_part_list([part.part_number for part in parts])
        directory = upload.directory
        marker = directory / COMPLETING
        try:
            marker.touch()
        except FileNotFoundError:
            raise ObjectNotFound("no such multipart upload") from None
        try:
            info = self._assemble(upload, parts, finish)
        except BaseException:
            with contextlib.suppress(OSError):
                marker.unlink()
            raise
        shutil.rmtree(directory, ignore_errors=True)
        return info

    def _assemble(
        self, upload: LocalUpload, parts: list[CompletedPart], finish: Callable[[Path, int], ObjectInfo]
    ) -> ObjectInfo:
        found: list[_Part] = []
        for wanted in parts:
            part = self._part(upload, wanted.part_number)
            if part is None:
                raise InvalidMultipart(f"part {wanted.part_number} was never uploaded", field="parts")
            if _bare(part.etag) != _bare(wanted.etag):
                raise InvalidMultipart(f"part {wanted.part_number} has a different ETag", field="parts")
            found.append(part)
        sizes = [part.size for part in found]
        check_part_sizes(sizes)
        total = sum(sizes)
        data = upload.directory / DATA
        stride = self._read_stride(upload)
        writing = any(upload.directory.glob("*.lock"))
        in_place = all(part.path is None for part in found) and (len(found) == 1 or sizes[0] == stride)
        if in_place and not writing and _size(data) >= total:
            # every byte is already where it belongs: drop what lies past the end, then rename into place
            os.truncate(data, total)
            try:
                return finish(data, total)
            except BaseException:
                self._forget_parts_after(upload, len(found))  # their bytes were just cut off
                raise
        tmp = self.tmp_dir / f"{uuid.uuid4().hex}.tmp"
        try:
            with open(tmp, "wb") as out:
                for part in found:
                    if part.path is not None:
                        _append(out.fileno(), part.path, 0, part.size)
                    else:
                        assert stride is not None
                        _append(out.fileno(), data, (part.number - 1) * stride, part.size)
            return finish(tmp, total)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    @staticmethod
    def _forget_parts_after(upload: LocalUpload, last: int) -> None:
        for record in upload.directory.glob("*.at"):
            if record.stem.isdigit() and int(record.stem) > last:
                with contextlib.suppress(OSError):
                    record.unlink()

    @staticmethod
    def _read_stride(upload: LocalUpload) -> int | None:
        try:
            return int((upload.directory / STRIDE).read_text())
        except (OSError, ValueError):
            return None

    def discard(self, upload_id: str) -> None:
        with contextlib.suppress(ObjectNotFound):
            shutil.rmtree(self._dir(upload_id), ignore_errors=True)

    def sweep(self, cutoff: float) -> int:
        removed = 0
        for entry in os.scandir(self.root):
            with contextlib.suppress(OSError):
                if entry.is_dir() and entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry.path, ignore_errors=True)
                    removed += 1
        return removed


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


def _append(out_fd: int, path: Path, offset: int, length: int) -> None:
    """Append `length` bytes of `path` from `offset` to `out_fd`, kernel-side where possible."""
    with open(path, "rb") as src:
        remaining = length
        copy = getattr(os, "copy_file_range", None)
        while remaining > 0:
            if copy is not None:
                try:
                    done = copy(src.fileno(), out_fd, remaining, offset)
                except OSError:
                    copy = None
                    continue
            else:
                done = len(chunk := os.pread(src.fileno(), min(remaining, 1024 * 1024), offset))
                if chunk:
                    os.write(out_fd, chunk)
            if done == 0:
                raise InvalidMultipart("a part is shorter than recorded", field="parts")
            remaining -= done
            offset += done
