"""The one place that picks the storage backend from settings, once per process.

`S3_ACCOUNT_ID` or `S3_ENDPOINT_URL` set → R2/S3 (with a mirror when `S3_REPLICA_ENDPOINT_URL` is set);
otherwise the local directory. Nothing connects until the first `get_storage()`, and boto3 loads only with
the first request to R2/S3 (`backends/s3/client.py`).

The replicated wrapper gets its journal by default from `replication/journal.py`; the replicate job imports
this module, never the other way round, so the backends and the wrapper form no import circle.
"""

from __future__ import annotations

import threading

from shared.config import Settings, get_settings
from shared.storage.backends.local import LocalStorage
from shared.storage.backends.s3 import S3Endpoint, S3Storage
from shared.storage.base import Storage
from shared.storage.replication.replica import ReplicatedStorage

_lock = threading.Lock()
_storage: Storage | None = None


def api_base(settings: Settings) -> str:
    return settings.public_api_url or f"http://127.0.0.1:{settings.http_port}"


def build_storage(settings: Settings) -> Storage:
    if not settings.uses_s3:
        return LocalStorage(
            settings.storage_dir,
            secret=settings.url_signing_secret,
            api_base=api_base(settings),
            public_base=settings.base_img_url,
        )

    timeouts = {
        "connect_timeout_s": settings.storage_connect_timeout_s,
        "read_timeout_s": settings.storage_read_timeout_s,
        "max_attempts": settings.storage_max_attempts,
    }
    primary = S3Storage(
        S3Endpoint(
            endpoint_url=settings.s3_endpoint,
            access_id=settings.s3_access_id,
            secret_key=settings.s3_secret_key,
            buckets={"images": settings.s3_images_bucket, "files": settings.s3_files_bucket},
            region=settings.s3_region,
            label="primary",
            **timeouts,
        ),
        public_base=settings.base_img_url,
    )
    if not settings.s3_replica_endpoint_url:
        return primary

    replica = S3Storage(
        S3Endpoint(
            endpoint_url=settings.s3_replica_endpoint_url,
            access_id=settings.s3_replica_access_id or settings.s3_access_id,
            secret_key=settings.s3_replica_secret_key or settings.s3_secret_key,
            buckets={
                "images": settings.s3_replica_images_bucket or settings.s3_images_bucket,
                "files": settings.s3_replica_files_bucket or settings.s3_files_bucket,
            },
            region=settings.s3_region,
            label="replica",
            **timeouts,
        ),
        public_base=settings.base_img_url,
    )
    return ReplicatedStorage(primary, replica)


def get_storage() -> Storage:
    global _storage
    if _storage is None:
        with _lock:
            if _storage is None:
                _storage = build_storage(get_settings())
    return _storage


def set_storage(storage: Storage | None) -> None:
    """Replace (or with None, forget) the process's backend: tests, and scripts with their own settings."""
    global _storage
    with _lock:
        _storage = storage
