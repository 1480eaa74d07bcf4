"""Building the boto3 client for R2 (or any S3 endpoint), and turning botocore failures into ours.

boto3 is imported here and only when a client is first needed, so a function that never touches storage
pays nothing for it at cold start. The R2 pitfalls live in `client_config`: boto3 >= 1.36 adds checksums
R2 rejects unless told `when_required`; SigV4; path-style addressing on the account endpoint, which is
the only host presigned URLs are valid on.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from shared.storage.errors import (
    InvalidMultipart,
    InvalidRange,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
)

_NOT_FOUND = {"NoSuchKey", "NotFound", "404", "NoSuchUpload"}
_BAD_MULTIPART = {"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "InvalidRequest"}


@dataclass(frozen=True)
class S3Endpoint:
    """One S3-speaking account: where it is, how to sign, and the real names of our two buckets."""

    endpoint_url: str
    access_id: str
    secret_key: str
    buckets: dict[str, str]
    region: str = "auto"
    connect_timeout_s: float = 2.0
    read_timeout_s: float = 15.0
    max_attempts: int = 2
    label: str = "primary"
    extra: dict[str, Any] = field(default_factory=dict)


def r2_endpoint(account_id: str) -> str:
    return f"https://{account_id}.r2.cloudflarestorage.com"


def client_config(endpoint: S3Endpoint) -> Any:
    from botocore.config import Config  # heavy: botocore, loaded with the first client only

    return Config(
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        signature_version="s3v4",
        region_name=endpoint.region,
        connect_timeout=endpoint.connect_timeout_s,
        read_timeout=endpoint.read_timeout_s,
        retries={"max_attempts": endpoint.max_attempts, "mode": "standard"},
        max_pool_connections=32,
        s3={"addressing_style": "path"},
    )


class LazyClient:
    """One boto3 client per endpoint per process, built on first use (thread-safe; clients are)."""

    def __init__(self, endpoint: S3Endpoint) -> None:
        self.endpoint = endpoint
        self._client: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3  # heavy: boto3 and botocore load on the first storage call, not at cold start

                    session = boto3.session.Session()
                    self._client = session.client(
                        "s3",
                        endpoint_url=self.endpoint.endpoint_url,
                        aws_access_key_id=self.endpoint.access_id or None,
                        aws_secret_access_key=self.endpoint.secret_key or None,
                        region_name=self.endpoint.region,
                        config=client_config(self.endpoint),
                    )
        return self._client


def translate(exc: BaseException, label: str, what: str) -> StorageError:
    """Map a botocore exception to a storage error; anything we cannot classify means unavailable."""
    from botocore.exceptions import ClientError  # heavy: botocore; an error implies a client already exists

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _NOT_FOUND or status == 404:
            return ObjectNotFound(f"{what}: not found")
        if code == "InvalidRange" or status == 416:
            return InvalidRange(f"{what}: range not satisfiable")
        if code in _BAD_MULTIPART:
            return InvalidMultipart(f"{what}: {error.get('Message') or code}", field="parts")
        return StorageUnavailable(f"{label} storage refused {what}: {code or status}")
    return StorageUnavailable(f"{label} storage unreachable during {what}: {type(exc).__name__}")
