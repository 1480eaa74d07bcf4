"""Object keys and logical bucket names.

Routes speak of two logical buckets, `images` (public) and `files` (private archives); each backend
maps them to its real bucket names. Keys are validated once, here, with the strictest rules any
backend needs, so a key that works locally also works on R2 and can never climb out of a directory.
"""

from __future__ import annotations

import re
import uuid
from typing import Literal

from shared.storage.errors import InvalidKey

Bucket = Literal["images", "files"]
BUCKETS: tuple[Bucket, ...] = ("images", "files")
MAX_KEY_BYTES = 512
_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@=+,-]*$")


def check_bucket(bucket: str) -> Bucket:
    if bucket not in BUCKETS:
        raise InvalidKey(f"unknown bucket {bucket!r}")
    return bucket  # type: ignore[return-value]


def check_key(key: str) -> str:
    """Return `key` unchanged if it is safe everywhere, else raise `InvalidKey` saying why.

    Segments must start with a letter or digit, which rules out `..`, `.`, hidden files and the
    backends' own dot-prefixed scratch directories in one rule.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKey("object key is empty")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidKey(f"object key is longer than {MAX_KEY_BYTES} bytes")
    if key.startswith("/") or "\\" in key:
        raise InvalidKey("object key must be relative and use '/' separators")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey("object key has an empty, '.' or '..' segment (path traversal refused)")
        if not _SAFE_SEGMENT.match(segment):
            raise InvalidKey(f"object key segment {segment!r} has characters outside [A-Za-z0-9._@=+,-]")
    return key


_EXT = re.compile(r"\.([A-Za-z0-9]{1,8})$")


def extension(filename: str) -> str:
    """Lower-case extension without the dot ('' if none); only used to name keys, never to trust."""
    match = _EXT.search(filename or "")
    return match.group(1).lower() if match else ""


def new_key(prefix: str, filename: str = "", *, ext: str | None = None) -> str:
    """A fresh, collision-free key like `models/3f2c.../archive.zip` under a safe prefix."""
    suffix = ext if ext is not None else extension(filename)
    name = f"{uuid.uuid4()}" + (f".{suffix}" if suffix else "")
    return check_key(f"{prefix.strip('/')}/{name}" if prefix else name)
