"""Direct uploads through the API, on both backends: presigned PUT, multipart, checks, ownership."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from shared.config import reset_settings
from shared.db import transaction
from shared.storage import ObjectNotFound, Storage, read_bytes
from shared.storage.backends.local import LocalStorage
from shared.storage.backends.s3 import S3Storage
from shared.storage.factory import set_storage
from shared.storage.uploads import claim_upload
from tests.support.files import zip_bytes
from tests.support.lambda_events import FakeContext, make_event, response_json
from tests.support.samples import SAMPLES, image_bytes
from tests.support.storage_world import MotoS3, s3_endpoint

MIB = 1024 * 1024


@dataclass
class Api:
    client: httpx.AsyncClient  # the ASGI app
    http: httpx.AsyncClient  # follows the signed URLs (the app itself for local storage)
    storage: Storage


@pytest_asyncio.fixture(params=["local", "s3"], loop_scope="session")
async def api(request: pytest.FixtureRequest, client: httpx.AsyncClient, tmp_path: Any) -> AsyncIterator[Api]:
    os.environ["MULTIPART_THRESHOLD_BYTES"] = str(16 * MIB)
    reset_settings()
    if request.param == "local":
        storage: Storage = LocalStorage(tmp_path / "storage", secret="s", api_base="http://testserver")
        set_storage(storage)
        yield Api(client, client, storage)
    else:
        moto: MotoS3 = request.getfixturevalue("moto_s3")
        storage = S3Storage(s3_endpoint(moto.url))
        set_storage(storage)
        async with httpx.AsyncClient() as http:
            yield Api(client, http, storage)
    set_storage(None)
    del os.environ["MULTIPART_THRESHOLD_BYTES"]
    reset_settings()


async def start(api: Api, user: dict, **body: Any) -> httpx.Response:
    payload = {"kind": "model_archive", "filename": "chair.zip", "content_type": "application/zip", **body}
    return await api.client.post("/api/uploads", json=payload, headers=user.auth)


async def test_archive_upload_by_presigned_put_is_checked_and_claimable(api: Api, make_user: Any) -> None:
    brand = await make_user("brand")
    data = zip_bytes(size=100_000)
    started = await start(api, brand, size=len(data))
    assert started.status_code == 201, started.text
    plan = started.json()["data"]
    assert plan["method"] == "PUT" and plan["expires_in"] == 3600 and "parts" not in plan
    put = await api.http.put(plan["url"], content=data, headers=plan["headers"])
    assert put.status_code == 200, put.text
    done = await api.client.post(f"/api/uploads/{plan['upload_id']}/complete", json={}, headers=brand.auth)
    assert done.status_code == 200, done.text
    assert done.json()["data"] | {"expires_at": None} == {
        "upload_id": plan["upload_id"], "kind": "model_archive", "filename": "chair.zip",
        "status": "completed", "size": len(data), "type": "zip", "expires_at": None,
    }  # fmt: skip
    async with transaction() as conn:
        claimed = await claim_upload(plan["upload_id"], owner_id=brand["id"], kind="model_archive", conn=conn)
    assert claimed.size == len(data) and claimed.file_type == "zip"
    assert await read_bytes(api.storage, "files", claimed.key) == data


async def test_big_archive_uses_equal_multipart_parts(api: Api, make_user: Any) -> None:
    designer = await make_user("designer")
    data = os.urandom(17 * MIB)
    data = SAMPLES["glb"] + data[len(SAMPLES["glb"]) :]
    started = await start(api, designer, filename="room.glb", size=len(data))
    plan = started.json()["data"]
    assert plan["part_size"] == 8 * MIB and [p["size"] for p in plan["parts"]] == [8 * MIB, 8 * MIB, 1 * MIB]
    parts = []
    for part in plan["parts"]:
        offset = (part["part_number"] - 1) * plan["part_size"]
        response = await api.http.put(part["url"], content=data[offset : offset + part["size"]])
        assert response.status_code == 200, response.text
        parts.append({"part_number": part["part_number"], "etag": response.headers["etag"]})
    done = await api.client.post(
        f"/api/uploads/{plan['upload_id']}/complete", json={"parts": parts}, headers=designer.auth
    )
    assert done.status_code == 200, done.text
    assert done.json()["data"]["type"] == "glb" and done.json()["data"]["size"] == len(data)


async def test_limits_and_types_are_refused_up_front(api: Api, make_user: Any) -> None:
    brand = await make_user("brand")
    too_big = await start(api, brand, size=3 * 1024**3)
    assert too_big.status_code == 413 and too_big.json()["errors"][0]["field"] == "size"
    image_too_big = await start(api, brand, kind="image", filename="a.png", size=21 * MIB)
    assert image_too_big.status_code == 413
    exe = await start(api, brand, filename="setup.exe", size=100)
    assert exe.status_code == 415 and exe.json()["errors"][0]["field"] == "filename"
    image_as_archive = await start(api, brand, filename="photo.jpg", size=100)
    assert image_as_archive.status_code == 415
    assert (await api.client.post("/api/uploads", json={"kind": "model_archive"})).status_code == 401


async def test_wrong_bytes_behind_a_right_name_are_refused_and_removed(api: Api, make_user: Any, sql: Any) -> None:
    brand = await make_user("brand")
    fake = b"MZ\x90\x00" + b"\x00" * 5000
    plan = (await start(api, brand, size=len(fake))).json()["data"]
    key = sql("SELECT object_key FROM uploads WHERE id = %s", (plan["upload_id"],))[0]["object_key"]
    await api.http.put(plan["url"], content=fake, headers=plan["headers"])
    done = await api.client.post(f"/api/uploads/{plan['upload_id']}/complete", json={}, headers=brand.auth)
    assert done.status_code == 415 and done.json()["reason"] == "unsupported_media_type"
    with pytest.raises(ObjectNotFound):
        await api.storage.head("files", key)
    again = await api.client.post(f"/api/uploads/{plan['upload_id']}/complete", json={}, headers=brand.auth)
    assert again.status_code == 404


async def test_size_mismatch_is_a_400(api: Api, make_user: Any) -> None:
    brand = await make_user("brand")
    plan = (await start(api, brand, size=5000)).json()["data"]
    await api.http.put(plan["url"], content=zip_bytes(size=10), headers=plan["headers"])
    done = await api.client.post(f"/api/uploads/{plan['upload_id']}/complete", json={}, headers=brand.auth)
    assert done.status_code == 400 and done.json()["errors"][0]["field"] == "size"


async def test_someone_elses_upload_is_not_found_and_owner_can_delete(api: Api, make_user: Any) -> None:
    owner, other = await make_user("brand"), await make_user("designer")
    data = zip_bytes()
    plan = (await start(api, owner, size=len(data))).json()["data"]
    await api.http.put(plan["url"], content=data, headers=plan["headers"])
    url = f"/api/uploads/{plan['upload_id']}"
    assert (await api.client.post(url + "/complete", json={}, headers=other.auth)).status_code == 404
    assert (await api.client.delete(url, headers=other.auth)).status_code == 404
    assert (await api.client.delete(url, headers=owner.auth)).status_code == 200
    assert (await api.client.post(url + "/complete", json={}, headers=owner.auth)).status_code == 404
    assert not [o async for o in api.storage.list("files", "models/") if o.key in plan["url"]]


async def test_deleting_a_multipart_upload_aborts_it(api: Api, make_user: Any) -> None:
    brand = await make_user("brand")
    plan = (await start(api, brand, size=20 * MIB)).json()["data"]
    first = plan["parts"][0]
    assert (await api.http.put(first["url"], content=b"\0" * first["size"])).status_code == 200
    assert (await api.client.delete(f"/api/uploads/{plan['upload_id']}", headers=brand.auth)).status_code == 200
    second = await api.http.put(plan["parts"][1]["url"], content=b"\0" * 10)
    assert second.status_code >= 400  # R2: 404 NoSuchUpload; moto answers 500; local: 404


async def test_expired_upload_is_gone_and_swept(api: Api, make_user: Any, sql: Any) -> None:
    from shared.storage.sweep import sweep

    brand = await make_user("brand")
    data = zip_bytes()
    plan = (await start(api, brand, size=len(data))).json()["data"]
    await api.http.put(plan["url"], content=data, headers=plan["headers"])
    sql("UPDATE uploads SET expires_at = now() - interval '1 minute' WHERE id = %s", (plan["upload_id"],))
    done = await api.client.post(f"/api/uploads/{plan['upload_id']}/complete", json={}, headers=brand.auth)
    assert done.status_code == 410
    key = sql("SELECT object_key FROM uploads WHERE id = %s", (plan["upload_id"],))[0]["object_key"]
    report = await sweep(api.storage, grace_s=3600)
    assert report.expired_uploads >= 1
    assert sql("SELECT 1 FROM uploads WHERE id = %s", (plan["upload_id"],)) == []
    with pytest.raises(ObjectNotFound):
        await api.storage.head("files", key)


async def test_sweep_removes_old_orphans_and_keeps_referenced_and_young(api: Api, make_user: Any, sql: Any) -> None:
    from shared.storage import store_image
    from shared.storage.sweep import sweep

    user = await make_user("designer")
    avatar = await store_image(api.storage, image_bytes("PNG", (400, 400)), "avatar")
    orphan = await store_image(api.storage, image_bytes("PNG", (400, 400)), "avatar")
    sql("UPDATE profiles SET image_src = %s WHERE id = %s", (avatar.key, user["id"]))
    young = await sweep(api.storage, grace_s=3600, dry_run=True)
    assert young.orphans["images"] == 0 and young.kept_young >= 1
    report = await sweep(api.storage, grace_s=0)
    assert report.orphans["images"] >= 1
    assert (await api.storage.head("images", avatar.key)).size > 0
    with pytest.raises(ObjectNotFound):
        await api.storage.head("images", orphan.key)


def test_upload_starts_through_the_lambda_handler(database: str, sql: Any) -> None:
    from functions.auth import handler as auth_handler
    from functions.uploads import handler

    email = f"lambda-upload-{os.urandom(4).hex()}@example.com"
    signup = {"full_name": "Lambda Brand", "email": email, "password": "lambda-pass-1"}
    answer = auth_handler(make_event("v2", "POST", "/api/auth/signup", body=signup), FakeContext())
    data = response_json(answer)["data"]
    sql("UPDATE profiles SET role_id = 2 WHERE id = %s", (data["user"]["id"],))
    event = make_event(
        "v2", "POST", "/api/uploads", headers={"authorization": f"Bearer {data['token']['accessToken']}"},
        body={"kind": "image", "filename": "cover.webp", "size": 1000, "content_type": "image/webp"},
    )  # fmt: skip
    response = handler(event, FakeContext())
    assert response["statusCode"] == 201, response
    assert response_json(response)["data"]["url"].startswith("http://testserver/api/files/files/uploads/")


async def test_multipart_parts_out_of_order_and_reuploaded_assemble_exactly(api: Api, make_user: Any) -> None:
    """Parts arrive in any order and a retried part replaces the earlier one (R2/S3 semantics);
    on the local backend this exercises both the in-place layout and its per-part fallback."""
    brand = await make_user("brand")
    data = os.urandom(17 * MIB)
    data = SAMPLES["glb"] + data[len(SAMPLES["glb"]) :]
    plan = (await start(api, brand, filename="sofa.glb", size=len(data))).json()["data"]
    chunk = {p["part_number"]: data[(p["part_number"] - 1) * plan["part_size"]:][: p["size"]] for p in plan["parts"]}
    urls = {p["part_number"]: p["url"] for p in plan["parts"]}
    garbage = await api.http.put(urls[1], content=os.urandom(len(chunk[1])))
    assert garbage.status_code == 200
    etags = {}
    for number in sorted(urls, reverse=True):
        response = await api.http.put(urls[number], content=chunk[number])
        assert response.status_code == 200, response.text
        etags[number] = response.headers["etag"]
    stale = [{"part_number": 1, "etag": garbage.headers["etag"]},
             *({"part_number": n, "etag": etags[n]} for n in (2, 3))]
    refused = await api.client.post(
        f"/api/uploads/{plan['upload_id']}/complete", json={"parts": stale}, headers=brand.auth
    )
    assert refused.status_code == 400, refused.text
    parts = [{"part_number": n, "etag": etags[n]} for n in sorted(etags)]
    complete_url = f"/api/uploads/{plan['upload_id']}/complete"
    done = await api.client.post(complete_url, json={"parts": parts}, headers=brand.auth)
    assert done.status_code == 200, done.text
    async with transaction() as conn:
        claimed = await claim_upload(plan["upload_id"], owner_id=brand["id"], kind="model_archive", conn=conn)
    assert await read_bytes(api.storage, "files", claimed.key) == data
