"""The contract's success and error envelopes, built in one place so every route agrees."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.http.errors import ApiError
from shared.http.json import JSONResponse
from shared.i18n import t
from shared.observability.context import current_request_id


def ok(
    data: Any = None,
    message: str = "ok",
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """`{"success": true, "data": ..., "message": ...}`; `message` is an i18n key or text."""
    return JSONResponse({"success": True, "data": data, "message": t(message)}, status, headers)


def created(data: Any = None, message: str = "created") -> JSONResponse:
    return ok(data, message, status=201)


def error_body(status: int, reason: str, message: str, errors: list[dict] | None = None) -> dict:
    body: dict[str, Any] = {
        "success": False,
        "message": message,
        "reason": reason,
        "error": {"status": status},
        "request_id": current_request_id.get(),
    }
    if errors:
        body["errors"] = errors
    return body


def error_response(exc: ApiError) -> JSONResponse:
    message = t(exc.message_key, **exc.params)
    errors = None
    if exc.errors:
        errors = [{"field": e["field"], "message": t(e["message"])} for e in exc.errors]
    body = error_body(exc.status, exc.reason, message, errors)
    return JSONResponse(body, exc.status, exc.headers or None)
