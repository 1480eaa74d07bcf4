"""Builds a function group's Starlette app with the shared middleware stack.

Every group (and `python -m functions`, which mounts them all) is built here, so the envelope,
request ids, CORS, security headers, HTTPS enforcement and metrics are identical everywhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from mangum import Mangum
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from shared.config import get_settings
from shared.http.envelope import error_response
from shared.http.errors import ApiError
from shared.http.limits import route_limits
from shared.http.middleware.errors import ErrorEnvelopeMiddleware, to_api_error
from shared.http.middleware.https_redirect import HTTPSRedirectMiddleware
from shared.http.middleware.idempotency import IdempotencyMiddleware
from shared.http.middleware.rate_limit import RateLimitMiddleware
from shared.http.middleware.request_context import RequestContextMiddleware
from shared.http.middleware.security_headers import SecurityHeadersMiddleware
from shared.http.middleware.trailing_slash import TrailingSlashMiddleware
from shared.observability.logging import configure_logging
from shared.process import tune_process


async def _render_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (and ApiError raised in routes) rendered in our envelope."""
    return error_response(to_api_error(exc) or ApiError("internal"))


def build_app(routes: Sequence[BaseRoute], *, debug: bool = False) -> Starlette:
    settings = get_settings()
    configure_logging(settings.log_level)
    middleware = [
        Middleware(RequestContextMiddleware),
        Middleware(ErrorEnvelopeMiddleware),
    ]
    if settings.force_https:
        middleware.append(Middleware(HTTPSRedirectMiddleware, trusted_proxies=settings.trusted_proxies))
    middleware += [
        Middleware(SecurityHeadersMiddleware, hsts=settings.force_https),
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.allowed_origins) or (["*"] if not settings.is_production else []),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Accept-Language", "X-Request-Id", "Idempotency-Key"],
            expose_headers=["X-Request-Id", "Retry-After", "Content-Disposition", "RateLimit", "RateLimit-Policy"],
            max_age=600,
        ),
        Middleware(TrailingSlashMiddleware),
    ]
    if settings.rate_limit_enabled:  # inside CORS, so a browser can read the 429
        middleware.insert(-1, Middleware(RateLimitMiddleware, limits=route_limits(settings)))
    middleware.insert(-1, Middleware(IdempotencyMiddleware))  # inside the limits: a replay counts too
    app = Starlette(
        debug=debug,
        routes=list(routes),
        middleware=middleware,
        exception_handlers={HTTPException: _render_error, ApiError: _render_error},
    )
    app.router.redirect_slashes = False
    return app


LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def lambda_handler(app: Starlette) -> LambdaHandler:
    """Mangum around the app; lifespan off, because Mangum would run it on every invocation.

    Mangum runs each event on `asyncio.get_event_loop()`, which raises once anything in the
    process has called `asyncio.run()` (it leaves no current loop behind); the wrapper makes sure
    a loop is there, and reuses it so the per-loop DB pool survives between invocations. Creating the
    handler is a Lambda process's start, so the process-wide tuning is applied here (once per process).
    """
    tune_process()
    mangum = Mangum(app, lifespan="off")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
            if loop.is_closed():
                raise RuntimeError("closed")
        except RuntimeError:
            asyncio.set_event_loop(asyncio.new_event_loop())
        return mangum(event, context)

    return handler
