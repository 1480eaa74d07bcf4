"""Request id, language, access log line and metrics for every request.

Outermost of our middleware so the log line and the metric see the final status, including
errors rendered by the inner layers.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.i18n import current_language, pick_language
from shared.observability.context import current_request_id
from shared.observability.recording import observe_request

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("tridmo.access")
_PROBES = frozenset({"/health", "/api/health", "/api/health/ready", "/metrics"})


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, log_requests: bool = True) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        lang = pick_language(headers.get(b"accept-language", b"").decode("latin-1"))
        id_token = current_request_id.set(request_id)
        lang_token = current_language.set(lang)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        raw_id = request_id.encode()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", raw_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            observe_request(scope["method"], template, status, duration)
            # Load balancers probe health every few seconds: log those only when they fail.
            if self.log_requests and (status != 200 or template not in _PROBES):
                access_log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "route": template,
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(duration * 1000, 2),
                    },
                )
            current_request_id.reset(id_token)
            current_language.reset(lang_token)
