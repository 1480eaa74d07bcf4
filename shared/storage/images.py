"""Images: decode safely, re-encode to WebP derivatives at the contract's sizes, store, drop the original.

Pillow is imported on first use (it is heavy and most functions never decode images). Decoding is the
dangerous part, so: only JPEG/PNG/WebP decoders are allowed, the pixel count is checked from the header
before any pixel is decoded (50 MP; Pillow's DecompressionBombWarning is raised as an error too), EXIF
orientation is applied and then every bit of metadata is dropped by re-encoding. It runs in a thread.

Keys are predictable from the image id: `<folder>/<image_id>/<derivative>.webp`, e.g.
`models/<uuid>/cover.webp`; the first derivative of a preset is the one that goes into `image_src`.
"""

from __future__ import annotations

import io
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from anyio import to_thread

from shared.storage.base import Storage, put_bytes
from shared.storage.errors import BadImage, UnsupportedType
from shared.storage.keys import check_key
from shared.storage.sniff import IMAGE_TYPES, sniff

MAX_PIXELS = 50_000_000
WEBP_QUALITY = 82


@dataclass(frozen=True)
class Derivative:
    name: str
    box: int


# Fit within box×box, keep the aspect ratio, never upscale.
PRESETS: dict[str, tuple[Derivative, ...]] = {
    "avatar": (Derivative("avatar", 200),),
    "model_cover": (Derivative("cover", 500), Derivative("large", 1200)),
    "model_image": (Derivative("large", 1200),),
    "interior_cover": (Derivative("cover", 600), Derivative("large", 1200)),
    "interior_image": (Derivative("large", 1200),),
    "brand_logo": (Derivative("logo", 400),),
    "category": (Derivative("image", 100),),
}
FOLDERS = {
    "avatar": "avatars",
    "model_cover": "models",
    "model_image": "models",
    "interior_cover": "interiors",
    "interior_image": "interiors",
    "brand_logo": "brands",
    "category": "categories",
}


@dataclass(frozen=True)
class EncodedImage:
    name: str
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class StoredImage:
    """What a route saves: `key` is the main derivative (the `image_src`), `keys` every derivative."""

    id: str
    key: str
    keys: dict[str, str]
    width: int
    height: int
    size: int

    @property
    def all_keys(self) -> list[str]:
        return list(self.keys.values())


_pil: Any = None


def _pillow() -> Any:
    global _pil
    if _pil is None:
        from PIL import Image, ImageOps  # heavy: Pillow, loaded by the first image decode only

        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        _pil = (Image, ImageOps)
    return _pil


def encode_derivatives(
    data: bytes, derivatives: Sequence[Derivative], *, field: str | None = None
) -> list[EncodedImage]:
    """Decode once, then resize and WebP-encode each derivative. Blocking: call it from a thread."""
    kind = sniff(data[:64])
    if kind not in IMAGE_TYPES:
        raise UnsupportedType("the file is not a JPEG, PNG or WebP image", field=field)
    Image, ImageOps = _pillow()
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG", "PNG", "WEBP"]) as img:
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise BadImage(f"the image is too large ({width}×{height} pixels, at most 50 MP)", field=field)
            if img.format == "JPEG":
                biggest = max(d.box for d in derivatives)
                img.draft("RGB", (biggest, biggest))
            img.seek(0)
            frame = ImageOps.exif_transpose(img)
            frame.load()
    except BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage("the image has too many pixels (decompression bomb refused)", field=field) from None
    except (OSError, ValueError, SyntaxError, Image.UnidentifiedImageError, EOFError) as exc:
        raise BadImage(f"the image could not be decoded: {exc}", field=field) from None
    frame = _normalise_mode(frame)
    encoded: list[EncodedImage] = []
    for derivative in derivatives:
        out = frame.copy()
        out.thumbnail((derivative.box, derivative.box), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        out.save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
        encoded.append(EncodedImage(derivative.name, buffer.getvalue(), out.width, out.height))
    return encoded


def _normalise_mode(frame: Any) -> Any:
    if frame.mode in ("RGB", "RGBA"):
        return frame
    has_alpha = frame.mode in ("LA", "PA") or (frame.mode == "P" and "transparency" in frame.info)
    return frame.convert("RGBA" if has_alpha else "RGB")


def image_keys(preset: str, image_id: str) -> dict[str, str]:
    folder = FOLDERS[preset]
    return {d.name: check_key(f"{folder}/{image_id}/{d.name}.webp") for d in PRESETS[preset]}


async def store_image(
    storage: Storage, data: bytes, preset: str, *, image_id: str | None = None, field: str | None = None
) -> StoredImage:
    """Re-encode `data` per `preset` and store every derivative in the images bucket.

    Raises `UnsupportedType` (not an image), `BadImage` (corrupt, bomb). If storing one derivative
    fails, those already stored are deleted, so nothing half-done remains.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown image preset {preset!r}")
    image_id = image_id or str(uuid.uuid4())
    keys = image_keys(preset, image_id)
    encoded = await to_thread.run_sync(lambda: encode_derivatives(data, PRESETS[preset], field=field))
    stored: list[str] = []
    try:
        for item in encoded:
            await put_bytes(storage, "images", keys[item.name], item.data, content_type="image/webp")
            stored.append(keys[item.name])
    except BaseException:
        await delete_keys(storage, stored)
        raise
    main = encoded[0]
    return StoredImage(image_id, keys[main.name], keys, main.width, main.height, len(main.data))


async def delete_keys(storage: Storage, keys: Sequence[str], bucket: str = "images") -> None:
    """Best-effort removal (shielded from cancellation); what fails here the sweep finds as orphans."""
    with anyio.CancelScope(shield=True):
        for key in keys:
            try:
                await storage.delete(bucket, key)  # type: ignore[arg-type]
            except Exception:  # noqa: S112 - cleanup must try every key
                continue


async def delete_image(storage: Storage, main_key: str) -> None:
    """Delete an image and all its derivatives given the key stored in `image_src`."""
    folder, image_id = main_key.split("/")[:2]
    preset_keys = {key for preset, f in FOLDERS.items() if f == folder for key in image_keys(preset, image_id).values()}
    await delete_keys(storage, sorted(preset_keys | {main_key}))
