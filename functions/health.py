"""Health and meta: liveness (never touches the DB), readiness (DB and storage), metrics."""

from __future__ import annotations

import asyncio
import hmac
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.config import get_settings
from shared.http.app import build_app, lambda_handler
from shared.http.errors import ApiError
from shared.http.json import JSONResponse

STARTED = time.monotonic()
READY_TIMEOUT_S = 2.0


async def liveness(request: Request) -> Response:
    settings = get_settings()
    return JSONResponse(
        {"status": "ok", "version": settings.version, "uptime_s": round(time.monotonic() - STARTED, 1)}
    )


async def _check_db() -> None:
    from shared.db import get_pool  # liveness never touches the DB, so its import path skips psycopg

    pool = await get_pool()
    async with pool.connection(timeout=READY_TIMEOUT_S) as conn:
        await conn.execute("SELECT 1")


async def _check_storage() -> dict[str, str]:
    """Storage readiness, when the storage layer is installed (it reports primary and replica)."""
    try:
        from shared.storage import get_storage
    except ImportError:
        return {}
    result = await get_storage().check()
    return {name: ("ok" if ok else "failing") for name, ok in result.items()}


async def readiness(request: Request) -> Response:
    checks: dict[str, str] = {}
    failing: list[str] = []
    try:
        await asyncio.wait_for(_check_db(), READY_TIMEOUT_S)
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "failing"
        failing.append("database")
    try:
        storage = await asyncio.wait_for(_check_storage(), READY_TIMEOUT_S)
    except Exception:
        storage = {"storage": "failing"}
    for name, state in storage.items():
        checks[f"storage.{name}" if name != "storage" else name] = state
        if state != "ok" and name != "replica":
            failing.append(f"storage.{name}" if name != "storage" else name)
    if failing:
        body = {
            "success": False, "reason": "unavailable", "error": {"status": 503},
            "message": "not ready: " + ", ".join(failing), "checks": checks,
            "request_id": request.state.request_id,
        }
        return JSONResponse(body, 503, headers={"Retry-After": "5"})
    return JSONResponse({"status": "ready", "checks": checks})


async def metrics(request: Request) -> Response:
    settings = get_settings()
    if settings.metrics_token:
        presented = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(presented.encode(), settings.metrics_token.encode()):
            raise ApiError("unauthorized")
    elif settings.is_production:
        raise ApiError("access_denied")
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from shared.observability.metrics import REGISTRY

    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


routes = [
    Route("/health", liveness, methods=["GET", "HEAD"]),
    Route("/api/health", liveness, methods=["GET", "HEAD"]),
    Route("/api/health/ready", readiness, methods=["GET", "HEAD"]),
    Route("/metrics", metrics, methods=["GET"]),
]
app = build_app(routes)
handler = lambda_handler(app)
