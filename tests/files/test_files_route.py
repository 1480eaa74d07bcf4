"""The local backend's files route: signed GET/PUT with ranges, public images, refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import pytest_asyncio

from shared.storage import put_bytes, read_bytes
from shared.storage.backends.local import LocalStorage
from tests.support.storage_world import API_BASE

DATA = bytes(range(256)) * 40  # 10240 bytes


@pytest_asyncio.fixture(loop_scope="session")
async def http(local_storage: LocalStorage) -> AsyncIterator[httpx.AsyncClient]:
    from functions.files import app

    await put_bytes(local_storage, "files", "models/a.zip", DATA, content_type="application/zip")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=API_BASE) as client:
        yield client


async def test_signed_get_serves_ranges(local_storage: LocalStorage, http: httpx.AsyncClient) -> None:
    url = await local_storage.presign_get("files", "models/a.zip", expires_in=60, filename="chair.zip")
    whole = await http.get(url)
    assert whole.status_code == 200 and whole.content == DATA
    assert whole.headers["content-type"] == "application/zip"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-disposition"].startswith('attachment; filename="chair.zip"')
    part = await http.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == DATA[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(DATA)}"
    tail = await http.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == DATA[-10:]
    past = await http.get(url, headers={"Range": f"bytes={len(DATA)}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(DATA)}"
    head = await http.head(url)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(DATA))


async def test_public_images_need_no_signature_but_files_do(
    local_storage: LocalStorage, http: httpx.AsyncClient
) -> None:
    await put_bytes(local_storage, "images", "models/x/cover.webp", b"RIFF....WEBP", content_type="image/webp")
    url = local_storage.public_url("models/x/cover.webp")
    assert url == f"{API_BASE}/api/files/images/models/x/cover.webp"
    image = await http.get(url)
    assert image.status_code == 200 and image.headers["content-type"] == "image/webp"
    assert "immutable" in image.headers["cache-control"]
    private = await http.get("/api/files/files/models/a.zip")
    assert private.status_code == 403 and private.json()["reason"] == "access_denied"
    assert (await http.get("/api/files/images/models/x/missing.webp")).status_code == 404


async def test_a_signature_only_opens_what_it_was_made_for(
    local_storage: LocalStorage, http: httpx.AsyncClient
) -> None:
    await put_bytes(local_storage, "files", "models/b.zip", b"other")
    url = await local_storage.presign_get("files", "models/a.zip", expires_in=60)
    query = urlsplit(url).query
    assert (await http.get(f"/api/files/files/models/b.zip?{query}")).status_code == 403  # another key
    assert (await http.get(f"/api/files/images/models/a.zip?{query}")).status_code == 403  # another bucket
    assert (await http.put(url, content=b"overwrite")).status_code == 403  # a GET URL cannot write
    params = {k: v[0] for k, v in parse_qs(query).items()}
    for change in ({"exp": str(int(params["exp"]) + 3600)}, {"dn": "evil.exe"}, {"sig": "A" * 43}):
        forged = f"/api/files/files/models/a.zip?{urlencode({**params, **change})}"
        response = await http.get(forged)
        assert response.status_code == 403, change
    assert await read_bytes(local_storage, "files", "models/a.zip") == DATA


async def test_signed_put_respects_its_size_cap(local_storage: LocalStorage, http: httpx.AsyncClient) -> None:
    url = await local_storage.presign_put("files", "uploads/c.zip", expires_in=60, max_bytes=1000)
    too_big = await http.put(url, content=b"x" * 1001)
    assert too_big.status_code == 413 and too_big.json()["reason"] == "payload_too_large"

    async def unannounced() -> AsyncIterator[bytes]:  # no Content-Length: caught while streaming
        for _ in range(10):
            yield b"y" * 500

    streamed = await http.put(url, content=unannounced())
    assert streamed.status_code == 413
    assert list((local_storage.root / ".tmp").iterdir()) == []
    ok = await http.put(url, content=b"z" * 1000)
    assert ok.status_code == 200 and ok.headers["etag"]
    assert await read_bytes(local_storage, "files", "uploads/c.zip") == b"z" * 1000


async def test_files_route_is_absent_when_r2_is_configured(http: httpx.AsyncClient) -> None:
    from shared.storage.backends.s3 import S3Storage
    from shared.storage.factory import set_storage
    from tests.support.storage_world import s3_endpoint

    set_storage(S3Storage(s3_endpoint("http://127.0.0.1:1")))
    assert (await http.get("/api/files/images/models/x/cover.webp")).status_code == 404


@pytest.mark.parametrize("path", ["/api/files/files/..%2F..%2Fetc%2Fpasswd", "/api/files/secret/a.zip"])
async def test_bad_paths_are_refused(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path + "?op=get&exp=9999999999&sig=x")
    assert response.status_code in (400, 403, 404)
