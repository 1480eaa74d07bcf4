"""HMAC-signed URLs for the local backend, mirroring what presigned URLs give on R2.

A signature covers everything the URL grants (operation, bucket, key, expiry, the download filename,
the multipart upload id and part number, the content type of a PUT), JSON-encoded so no field can bleed
into another. The signature is checked before the expiry, so a forged expiry reads as a bad signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from shared.storage.errors import ExpiredSignature, InvalidSignature

MAX_TTL_S = 7 * 24 * 3600  # the S3 SigV4 ceiling, kept for parity
OPS = ("get", "put", "part")


@dataclass(frozen=True)
class Grant:
    op: str
    bucket: str
    key: str
    expires: int
    filename: str = ""
    upload_id: str = ""
    part_number: int = 0
    content_type: str = ""
    max_bytes: int = 0

    def _message(self) -> bytes:
        fields = [
            self.op,
            self.bucket,
            self.key,
            self.expires,
            self.filename,
            self.upload_id,
            self.part_number,
            self.content_type,
            self.max_bytes,
        ]
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode()

    def signature(self, secret: str) -> str:
        digest = hmac.new(secret.encode(), self._message(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def query(self, secret: str) -> str:
        params: dict[str, str] = {"op": self.op, "exp": str(self.expires)}
        if self.filename:
            params["dn"] = self.filename
        if self.upload_id:
            params["up"] = self.upload_id
        if self.part_number:
            params["pn"] = str(self.part_number)
        if self.content_type:
            params["ct"] = self.content_type
        if self.max_bytes:
            params["mx"] = str(self.max_bytes)
        params["sig"] = self.signature(secret)
        return urlencode(params)


def expiry(expires_in: int, now: float | None = None) -> int:
    if expires_in <= 0 or expires_in > MAX_TTL_S:
        raise ValueError(f"expires_in must be within 1..{MAX_TTL_S} seconds")
    return int((time.time() if now is None else now) + expires_in)


def verify(
    bucket: str,
    key: str,
    query: Mapping[str, str],
    secret: str,
    *,
    ops: tuple[str, ...],
    now: float | None = None,
) -> Grant:
    """Rebuild the grant from the URL and check it; raises `InvalidSignature` or `ExpiredSignature`."""
    op = query.get("op", "")
    try:
        grant = Grant(
            op=op,
            bucket=bucket,
            key=key,
            expires=int(query.get("exp", "")),
            filename=query.get("dn", ""),
            upload_id=query.get("up", ""),
            part_number=int(query.get("pn", "0")),
            content_type=query.get("ct", ""),
            max_bytes=int(query.get("mx", "0")),
        )
    except ValueError:
        raise InvalidSignature("malformed signed URL") from None
    given = query.get("sig", "")
    if not secret or not given or not hmac.compare_digest(given, grant.signature(secret)):
        raise InvalidSignature("signature does not match this URL")
    if op not in ops:
        raise InvalidSignature(f"this URL does not allow {'/'.join(ops)}")
    if grant.expires < (time.time() if now is None else now):
        raise ExpiredSignature("this link has expired")
    return grant
