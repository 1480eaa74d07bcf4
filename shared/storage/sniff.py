"""Recognise a file's type from its first bytes, because names and declared content types lie.

`sniff(head)` looks at up to `SNIFF_BYTES` bytes and returns a short type name, or None. OLE2 compound
files are reported as `max` (3ds Max scenes are OLE2), which also matches old Office files: the archive
check cannot tell them apart, and they are harmless to store.
"""

from __future__ import annotations

import re
import struct

SNIFF_BYTES = 4096

ARCHIVE_TYPES = frozenset({"zip", "rar", "7z", "max", "fbx", "obj", "glb", "gltf", "blend", "3ds"})
IMAGE_TYPES = frozenset({"jpeg", "png", "webp"})
ALLOWED_TYPES: dict[str, frozenset[str]] = {"model_archive": ARCHIVE_TYPES, "image": IMAGE_TYPES}

CONTENT_TYPES = {
    "zip": "application/zip",
    "rar": "application/vnd.rar",
    "7z": "application/x-7z-compressed",
    "max": "application/octet-stream",
    "fbx": "application/octet-stream",
    "obj": "model/obj",
    "glb": "model/gltf-binary",
    "gltf": "model/gltf+json",
    "blend": "application/x-blender",
    "3ds": "application/x-3ds",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}
# Extensions a client may declare before uploading; the bytes are checked again on completion.
EXTENSIONS: dict[str, str] = {
    "zip": "zip",
    "rar": "rar",
    "7z": "7z",
    "max": "max",
    "fbx": "fbx",
    "obj": "obj",
    "glb": "glb",
    "gltf": "gltf",
    "blend": "blend",
    "3ds": "3ds",
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "png": "png",
    "webp": "webp",
}

_OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")
_OBJ_LINE = re.compile(rb"^\s*(#.*|v|vn|vt|vp|f|l|p|o|g|s|mtllib|usemtl|cstype|deg|curv|curv2|surf|parm|end)(\s.*)?$")


def sniff(head: bytes) -> str | None:
    head = head[:SNIFF_BYTES]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if head.startswith((b"Rar!\x1a\x07\x00", b"Rar!\x1a\x07\x01\x00")):
        return "rar"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if len(head) >= 12 and head[:4] == b"glTF" and struct.unpack_from("<I", head, 4)[0] in (1, 2):
        return "glb"
    if head.startswith(b"Kaydara FBX Binary"):
        return "fbx"
    if head.startswith(b"BLENDER"):
        return "blend"
    if head.startswith(_OLE2):
        return "max"
    if _is_3ds(head):
        return "3ds"
    return _sniff_text(head)


def _is_3ds(head: bytes) -> bool:
    # Main chunk 0x4D4D (little-endian) with its length, followed by a version or editor chunk.
    if len(head) < 12 or head[:2] != b"MM":
        return False
    length = struct.unpack_from("<I", head, 2)[0]
    child = struct.unpack_from("<H", head, 6)[0]
    return length >= 6 and child in (0x0002, 0x3D3D, 0xB000)


def _sniff_text(head: bytes) -> str | None:
    text = head.removeprefix(b"\xef\xbb\xbf")
    if b"\x00" in text:
        return None
    stripped = text.lstrip()
    if stripped.startswith(b"{") and b'"asset"' in text:
        return "gltf"
    if (stripped.startswith(b";") and b"FBX" in text[:200]) or b"FBXHeaderExtension" in text:
        return "fbx"
    return "obj" if _looks_like_obj(text) else None


def _looks_like_obj(text: bytes) -> bool:
    lines = text.splitlines()
    if len(text) >= SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in the middle
    seen_vertex = False
    for line in lines:
        if not line.strip():
            continue
        if not _OBJ_LINE.match(line):
            return False
        seen_vertex = seen_vertex or line.lstrip().startswith((b"v ", b"v\t"))
    return seen_vertex


def allowed(kind: str, sniffed: str | None) -> bool:
    return sniffed is not None and sniffed in ALLOWED_TYPES.get(kind, frozenset())
