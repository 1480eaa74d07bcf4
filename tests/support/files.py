"""Small real files built in memory: PNG images and ZIP archives (deterministic bytes)."""

from __future__ import annotations

import io
import zipfile

OBJ = b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"


def png_bytes(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (32, 24)) -> bytes:
    from PIL import Image  # Pillow is heavy; only the tests that make images pay for it

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def zip_bytes(name: str = "chair.obj", content: bytes = OBJ, *, size: int = 0) -> bytes:
    """An archive holding one file; `size` pads it with that many comment bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))  # fixed time: same bytes every run
        archive.writestr(info, content + b"#" * size)
    return buffer.getvalue()
