"""Local directory backend: the embedded default, also what tests and `make run` use.

Layout under the root: `<bucket>/<key>` holds the bytes, `.meta/<bucket>/<key>.json` the content type,
`.tmp/` the files being written (renamed into place on commit, so readers never see half an object),
`.multipart/<upload_id>/` the parts of a multipart upload. Signed URLs point at the API's files route
(`functions/files/`), which checks the HMAC and streams from here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from anyio import to_thread

from shared.storage.backends.local import signing
from shared.storage.backends.local.multipart import MultipartArea
from shared.storage.backends.local.writer import BatchWriter, Finisher, LocalWriter, file_etag
from shared.storage.base import (
    DEFAULT_CONTENT_TYPE,
    CompletedPart,
    HealthStatus,
    ListedObject,
    ObjectInfo,
    ObjectStream,
    resolve_range,
)
from shared.storage.errors import InvalidKey, ObjectNotFound
from shared.storage.keys import BUCKETS, Bucket, check_bucket, check_key

FILES_ROUTE = "/api/files"
READ_CHUNK = 256 * 1024


class LocalStorage:
    name = "local"

    def __init__(self, root: Path, *, secret: str, api_base: str, public_base: str = "") -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()
        self.secret = secret
        self.api_base = api_base.rstrip("/")
        self.public_base = public_base.rstrip("/")
        self.tmp_dir = self.root / ".tmp"
        self.multipart = MultipartArea(self.root / ".multipart", self.tmp_dir)
        for sub in (*BUCKETS, ".tmp", ".meta", ".multipart"):
            (self.root / sub).mkdir(exist_ok=True)

    # paths -------------------------------------------------------------------------------------
    def path(self, bucket: str, key: str) -> Path:
        """Where an object lives; refuses any key that would resolve outside its bucket directory."""
        base = self.root / check_bucket(bucket)
        target = (base / check_key(key)).resolve()
        if not target.is_relative_to(base):
            raise InvalidKey("object key escapes the bucket (path traversal refused)")
        return target

    def _meta_path(self, bucket: str, key: str) -> Path:
        return self.root / ".meta" / bucket / f"{key}.json"

    def _finisher(self, bucket: Bucket, key: str, content_type: str) -> Finisher:
        final = self.path(bucket, key)
        meta = self._meta_path(bucket, key)

        def finish(tmp: Path, size: int) -> ObjectInfo:
            try:
                final.parent.mkdir(parents=True, exist_ok=True)
                meta.parent.mkdir(parents=True, exist_ok=True)
                meta_tmp = self.tmp_dir / f"{uuid.uuid4().hex}.meta"
                meta_tmp.write_text(json.dumps({"content_type": content_type}))
                os.replace(meta_tmp, meta)
                os.replace(tmp, final)
            except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
                raise InvalidKey(f"object key {key!r} conflicts with an existing object") from exc
            return self._info(bucket, key, final.stat(), content_type)

        return finish

    def _info(self, bucket: str, key: str, st: os.stat_result, content_type: str) -> ObjectInfo:
        modified = datetime.fromtimestamp(st.st_mtime, UTC)
        return ObjectInfo(bucket, key, st.st_size, content_type, file_etag(st), modified)

    # objects -----------------------------------------------------------------------------------
    async def open_writer(
        self,
        bucket: Bucket,
        key: str,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        max_bytes: int | None = None,
        size_hint: int | None = None,
    ) -> LocalWriter:
        return LocalWriter(self.tmp_dir, self._finisher(bucket, key, content_type), max_bytes=max_bytes)

    def _head_sync(self, bucket: str, key: str) -> ObjectInfo:
        path = self.path(bucket, key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(f"no object {bucket}/{key}") from None
        if not path.is_file():
            raise ObjectNotFound(f"no object {bucket}/{key}")
        try:
            content_type = json.loads(self._meta_path(bucket, key).read_text())["content_type"]
        except (OSError, ValueError, KeyError):
            content_type = DEFAULT_CONTENT_TYPE
        return self._info(bucket, key, st, content_type)

    async def head(self, bucket: Bucket, key: str) -> ObjectInfo:
        return await to_thread.run_sync(self._head_sync, bucket, key)

    async def get(self, bucket: Bucket, key: str, *, start: int = 0, end: int | None = None) -> ObjectStream:
        info = await self.head(bucket, key)
        first, last = resolve_range(info.size, start, end)
        return ObjectStream(info, first, last, self._read(self.path(bucket, key), first, last - first + 1))

    async def _read(self, path: Path, offset: int, length: int) -> AsyncIterator[bytes]:
        try:
            handle = await to_thread.run_sync(open, path, "rb")
        except FileNotFoundError:
            raise ObjectNotFound("object was deleted while being read") from None
        try:
            await to_thread.run_sync(handle.seek, offset)
            remaining = length
            while remaining > 0:
                chunk = await to_thread.run_sync(handle.read, min(READ_CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def delete(self, bucket: Bucket, key: str) -> None:
        path, meta = self.path(bucket, key), self._meta_path(bucket, key)

        def drop() -> None:
            for target in (path, meta):
                with contextlib.suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
                    target.unlink()

        await to_thread.run_sync(drop)

    async def list(self, bucket: Bucket, prefix: str = "") -> AsyncIterator[ListedObject]:
        base = self.root / check_bucket(bucket)
        found = await to_thread.run_sync(_walk, base, prefix)
        for item in found:
            yield item

    # URLs --------------------------------------------------------------------------------------
    def public_url(self, key: str) -> str:
        check_key(key)
        if self.public_base:
            return f"{self.public_base}/{key}"
        return f"{self.api_base}{FILES_ROUTE}/images/{quote(key)}"

    def _signed(self, grant: signing.Grant) -> str:
        self.path(grant.bucket, grant.key)
        return f"{self.api_base}{FILES_ROUTE}/{grant.bucket}/{quote(grant.key)}?{grant.query(self.secret)}"

    async def presign_get(self, bucket: Bucket, key: str, *, expires_in: int, filename: str | None = None) -> str:
        return self._signed(signing.Grant("get", bucket, key, signing.expiry(expires_in), filename=filename or ""))

    async def presign_put(
        self,
        bucket: Bucket,
        key: str,
        *,
        expires_in: int,
        content_type: str | None = None,
        max_bytes: int | None = None,
    ) -> str:
        grant = signing.Grant(
            "put",
            bucket,
            key,
            signing.expiry(expires_in),
            content_type=content_type or "",
            max_bytes=max_bytes or 0,
        )
        return self._signed(grant)

    # multipart ---------------------------------------------------------------------------------
    async def create_multipart(self, bucket: Bucket, key: str, *, content_type: str = DEFAULT_CONTENT_TYPE) -> str:
        self.path(bucket, key)
        return await to_thread.run_sync(self.multipart.create, bucket, key, content_type)

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
        grant = signing.Grant(
            "part",
            bucket,
            key,
            signing.expiry(expires_in),
            upload_id=upload_id,
            part_number=part_number,
            max_bytes=max_bytes or 0,
        )
        return self._signed(grant)

    async def open_part_writer(
        self,
        bucket: Bucket,
        key: str,
        upload_id: str,
        part_number: int,
        *,
        max_bytes: int | None = None,
        part_size: int | None = None,
    ) -> BatchWriter:
        """Used by the files route for a signed part PUT; the committed info's etag is the part's ETag.

        With `part_size` (what the part URL was signed for) the part is written in place, at its offset in
        the upload's data file, so completing the upload copies nothing (see `multipart.py`).
        """

        def open_writer() -> BatchWriter:
            return self.multipart.part_writer(
                bucket, key, upload_id, part_number, part_size=part_size, max_bytes=max_bytes
            )

        return await to_thread.run_sync(open_writer)

    async def complete_multipart(
        self, bucket: Bucket, key: str, upload_id: str, parts: Sequence[CompletedPart]
    ) -> ObjectInfo:
        upload = await to_thread.run_sync(self.multipart.load, bucket, key, upload_id)
        finish = self._finisher(bucket, key, upload.content_type)
        info = await to_thread.run_sync(self.multipart.assemble, upload, list(parts), finish)
        return info

    async def abort_multipart(self, bucket: Bucket, key: str, upload_id: str) -> None:
        await to_thread.run_sync(self.multipart.discard, upload_id)

    # maintenance -------------------------------------------------------------------------------
    async def check(self) -> dict[str, HealthStatus]:
        started = time.perf_counter()

        def probe() -> None:
            probe_path = self.tmp_dir / f"probe-{uuid.uuid4().hex}"
            probe_path.write_bytes(b"ok")
            probe_path.unlink()

        try:
            await to_thread.run_sync(probe)
            status = HealthStatus(True, f"local {self.root}")
        except OSError as exc:
            status = HealthStatus(False, f"local storage not writable: {exc.strerror}")
        status = HealthStatus(status.ok, status.detail, round((time.perf_counter() - started) * 1000, 1))
        return {"primary": status}

    async def sweep_scratch(self, older_than_s: float) -> int:
        """Remove temp files and abandoned multipart uploads left by crashed processes."""

        def sweep() -> int:
            cutoff = time.time() - older_than_s
            removed = self.multipart.sweep(cutoff)
            for entry in os.scandir(self.tmp_dir):
                if entry.stat().st_mtime < cutoff:
                    with contextlib.suppress(OSError):
                        shutil.rmtree(entry.path) if entry.is_dir() else os.unlink(entry.path)
                        removed += 1
            return removed

        return await to_thread.run_sync(sweep)


def _walk(base: Path, prefix: str) -> list[ListedObject]:
    start = base
    if "/" in prefix:
        start = base / prefix.rsplit("/", 1)[0]
    found: list[ListedObject] = []
    if not start.is_dir():
        return found
    for dirpath, _dirs, files in os.walk(start):
        for name in files:
            full = os.path.join(dirpath, name)
            key = Path(full).relative_to(base).as_posix()
            if not key.startswith(prefix):
                continue
            with contextlib.suppress(FileNotFoundError):
                st = os.stat(full)
                found.append(ListedObject(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC)))
    found.sort(key=lambda item: item.key)
    return found
