"""Storage errors, each carrying the HTTP status and envelope reason it should surface as.

The error middleware maps any `StorageError` through `to_api_error` into the envelope's `ApiError`
(status, reason, the field named); nothing else here knows about HTTP.
"""

from __future__ import annotations

from shared.http.errors import ApiError, FieldError


class StorageError(Exception):
    status: int = 500
    reason: str = "internal"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def to_api_error(self) -> Exception:
        """The hook the error middleware calls: the envelope's reason/status, the field named."""
        errors = [FieldError(self.field, str(self))] if self.field else None
        headers = {"Retry-After": "5"} if self.status == 503 else None
        return ApiError(self.reason, str(self), status=self.status, errors=errors, headers=headers)


class StorageUnavailable(StorageError):
    """The backend (and its replica, if any) could not be reached or answered with a server error."""

    status = 503
    reason = "unavailable"


class ObjectNotFound(StorageError):
    status = 404
    reason = "not_found"


class TooLarge(StorageError):
    """A stream crossed its byte limit; the partial object has already been removed."""

    status = 413
    reason = "payload_too_large"

    def __init__(self, message: str, *, field: str | None = None, limit: int | None = None) -> None:
        super().__init__(message, field=field)
        self.limit = limit


class UnsupportedType(StorageError):
    """The bytes (not the file name) are not one of the accepted types for this field."""

    status = 415
    reason = "unsupported_media_type"


class InvalidKey(StorageError):
    """An object key that could escape its bucket or is otherwise malformed."""

    status = 400
    reason = "validation"


class BadImage(StorageError):
    """A file claimed to be an image but could not be decoded safely (corrupt, truncated, a bomb)."""

    status = 400
    reason = "validation"


class MalformedForm(StorageError):
    """A multipart body that is truncated, has no boundary, or breaks the field rules."""

    status = 400
    reason = "validation"


class InvalidSignature(StorageError):
    """A local signed URL whose signature does not match what it grants."""

    status = 403
    reason = "access_denied"


class ExpiredSignature(StorageError):
    """A local signed URL past its expiry: 403 like R2/S3 answers for an expired presigned URL."""

    status = 403
    reason = "access_denied"


class InvalidMultipart(StorageError):
    """A multipart completion whose part list does not match what was uploaded (or breaks R2 rules)."""

    status = 400
    reason = "validation"


class InvalidRange(StorageError):
    """A byte range that starts past the end of the object (HTTP 416)."""

    status = 416
    reason = "validation"
