"""Multipart uploads for the local backend, with R2's rules (equal parts, matching ETags).

Each upload is a directory `.multipart/<upload_id>/` holding `upload.json` (bucket, key, content type)
and the parts as `<n>.part`. Completion checks the client's part list against what is on disk, then
concatenates the parts with `copy_file_range` (kernel-side, no Python buffers) into a temp file that the
object finisher renames into place. Everything here runs in a worker thread.
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

from shared.storage.base import CompletedPart, ObjectInfo
from shared.storage.errors import InvalidMultipart, ObjectNotFound
from shared.storage.local_writer import file_etag
from shared.storage.parts import MAX_PARTS, check_part_list, check_part_sizes

_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class LocalUpload:
    upload_id: str
    bucket: str
    key: str
    content_type: str
    directory: Path


def _bare(etag: str) -> str:
    return etag.strip().strip('"')


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

    def part_finisher(
        self, bucket: str, key: str, upload_id: str, part_number: int
    ) -> Callable[[Path, int], ObjectInfo]:
        upload = self.load(bucket, key, upload_id)
        if not 1 <= part_number <= MAX_PARTS:
            raise InvalidMultipart(f"part number must be within 1..{MAX_PARTS}", field="part_number")
        target = upload.directory / f"{part_number}.part"

        def finish(tmp: Path, size: int) -> ObjectInfo:
            if not upload.directory.is_dir():
                raise ObjectNotFound("the multipart upload was aborted")
            os.replace(tmp, target)
            return ObjectInfo(bucket, key, size, "", file_etag(target.stat()))

        return finish

    def assemble(
        self, upload: LocalUpload, parts: list[CompletedPart], finish: Callable[[Path, int], ObjectInfo]
    ) -> ObjectInfo:
        check_part_list([part.part_number for part in parts])
        paths: list[Path] = []
        sizes: list[int] = []
        for part in parts:
            path = upload.directory / f"{part.part_number}.part"
            try:
                st = path.stat()
            except FileNotFoundError:
                raise InvalidMultipart(f"part {part.part_number} was never uploaded", field="parts") from None
            if _bare(file_etag(st)) != _bare(part.etag):
                raise InvalidMultipart(f"part {part.part_number} has a different ETag", field="parts")
            paths.append(path)
            sizes.append(st.st_size)
        check_part_sizes(sizes)
        tmp = self.tmp_dir / f"{uuid.uuid4().hex}.tmp"
        try:
            with open(tmp, "wb") as out:
                for path in paths:
                    _append(out.fileno(), path)
            info = finish(tmp, sum(sizes))
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        shutil.rmtree(upload.directory, ignore_errors=True)
        return info

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


def _append(out_fd: int, path: Path) -> None:
    with open(path, "rb") as src:
        remaining = os.fstat(src.fileno()).st_size
        copy = getattr(os, "copy_file_range", None)
        while remaining > 0:
            if copy is not None:
                try:
                    done = copy(src.fileno(), out_fd, remaining)
                except OSError:
                    copy = None
                    continue
            else:
                chunk = src.read(min(remaining, 1024 * 1024))
                done = os.write(out_fd, chunk) if chunk else 0
            if done == 0:
                break
            remaining -= done
