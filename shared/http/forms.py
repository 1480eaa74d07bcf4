"""Streamed `multipart/form-data` parsing for the classic form routes.

The body is fed chunk by chunk from `request.stream()` into python-multipart's push parser; its callbacks
only queue events, which are then handled asynchronously, so a file part flows straight into a storage
writer as it arrives. Archives are never held in memory: the first 4 KiB are buffered to sniff the type
(415 before anything is stored), the rest streams through. Images (≤ 20 MiB by default) are collected,
re-encoded to WebP derivatives and only those are stored. Limits are enforced while streaming; any failure
removes every object this form stored, and `cleanup()` does the same when the route's DB write fails.

    form = await parse_streamed_form(request, files={
        "file": FileRule(kind="model_archive", required=True),
        "cover": FileRule(kind="image", preset="model_cover", required=True),
        "images": FileRule(kind="image", preset="model_image", max_count=20),
    })
    try:
        ... insert rows using form.get("name"), form.file("file").key, form.file("cover").key ...
    except BaseException:
        await form.cleanup()
        raise
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.config import get_settings
from shared.http.form_parts import PartEvents, as_form_error, make_parser, part_meta
from shared.storage.base import ObjectWriter, Storage
from shared.storage.errors import MalformedForm, StorageError, TooLarge, UnsupportedType
from shared.storage.factory import get_storage
from shared.storage.images import StoredImage, delete_keys, store_image
from shared.storage.keys import Bucket, new_key
from shared.storage.sniff import ALLOWED_TYPES, CONTENT_TYPES, EXTENSIONS, SNIFF_BYTES, sniff

FileKind = Literal["model_archive", "image"]


@dataclass(frozen=True)
class FileRule:
    kind: FileKind
    max_bytes: int | None = None  # default: MAX_ARCHIVE_BYTES / MAX_IMAGE_BYTES
    preset: str | None = None  # image preset (see images.PRESETS); required for images
    prefix: str = "models"  # key prefix for archives in the files bucket
    max_count: int = 1
    required: bool = False


@dataclass(frozen=True)
class StoredFile:
    field: str
    bucket: Bucket
    key: str
    size: int
    type: str  # sniffed: zip, rar, fbx, ..., jpeg, png, webp
    content_type: str
    filename: str
    image: StoredImage | None = None

    @property
    def ext(self) -> str:
        return self.type

    @property
    def keys(self) -> list[str]:
        return self.image.all_keys if self.image else [self.key]


@dataclass
class StreamedForm:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[StoredFile]] = field(default_factory=dict)
    storage: Storage | None = None

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.fields.get(name)
        return values[-1] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))

    def file(self, name: str) -> StoredFile | None:
        stored = self.files.get(name)
        return stored[0] if stored else None

    def filelist(self, name: str) -> list[StoredFile]:
        return list(self.files.get(name, []))

    @property
    def stored(self) -> list[StoredFile]:
        return [item for items in self.files.values() for item in items]

    async def cleanup(self) -> None:
        """Delete every object this form stored (call it when the route's DB write fails)."""
        if self.storage is None:
            return
        for item in self.stored:
            await delete_keys(self.storage, item.keys, item.bucket)
        self.files = {}


def _safe_filename(raw: str) -> str:
    name = raw.replace("\\", "/").rsplit("/", 1)[-1].strip().replace("\x00", "")
    return name[:255]


class _FormReader:
    def __init__(
        self,
        storage: Storage,
        rules: Mapping[str, FileRule],
        *,
        max_archive_bytes: int,
        max_image_bytes: int,
        max_field_bytes: int,
        max_fields: int,
    ) -> None:
        self.storage = storage
        self.rules = rules
        self.form = StreamedForm(storage=storage)
        self.limits = {"model_archive": max_archive_bytes, "image": max_image_bytes}
        self.max_field_bytes = max_field_bytes
        self.max_fields = max_fields
        self._field_count = 0
        self._reset_part()

    def _reset_part(self) -> None:
        self.name = ""
        self.filename: str | None = None
        self.rule: FileRule | None = None
        self.buffer = bytearray()
        self.size = 0
        self.writer: ObjectWriter | None = None
        self.key = ""
        self.sniffed: str | None = None

    def _limit(self) -> int:
        assert self.rule is not None
        return self.rule.max_bytes or self.limits[self.rule.kind]

    # events ------------------------------------------------------------------------------------
    async def begin(self, headers: dict[str, str]) -> None:
        self._reset_part()
        self.name, self.filename = part_meta(headers)
        if not self.name:
            raise MalformedForm("a form part has no name")
        if self.filename is None:
            self._field_count += 1
            if self._field_count > self.max_fields:
                raise MalformedForm(f"too many form fields (at most {self.max_fields})")
            return
        self.filename = _safe_filename(self.filename)
        self.rule = self.rules.get(self.name)
        if self.rule is None:
            raise MalformedForm(f"unexpected file field {self.name!r}", field=self.name)
        if len(self.form.files.get(self.name, [])) >= self.rule.max_count:
            raise MalformedForm(f"at most {self.rule.max_count} file(s) in {self.name!r}", field=self.name)

    async def data(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.rule is None:
            if self.size > self.max_field_bytes:
                raise TooLarge(f"field {self.name!r} is longer than {self.max_field_bytes} bytes", field=self.name)
            self.buffer += chunk
            return
        if self.size > self._limit():
            raise TooLarge(f"{self.name!r} is larger than the limit of {self._limit()} bytes", field=self.name)
        if self.writer is not None:
            await self.writer.write(chunk)
            return
        self.buffer += chunk
        if len(self.buffer) >= SNIFF_BYTES:
            self._check_type()
            if self.rule.kind == "model_archive":
                await self._open_writer()

    def _check_type(self) -> None:
        assert self.rule is not None
        if self.sniffed is None:
            self.sniffed = sniff(bytes(self.buffer[:SNIFF_BYTES]))
            if self.sniffed not in ALLOWED_TYPES[self.rule.kind]:
                allowed = ", ".join(sorted(ALLOWED_TYPES[self.rule.kind]))
                raise UnsupportedType(f"{self.name!r} must be one of: {allowed}", field=self.name)

    async def _open_writer(self) -> None:
        assert self.rule is not None and self.sniffed is not None
        self.key = new_key(self.rule.prefix, ext=_ext_for(self.sniffed, self.filename or ""))
        self.writer = await self.storage.open_writer(
            "files", self.key, content_type=CONTENT_TYPES[self.sniffed], max_bytes=self._limit()
        )
        head, self.buffer = bytes(self.buffer), bytearray()
        await self.writer.write(head)

    async def end(self) -> None:
        if self.rule is None:
            try:
                value = self.buffer.decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedForm(f"field {self.name!r} is not valid UTF-8", field=self.name) from None
            self.form.fields.setdefault(self.name, []).append(value)
            return
        if self.size == 0 and not self.filename:
            return  # an empty file input: the browser sends the part with no file in it
        self._check_type()
        assert self.sniffed is not None
        if self.rule.kind == "image":
            stored = await self._store_image()
        else:
            if self.writer is None:
                await self._open_writer()
            assert self.writer is not None
            writer, self.writer = self.writer, None
            info = await writer.commit()
            stored = StoredFile(
                self.name, "files", self.key, info.size, self.sniffed, info.content_type, self.filename or ""
            )
        self.form.files.setdefault(self.name, []).append(stored)

    async def _store_image(self) -> StoredFile:
        assert self.rule is not None and self.rule.preset and self.sniffed
        image = await store_image(self.storage, bytes(self.buffer), self.rule.preset, field=self.name)
        self.buffer = bytearray()
        return StoredFile(
            self.name, "images", image.key, image.size, self.sniffed, "image/webp", self.filename or "", image
        )

    async def abort(self) -> None:
        if self.writer is not None:
            await self.writer.abort()
            self.writer = None
        await self.form.cleanup()

    def check_required(self) -> None:
        for name, rule in self.rules.items():
            if rule.required and not self.form.files.get(name):
                raise MalformedForm(f"{name!r} is required", field=name)


def _ext_for(sniffed: str, filename: str) -> str:
    declared = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return declared if EXTENSIONS.get(declared) == sniffed else sniffed


async def parse_form_stream(
    content_type: str,
    body: AsyncIterable[bytes],
    files: Mapping[str, FileRule],
    *,
    storage: Storage | None = None,
    max_field_bytes: int = 64 * 1024,
    max_fields: int = 200,
) -> StreamedForm:
    """Parse a multipart body given its Content-Type header and an async byte stream."""
    settings = get_settings()
    reader = _FormReader(
        storage or get_storage(),
        files,
        max_archive_bytes=settings.max_archive_bytes,
        max_image_bytes=settings.max_image_bytes,
        max_field_bytes=max_field_bytes,
        max_fields=max_fields,
    )
    for name, rule in files.items():
        if rule.kind == "image" and not rule.preset:
            raise ValueError(f"image field {name!r} needs a preset")
    events = PartEvents()
    parser = make_parser(content_type, events)
    try:
        async for chunk in _body(body):
            parser.write(chunk)
            await events.dispatch(reader)
        await events.dispatch(reader)
        if not events.finished:
            raise MalformedForm("the form body is truncated (the closing boundary never arrived)")
        reader.check_required()
    except BaseException as exc:
        await reader.abort()
        if isinstance(exc, StorageError | MalformedForm):
            raise
        mapped = as_form_error(exc)
        if mapped is None:
            raise
        raise mapped from exc
    return reader.form


async def _body(body: AsyncIterable[bytes]) -> AsyncIterable[bytes]:
    async for chunk in body:
        if chunk:
            yield chunk


async def parse_streamed_form(request: Any, files: Mapping[str, FileRule], **options: Any) -> StreamedForm:
    """`parse_form_stream` for a Starlette request; a client that disconnects mid-body gets a 400."""
    return await parse_form_stream(request.headers.get("content-type", ""), request.stream(), files, **options)
