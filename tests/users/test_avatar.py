"""Avatars go through the streamed form and the image pipeline; a failed update leaves no object."""

from __future__ import annotations

import io

from PIL import Image

from shared.storage import get_storage


def _jpeg(size=(640, 480)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


async def _objects(prefix: str) -> list[str]:
    return [o.key async for o in get_storage().list("images", prefix)]


async def test_avatar_upload_replaces_the_old_one(client, make_user):
    user = await make_user()
    r = await client.put("/api/users/profile", headers=user.auth, data={"full_name": "With Avatar"},
                         files={"image": ("me.jpg", _jpeg(), "image/jpeg")})
    assert r.status_code == 200, r.text
    profile = r.json()["data"]["user"]
    first = profile["image_src"]
    assert first.startswith("avatars/") and first.endswith(".webp") and profile["image_url"].endswith(first)
    served = await client.get(profile["image_url"].removeprefix("http://testserver"))
    assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(served.content)) as img:
        assert max(img.size) == 200
    r = await client.put("/api/users/profile", headers=user.auth, files={"image": ("me2.png", _jpeg(), "image/png")})
    assert r.status_code == 200
    second = r.json()["data"]["user"]["image_src"]
    assert second != first
    keys = await _objects("avatars/")
    assert second in keys and first not in keys


async def test_bad_avatar_or_bad_field_leaves_nothing_behind(client, make_user):
    user = await make_user()
    before = await _objects("avatars/")
    junk = {"image": ("x.jpg", b"not an image", "image/jpeg")}
    r = await client.put("/api/users/profile", headers=user.auth, files=junk)
    assert r.status_code in (400, 415) and r.json()["errors"][0]["field"] == "image"
    r = await client.put("/api/users/profile", headers=user.auth, data={"username": "bad name!"},
                         files={"image": ("ok.jpg", _jpeg(), "image/jpeg")})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "username"
    assert await _objects("avatars/") == before
