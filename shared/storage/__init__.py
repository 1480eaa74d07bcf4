"""Object storage: R2/S3 (boto3) or a local directory behind one protocol, chosen from settings.

What routes use:
    get_storage()                                  the process's backend (`Storage` protocol)
    store_image(storage, data, preset)             WebP derivatives in the images bucket
    signed_download_url(bucket, key, filename=...) presigned GET with Content-Disposition
    sniff(head) / part_size_for(size)              type from first bytes / R2-safe multipart part size
Nothing heavy is imported here: boto3 and Pillow load on first use.

Layout: base.py (the protocol and the helpers over it), errors.py, keys.py, factory.py (picks the backend),
backends/local/ and backends/s3/ (one package per backend), replication/ (the mirrored wrapper and its
queue), images.py, sniff.py, parts.py, disposition.py, uploads.py (claiming direct uploads), sweep.py.
"""

from shared.config import get_settings
from shared.storage.base import (
    CompletedPart,
    HealthStatus,
    ListedObject,
    ObjectInfo,
    ObjectStream,
    Storage,
    put_bytes,
    put_stream,
    read_bytes,
)
from shared.storage.errors import (
    BadImage,
    ExpiredSignature,
    InvalidKey,
    InvalidMultipart,
    InvalidSignature,
    MalformedForm,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
    TooLarge,
    UnsupportedType,
)
from shared.storage.factory import get_storage, set_storage
from shared.storage.images import PRESETS, StoredImage, delete_image, store_image
from shared.storage.parts import part_size_for
from shared.storage.sniff import sniff


async def signed_download_url(
    bucket: str, key: str, *, filename: str | None = None, expires_in: int | None = None
) -> str:
    """A short-lived GET URL for a private file (default `DOWNLOAD_URL_TTL_S`, 300 s)."""
    ttl = expires_in or get_settings().download_url_ttl_s
    return await get_storage().presign_get(bucket, key, expires_in=ttl, filename=filename)  # type: ignore[arg-type]


__all__ = [
    "PRESETS",
    "BadImage",
    "CompletedPart",
    "ExpiredSignature",
    "HealthStatus",
    "InvalidKey",
    "InvalidMultipart",
    "InvalidSignature",
    "ListedObject",
    "MalformedForm",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStream",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "StoredImage",
    "TooLarge",
    "UnsupportedType",
    "delete_image",
    "get_storage",
    "part_size_for",
    "put_bytes",
    "put_stream",
    "read_bytes",
    "set_storage",
    "signed_download_url",
    "sniff",
    "store_image",
]
