"""The uploads group's request bodies and the checks on them, as plain values."""

from __future__ import annotations

import uuid
from typing import Literal

import msgspec

from shared.http.errors import ApiError


class NewUpload(msgspec.Struct, forbid_unknown_fields=False):
    kind: Literal["model_archive", "image"]
    filename: str
    size: int
    content_type: str = ""


class PartBody(msgspec.Struct):
    part_number: int
    etag: str


class CompleteBody(msgspec.Struct, forbid_unknown_fields=False):
    parts: list[PartBody] = []


def parse_upload_id(raw: str) -> str:
    """The path's upload id in canonical form; anything that is not a UUID is simply not found."""
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise ApiError("not_found") from None


def check_new(body: NewUpload) -> None:
    name = body.filename.strip()
    if not 1 <= len(name) <= 255 or "/" in name or "\\" in name or "\x00" in name:
        raise ApiError("validation", errors=[{"field": "filename", "message": "a file name of 1..255 characters"}])
    if body.size <= 0:
        raise ApiError("validation", errors=[{"field": "size", "message": "size must be a positive byte count"}])
    if len(body.content_type) > 255:
        raise ApiError("validation", errors=[{"field": "content_type", "message": "too long"}])
