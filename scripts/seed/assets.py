"""Objects the seed stores once and reuses: a cover, a gallery image, a brand logo, a small archive."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass


@dataclass(frozen=True)
class SeedAssets:
    cover: str
    gallery: str
    logo: str
    archive_key: str
    archive_size: int


def _png(color: tuple[int, int, int], size: tuple[int, int] = (640, 480)) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    draw.rectangle((size[0] // 4, size[1] // 4, 3 * size[0] // 4, 3 * size[1] // 4), fill=(240, 240, 235))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.obj", "o chair\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    return buffer.getvalue()


async def store_assets() -> SeedAssets:
    from shared.storage import get_storage, put_bytes, store_image
    from shared.storage.keys import new_key

    storage = get_storage()
    cover = await store_image(storage, _png((150, 110, 80)), "model_cover")
    gallery = await store_image(storage, _png((90, 120, 150)), "model_image")
    logo = await store_image(storage, _png((30, 30, 30), (400, 400)), "brand_logo")
    data = _archive()
    key = new_key("models", ext="zip")
    await put_bytes(storage, "files", key, data, content_type="application/zip")
    return SeedAssets(cover.key, gallery.key, logo.key, key, len(data))
