"""Small real files of every type we accept (and some we must refuse), built in memory."""

from __future__ import annotations

import io
import struct

from tests.support.files import zip_bytes

SAMPLES: dict[str, bytes] = {
    "zip": zip_bytes(),
    "rar": b"Rar!\x1a\x07\x01\x00" + b"\x00" * 32,
    "7z": b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24,
    "glb": b"glTF" + struct.pack("<II", 2, 1000) + b"\x00" * 20,
    "gltf": b'  {\n "asset": {"version": "2.0"}, "scenes": []}',
    "fbx": b"Kaydara FBX Binary  \x00\x1a\x00" + b"\x00" * 20,
    "fbx_ascii": b"; FBX 7.4.0 project file\n; Copyright\nFBXHeaderExtension:  {\n}",
    "obj": (
        b"# Blender v2.9\nmtllib chair.mtl\no Chair\nv 0.1 0.2 0.3\nv 1 1 1\nvn 0 1 0\nvt 0 0\nf 1/1/1 2/1/1 1/1/1\n"
    ),
    "3ds": b"MM" + struct.pack("<I", 5000) + struct.pack("<H", 0x0002) + struct.pack("<I", 10) + b"\x03\x00\x00\x00",
    "blend": b"BLENDER-v300REND" + b"\x00" * 16,
    "max": bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 24,
}


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (800, 600), mode: str = "RGB", **save: object) -> bytes:
    from PIL import Image

    image = Image.new(mode, size, (200, 30, 30) if mode == "RGB" else None)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def rotated_jpeg() -> bytes:
    """800×600 pixels with EXIF orientation 6 (rotate 90° when shown) and a GPS tag to strip."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N"}
    return image_bytes("JPEG", exif=exif.tobytes())


def bomb_png() -> bytes:
    """A tiny file that decodes to 12000×12000 = 144 megapixels."""
    return image_bytes("PNG", (12000, 12000), mode="1")


def multipart_body(parts: list[tuple[str, str | None, bytes]], boundary: str = "XyZzYbOuNdArY") -> tuple[str, bytes]:
    """(content type, body) for fields (`filename` None) and files."""
    out = bytearray()
    for name, filename, data in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", bytes(out)
