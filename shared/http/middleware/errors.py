"""Turns every exception into the contract's error envelope; never leaks a stack trace.

Known failures of dependencies become honest statuses: a database or storage outage is a 503
`unavailable` (the client may retry), not a 500.
"""

from __future__ import annotations

import logging
import sys

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.http.envelope import error_response
from shared.http.errors import REASON_BY_STATUS, ApiError
from shared.observability.recording import count_db_error, count_storage_error

log = logging.getLogger("tridmo.errors")


def to_api_error(exc: BaseException) -> ApiError | None:
    """Map an exception to an ApiError when it has a known meaning, else None (a real 500)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, HTTPException):
        reason = REASON_BY_STATUS.get(exc.status_code, "validation")
        return ApiError(reason, status=exc.status_code, headers=exc.headers)
    psycopg = sys.modules.get("psycopg")
    pool = sys.modules.get("psycopg_pool")
    if (psycopg and isinstance(exc, psycopg.OperationalError)) or (
        pool and isinstance(exc, pool.PoolTimeout)
    ):
        count_db_error("connection")
        log.error("database unavailable", exc_info=exc)
        return ApiError("unavailable", headers={"Retry-After": "5"})
    if psycopg and isinstance(exc, psycopg.errors.QueryCanceled):
        count_db_error("timeout")
        log.error("query timed out", exc_info=exc)
        return ApiError("unavailable", headers={"Retry-After": "5"})
    mapper = getattr(exc, "to_api_error", None)
    if callable(mapper):
        mapped = mapper()
        if isinstance(mapped, ApiError) and mapped.status == 503:
            count_storage_error(type(exc).__name__)
            log.error("dependency unavailable", exc_info=exc)
        return mapped
    return None


class ErrorEnvelopeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            api_error = to_api_error(exc)
            if api_error is None:
                log.error("unhandled error", exc_info=exc, extra={"path": scope.get("path")})
                api_error = ApiError("internal")
            if started:
                # Headers are gone; the only honest thing left is to cut the body short.
                log.error("error after response started", exc_info=exc)
                return
            response = error_response(api_error)
            await response(scope, receive, send)
