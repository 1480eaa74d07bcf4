"""A completed direct upload (`/api/uploads`) attached as a model's archive.

The uploads group owns the table and the rules (`shared.storage.uploads.claim_upload`: the caller's own,
completed, unexpired upload of kind `model_archive`, marked attached in the caller's transaction);
this module only turns what it returns into the model's file columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.http.errors import ApiError, FieldError
from shared.http.ids import as_uuid


@dataclass(frozen=True)
class AttachedUpload:
    key: str
    size: int
    filename: str
    ext: str


async def claim_upload(conn: Any, upload_id: str, user_id: str) -> AttachedUpload:
    if as_uuid(upload_id) is None:
        raise ApiError("validation", errors=[FieldError("upload_id", "no completed upload with this id")])
    from shared.storage.uploads import claim_upload as claim

    claimed = await claim(upload_id, owner_id=user_id, kind="model_archive", conn=conn)
    return AttachedUpload(claimed.key, int(claimed.size or 0), (claimed.filename or "model")[:255],
                          (claimed.file_type or "")[:10])
