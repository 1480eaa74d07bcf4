"""Accept `/api/models/` as `/api/models` without a redirect, as the existing clients expect."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class TrailingSlashMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                stripped = path.rstrip("/") or "/"
                scope = {**scope, "path": stripped}
                if "raw_path" in scope and scope["raw_path"]:
                    scope["raw_path"] = stripped.encode()
        await self.app(scope, receive, send)
