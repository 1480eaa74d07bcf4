"""Per-client-address rate limits by route class, on every runtime (uvicorn and Lambda).

Sign-in, sign-up, token refresh, password reset and resend-code are `auth` (strict); other POST,
PUT, PATCH and DELETE are `write`; GET and HEAD are `read` (generous). The client address is the
ASGI peer, which uvicorn has already taken from `X-Forwarded-For` when the peer is one of
`TRUSTED_PROXIES`, and Mangum from the API Gateway event's source IP. Refused requests get 429 in
the envelope with `Retry-After`; every answer carries the IETF httpapi draft's `RateLimit-Policy`
and `RateLimit` headers. Signed-in users' writes are also limited per user (shared/auth/guard.py).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.http.limits import Limit, RouteLimits, get_limiter, refusal

AUTH_PATHS = frozenset({
    "/api/auth/signin", "/api/auth/signup", "/api/auth/refreshToken", "/api/auth/resendcode",
    "/api/auth/sendResetPasswordEmail", "/api/auth/resetPassword",
})
EXEMPT_PREFIXES = ("/health", "/api/health", "/metrics")
READ_METHODS = frozenset({"GET", "HEAD"})


def route_class(method: str, path: str, limits: RouteLimits) -> Limit | None:
    """The limit a request falls under, or None (health checks, metrics, CORS preflights)."""
    if method == "OPTIONS" or path.startswith(EXEMPT_PREFIXES):
        return None
    if method in READ_METHODS:
        return limits.read
    path = path.rstrip("/")
    if path in AUTH_PATHS or path.startswith("/api/auth/signin/"):
        return limits.auth
    return limits.write


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limits: RouteLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = route_class(scope.get("method", ""), scope.get("path", ""), self.limits) if (
            scope["type"] == "http") else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        decision = await get_limiter().hit(f"{limit.name}:ip:{client}", limit)
        if not decision.allowed:
            raise refusal(decision)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("RateLimit-Policy", limit.policy_header())
                headers.setdefault("RateLimit", decision.header())
            await send(message)

        await self.app(scope, receive, send_with_headers)
