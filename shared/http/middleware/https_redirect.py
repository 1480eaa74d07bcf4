"""HTTPS enforcement behind a TLS-terminating proxy (Render, our router, API Gateway).

The proxy speaks plain HTTP to us, so the original scheme comes from `X-Forwarded-Proto`, trusted
only from the configured proxy addresses. Plain-HTTP requests are redirected (308 keeps the method
and body); health checks are exempt because load balancers probe over plain HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import URL
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

_EXEMPT = ("/health", "/api/health", "/metrics")


class HTTPSRedirectMiddleware:
    def __init__(self, app: ASGIApp, *, trusted_proxies: Iterable[str] = ("127.0.0.1", "::1")) -> None:
        self.app = app
        self.trusted = set(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_EXEMPT):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("", 0))[0]
        proto = scope.get("scheme", "http")
        if "*" in self.trusted or client in self.trusted:
            for name, value in scope["headers"]:
                if name == b"x-forwarded-proto":
                    proto = value.decode("latin-1").split(",")[0].strip().lower()
                    break
        if proto == "https":
            await self.app({**scope, "scheme": "https"}, receive, send)
            return
        url = URL(scope=scope).replace(scheme="https", port=None)
        await RedirectResponse(str(url), status_code=308)(scope, receive, send)
