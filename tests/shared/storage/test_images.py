"""Images are re-encoded to WebP derivatives; orientation fixed, metadata and bombs dropped."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from shared.storage import BadImage, UnsupportedType, read_bytes, store_image
from shared.storage.backends.local import LocalStorage
from shared.storage.images import PRESETS, delete_image
from tests.support.samples import SAMPLES, bomb_png, image_bytes, rotated_jpeg


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


async def test_model_cover_gets_its_derivatives_and_no_original(local_storage: LocalStorage) -> None:
    stored = await store_image(local_storage, image_bytes("PNG", (2000, 1000)), "model_cover")
    assert stored.key == f"models/{stored.id}/cover.webp"
    assert set(stored.keys) == {"cover", "large"}
    cover = decode(await read_bytes(local_storage, "images", stored.keys["cover"]))
    large = decode(await read_bytes(local_storage, "images", stored.keys["large"]))
    assert (cover.format, cover.size, large.size) == ("WEBP", (500, 250), (1200, 600))
    listed = [o.key async for o in local_storage.list("images", f"models/{stored.id}/")]
    assert sorted(listed) == sorted(stored.keys.values())  # nothing else, no original
    assert (await local_storage.head("images", stored.key)).content_type == "image/webp"


@pytest.mark.parametrize(("preset", "box"), [(p, d[0].box) for p, d in PRESETS.items()])
async def test_each_preset_fits_its_box(local_storage: LocalStorage, preset: str, box: int) -> None:
    stored = await store_image(local_storage, image_bytes("JPEG", (3000, 2000)), preset)
    assert max(stored.width, stored.height) == box
    assert (stored.width, stored.height) == (box, round(box * 2 / 3))


async def test_small_images_are_not_upscaled(local_storage: LocalStorage) -> None:
    stored = await store_image(local_storage, image_bytes("WEBP", (64, 32)), "avatar")
    assert (stored.width, stored.height) == (64, 32)


async def test_exif_orientation_is_applied_and_metadata_stripped(local_storage: LocalStorage) -> None:
    stored = await store_image(local_storage, rotated_jpeg(), "model_image")
    image = decode(await read_bytes(local_storage, "images", stored.key))
    assert image.size == (600, 800)  # portrait, as the camera meant it
    assert not image.getexif() and "exif" not in image.info and "xmp" not in image.info


async def test_transparency_survives(local_storage: LocalStorage) -> None:
    stored = await store_image(local_storage, image_bytes("PNG", (300, 300), mode="RGBA"), "brand_logo")
    assert decode(await read_bytes(local_storage, "images", stored.key)).mode == "RGBA"


async def test_decompression_bomb_is_refused(local_storage: LocalStorage) -> None:
    data = bomb_png()
    assert len(data) < 100_000
    with pytest.raises(BadImage, match="pixels"):
        await store_image(local_storage, data, "avatar", field="image")
    assert [o async for o in local_storage.list("images")] == []


async def test_corrupt_and_non_images_are_refused_with_the_field(local_storage: LocalStorage) -> None:
    truncated = image_bytes("JPEG", (800, 600))[:300]
    with pytest.raises(BadImage) as bad:
        await store_image(local_storage, truncated, "avatar", field="image")
    assert bad.value.field == "image" and bad.value.status == 400
    with pytest.raises(UnsupportedType) as wrong:
        await store_image(local_storage, SAMPLES["zip"], "avatar", field="image")
    assert wrong.value.field == "image" and wrong.value.status == 415


async def test_deleting_an_image_removes_every_derivative(local_storage: LocalStorage) -> None:
    stored = await store_image(local_storage, image_bytes("PNG", (900, 900)), "interior_cover")
    await delete_image(local_storage, stored.key)
    assert [o async for o in local_storage.list("images")] == []
