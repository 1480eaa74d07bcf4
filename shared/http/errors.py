"""The one error type routes raise, and the contract's error codes with their statuses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

STATUS_BY_REASON: dict[str, int] = {
    "validation": 400,
    "unauthorized": 401,
    "token_expired": 401,
    "access_denied": 403,
    "banned": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "gone": 410,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "idempotency_key_reused": 422,
    "rate_limited": 429,
    "internal": 500,
    "unavailable": 503,
}
REASON_BY_STATUS: dict[int, str] = {status: reason for reason, status in STATUS_BY_REASON.items()}
REASON_BY_STATUS[401] = "unauthorized"
REASON_BY_STATUS[403] = "access_denied"


class FieldError(dict):
    """One entry of the envelope's `errors` list: which field, and what is wrong with it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field=field, message=message)


class ApiError(Exception):
    """Raised anywhere in a request; the error middleware renders it in the envelope.

    `message` is an i18n key or literal text; when omitted the reason's own message is used.
    """

    def __init__(
        self,
        reason: str,
        message: str | None = None,
        *,
        status: int | None = None,
        errors: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        **params: object,
    ) -> None:
        self.reason = reason
        self.status = status or STATUS_BY_REASON.get(reason, 400)
        self.message_key = message or reason
        self.params = params
        self.errors = [dict(e) for e in errors] if errors else None
        self.headers = dict(headers or {})
        super().__init__(f"{self.status} {reason}: {self.message_key}")


def validation_error(field: str, message: str) -> ApiError:
    """A 400 naming one field (the common case for hand-written checks)."""
    return ApiError("validation", errors=[FieldError(field, message)])


def not_found(what: str = "not_found") -> ApiError:
    return ApiError("not_found", what)


def forbidden(message: str = "access_denied") -> ApiError:
    return ApiError("access_denied", message)


def conflict(message: str = "conflict", field: str | None = None) -> ApiError:
    errors = [FieldError(field, message)] if field else None
    return ApiError("conflict", message, errors=errors)
