"""Streamed form uploads: files go to storage as they arrive, limits bite mid-stream, failures clean up."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.http.forms import FileRule, parse_form_stream
from shared.storage import BadImage, MalformedForm, TooLarge, UnsupportedType, read_bytes
from shared.storage.backends.local import LocalStorage
from tests.support.files import zip_bytes
from tests.support.samples import SAMPLES, bomb_png, image_bytes, multipart_body

RULES = {
    "file": FileRule(kind="model_archive", max_bytes=2_000_000, required=True),
    "cover": FileRule(kind="image", preset="model_cover"),
    "images": FileRule(kind="image", preset="model_image", max_count=3),
}


class Body:
    """The request body as the server sees it: small chunks, counting how much was read."""

    def __init__(self, data: bytes, chunk: int = 16 * 1024) -> None:
        self.data, self.chunk, self.read = data, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for offset in range(0, len(self.data), self.chunk):
            self.read = offset + self.chunk
            yield self.data[offset : offset + self.chunk]


async def stored_keys(storage: LocalStorage) -> list[str]:
    return [o.key async for o in storage.list("files")] + [o.key async for o in storage.list("images")]


async def test_fields_archive_and_images_are_stored(local_storage: LocalStorage) -> None:
    archive = zip_bytes(size=500_000)
    content_type, body = multipart_body(
        [
            ("name", None, "Кресло Ola".encode()),
            ("styles", None, b"1"),
            ("styles", None, b"2"),
            ("file", "Ola Chair.zip", archive),
            ("cover", "cover.jpg", image_bytes("JPEG", (1600, 900))),
            ("images", "a.png", image_bytes("PNG", (300, 300))),
            ("images", "b.webp", image_bytes("WEBP", (300, 300))),
        ]
    )
    form = await parse_form_stream(content_type, Body(body), RULES, storage=local_storage)
    assert form.get("name") == "Кресло Ola" and form.getlist("styles") == ["1", "2"]
    file = form.file("file")
    assert file is not None
    assert (file.bucket, file.type, file.size, file.filename) == ("files", "zip", len(archive), "Ola Chair.zip")
    assert file.key.startswith("models/") and file.key.endswith(".zip")
    assert await read_bytes(local_storage, "files", file.key) == archive
    cover = form.file("cover")
    assert cover is not None and cover.image is not None and cover.key.endswith("/cover.webp")
    assert (cover.image.width, cover.image.height) == (500, 281)
    assert [f.type for f in form.filelist("images")] == ["png", "webp"]

    await form.cleanup()
    assert await stored_keys(local_storage) == []


async def test_archive_over_the_limit_is_refused_while_streaming(local_storage: LocalStorage) -> None:
    content_type, body = multipart_body([("file", "big.zip", zip_bytes(size=10_000_000))])
    stream = Body(body)
    with pytest.raises(TooLarge) as error:
        await parse_form_stream(content_type, stream, RULES, storage=local_storage)
    assert error.value.field == "file" and error.value.status == 413
    assert stream.read < 2_100_000  # stopped at the limit, not after reading 10 MB
    assert await stored_keys(local_storage) == []


async def test_wrong_magic_bytes_behind_a_right_extension_is_415(local_storage: LocalStorage) -> None:
    content_type, body = multipart_body([("file", "chair.zip", b"MZ\x90\x00" + b"\x00" * 10_000)])
    with pytest.raises(UnsupportedType) as error:
        await parse_form_stream(content_type, Body(body), RULES, storage=local_storage)
    assert error.value.field == "file" and error.value.status == 415
    assert await stored_keys(local_storage) == []


async def test_a_failure_later_in_the_form_removes_files_already_stored(local_storage: LocalStorage) -> None:
    content_type, body = multipart_body(
        [("file", "a.glb", SAMPLES["glb"] * 100), ("cover", "cover.png", b"not an image at all")]
    )
    with pytest.raises(UnsupportedType):
        await parse_form_stream(content_type, Body(body), RULES, storage=local_storage)
    assert await stored_keys(local_storage) == []


async def test_truncated_body_is_a_400_and_leaves_nothing(local_storage: LocalStorage) -> None:
    content_type, body = multipart_body([("name", None, b"x"), ("file", "a.zip", zip_bytes(size=200_000))])
    with pytest.raises(MalformedForm) as error:
        await parse_form_stream(content_type, Body(body[: len(body) // 2]), RULES, storage=local_storage)
    assert error.value.status == 400 and "truncated" in str(error.value)
    assert await stored_keys(local_storage) == []
    assert list((local_storage.root / ".tmp").iterdir()) == []


async def test_image_bomb_in_a_form_is_refused(local_storage: LocalStorage) -> None:
    content_type, body = multipart_body([("file", "a.zip", zip_bytes()), ("cover", "bomb.png", bomb_png())])
    with pytest.raises(BadImage) as error:
        await parse_form_stream(content_type, Body(body), RULES, storage=local_storage)
    assert error.value.field == "cover"
    assert await stored_keys(local_storage) == []


async def test_rules_on_fields_are_enforced(local_storage: LocalStorage) -> None:
    cases = [
        ([("avatar", "a.png", image_bytes("PNG", (10, 10)))], "unexpected file field"),
        ([("name", None, b"no archive")], "'file' is required"),
        ([("file", "a.zip", zip_bytes())] + [("images", "i.png", image_bytes("PNG", (5, 5)))] * 4, "at most 3"),
    ]
    for parts, message in cases:
        content_type, body = multipart_body(parts)
        with pytest.raises(MalformedForm, match=message):
            await parse_form_stream(content_type, Body(body), RULES, storage=local_storage)
        assert await stored_keys(local_storage) == []


async def test_oversized_text_field_and_non_multipart_bodies_are_refused(local_storage: LocalStorage) -> None:
    content_type, body = multipart_body([("description", None, b"x" * 100_000)])
    with pytest.raises(TooLarge, match="description"):
        await parse_form_stream(content_type, Body(body), RULES, storage=local_storage)
    with pytest.raises(UnsupportedType):
        await parse_form_stream("application/json", Body(b"{}"), RULES, storage=local_storage)
    with pytest.raises(MalformedForm):
        await parse_form_stream("multipart/form-data", Body(b"--x--"), RULES, storage=local_storage)
