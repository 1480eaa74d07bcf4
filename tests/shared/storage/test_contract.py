"""One behavioural contract, run against both backends: the local directory and R2 (moto over HTTP)."""

from __future__ import annotations

import asyncio
import os
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.storage import (
    CompletedPart,
    InvalidKey,
    InvalidMultipart,
    ObjectNotFound,
    TooLarge,
    put_bytes,
    put_stream,
    read_bytes,
)
from shared.storage.parts import MIB
from tests.support.storage_world import Backend, chunks_of


async def test_stored_bytes_read_back_with_metadata(backend: Backend) -> None:
    key = backend.key("a/model.zip")
    data = os.urandom(300_000)
    info = await put_stream(backend.storage, "files", key, chunks_of(data), content_type="application/zip")
    assert info.size == len(data)
    head = await backend.storage.head("files", key)
    assert (head.size, head.content_type) == (len(data), "application/zip")
    assert head.etag and head.etag == info.etag
    assert await read_bytes(backend.storage, "files", key) == data


async def test_byte_range_reads_only_that_slice(backend: Backend) -> None:
    key = backend.key("range.bin")
    data = bytes(range(256)) * 4000
    await put_bytes(backend.storage, "files", key, data)
    assert await read_bytes(backend.storage, "files", key, start=1000, end=1999) == data[1000:2000]
    assert await read_bytes(backend.storage, "files", key, start=len(data) - 10) == data[-10:]


async def test_missing_object_is_not_found_and_delete_is_idempotent(backend: Backend) -> None:
    key = backend.key("nothing.bin")
    with pytest.raises(ObjectNotFound):
        await backend.storage.head("files", key)
    with pytest.raises(ObjectNotFound):
        await backend.storage.get("files", key)
    await backend.storage.delete("files", key)
    await put_bytes(backend.storage, "files", key, b"x")
    await backend.storage.delete("files", key)
    with pytest.raises(ObjectNotFound):
        await backend.storage.head("files", key)


async def test_stream_over_the_limit_is_refused_and_leaves_nothing(backend: Backend) -> None:
    key = backend.key("huge.bin")
    sent = 0

    async def endless():
        nonlocal sent
        while True:
            sent += 1 * MIB
            yield b"\0" * MIB

    with pytest.raises(TooLarge):
        await put_stream(backend.storage, "files", key, endless(), max_bytes=20 * MIB)
    assert sent <= 21 * MIB  # refused while streaming, not after reading everything
    with pytest.raises(ObjectNotFound):
        await backend.storage.head("files", key)
    assert [item async for item in backend.storage.list("files", backend.prefix)] == []


async def test_list_by_prefix_reports_size_and_age(backend: Backend) -> None:
    for name in ("x/1.bin", "x/2.bin", "y/3.bin"):
        await put_bytes(backend.storage, "files", backend.key(name), b"12345")
    listed = [item async for item in backend.storage.list("files", backend.key("x/"))]
    assert [item.key for item in listed] == [backend.key("x/1.bin"), backend.key("x/2.bin")]
    assert all(item.size == 5 and item.last_modified.timestamp() > time.time() - 60 for item in listed)


@pytest.mark.parametrize("key", ["../etc/passwd", "a/../../b", "/abs", "a//b", "a\\b", ".hidden/x", ""])
async def test_path_traversal_keys_are_refused(backend: Backend, key: str) -> None:
    with pytest.raises(InvalidKey):
        await put_bytes(backend.storage, "files", key, b"x")
    with pytest.raises(InvalidKey):
        await backend.storage.presign_get("files", key, expires_in=60)


async def test_presigned_get_downloads_with_the_filename(backend: Backend) -> None:
    key = backend.key("archive.zip")
    await put_bytes(backend.storage, "files", key, b"PK\x03\x04 data", content_type="application/zip")
    url = await backend.storage.presign_get("files", key, expires_in=60, filename="Кресло Ola.zip")
    response = await backend.http.get(url)
    assert response.status_code == 200
    assert response.content == b"PK\x03\x04 data"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "%D0%9A%D1%80%D0%B5%D1%81%D0%BB%D0%BE" in disposition


async def test_presigned_put_uploads_an_object(backend: Backend) -> None:
    key = backend.key("direct.glb")
    url = await backend.storage.presign_put("files", key, expires_in=60, content_type="model/gltf-binary")
    response = await backend.http.put(
        url, content=b"glTF\x02\x00\x00\x00rest", headers={"Content-Type": "model/gltf-binary"}
    )
    assert response.status_code == 200, response.text
    assert await read_bytes(backend.storage, "files", key) == b"glTF\x02\x00\x00\x00rest"


async def _upload_parts(backend: Backend, key: str, upload_id: str, bodies: list[bytes]) -> list[CompletedPart]:
    parts = []
    for number, body in enumerate(bodies, start=1):
        url = await backend.storage.presign_part("files", key, upload_id, number, expires_in=60)
        response = await backend.http.put(url, content=body)
        assert response.status_code == 200, response.text
        parts.append(CompletedPart(number, response.headers["etag"]))
    return parts


async def test_multipart_with_equal_parts_assembles_the_object(backend: Backend) -> None:
    key = backend.key("big.zip")
    bodies = [os.urandom(5 * MIB), os.urandom(5 * MIB), b"tail"]
    upload_id = await backend.storage.create_multipart("files", key, content_type="application/zip")
    parts = await _upload_parts(backend, key, upload_id, bodies)
    info = await backend.storage.complete_multipart("files", key, upload_id, parts)
    assert info.size == 10 * MIB + 4
    assert await read_bytes(backend.storage, "files", key) == b"".join(bodies)


async def test_multipart_with_unequal_parts_is_refused_like_r2(backend: Backend) -> None:
    key = backend.key("uneven.zip")
    upload_id = await backend.storage.create_multipart("files", key)
    parts = await _upload_parts(backend, key, upload_id, [b"a" * (6 * MIB), b"b" * (5 * MIB), b"c"])
    with pytest.raises(InvalidMultipart):
        await backend.storage.complete_multipart("files", key, upload_id, parts)
    await backend.storage.abort_multipart("files", key, upload_id)


async def test_multipart_with_a_wrong_etag_is_refused(backend: Backend) -> None:
    key = backend.key("etag.zip")
    upload_id = await backend.storage.create_multipart("files", key)
    parts = await _upload_parts(backend, key, upload_id, [b"only part"])
    with pytest.raises(InvalidMultipart):
        await backend.storage.complete_multipart("files", key, upload_id, [CompletedPart(1, '"0000"')])
    assert (await backend.storage.complete_multipart("files", key, upload_id, parts)).size == 9


async def test_aborted_multipart_leaves_no_object(backend: Backend) -> None:
    key = backend.key("aborted.zip")
    upload_id = await backend.storage.create_multipart("files", key)
    parts = await _upload_parts(backend, key, upload_id, [b"x" * 100])
    await backend.storage.abort_multipart("files", key, upload_id)
    with pytest.raises((ObjectNotFound, InvalidMultipart)):
        await backend.storage.complete_multipart("files", key, upload_id, parts)
    with pytest.raises(ObjectNotFound):
        await backend.storage.head("files", key)
    await backend.storage.abort_multipart("files", key, upload_id)  # twice is fine


async def test_streamed_put_of_a_big_object_uses_equal_parts(backend: Backend) -> None:
    key = backend.key("streamed.bin")
    data = os.urandom(17 * MIB + 3)
    info = await put_stream(backend.storage, "files", key, chunks_of(data, 1 * MIB + 7), size_hint=len(data))
    assert info.size == len(data)
    if backend.kind == "s3":
        assert info.etag.strip('"').endswith("-3")  # 8 MiB + 8 MiB + 1 MiB+3: multipart, equal parts
    assert await read_bytes(backend.storage, "files", key) == data  # every part boundary in place
    assert await read_bytes(backend.storage, "files", key, start=16 * MIB) == data[16 * MIB :]


async def test_presigned_url_expires(backend: Backend) -> None:
    key = backend.key("soon.zip")
    await put_bytes(backend.storage, "files", key, b"PK\x03\x04")
    url = await backend.storage.presign_get("files", key, expires_in=1)
    if backend.kind == "s3":
        # moto does not enforce X-Amz-Expires; R2 does. Check what we sign instead.
        query = parse_qs(urlsplit(url).query)
        assert query["X-Amz-Expires"] == ["1"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
        return
    # a longer-lived URL for the same object works now (expiry is whole seconds, so a 1 s URL
    # may already be past it on a loaded machine); the 1 s one is refused once it has passed
    fresh = await backend.storage.presign_get("files", key, expires_in=30)
    assert (await backend.http.get(fresh)).status_code == 200
    await asyncio.sleep(2.1)
    response = await backend.http.get(url)
    assert response.status_code == 403
    assert response.json()["reason"] == "access_denied"


async def test_readiness_check_reports_the_backend(backend: Backend) -> None:
    status = await backend.storage.check()
    assert status["primary"].ok and status["primary"]
