"""`GET /api/downloads`: who downloaded what; admins see all, a brand only its own models."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.auth.guard import CurrentUser, requires
from shared.domain import downloads as dl
from shared.http.app import build_app, lambda_handler
from shared.http.envelope import ok
from shared.http.errors import ApiError, FieldError
from shared.http.ids import query_uuid
from shared.http.pagination import page_request


def _time(request: Request, name: str) -> datetime | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ApiError("validation", errors=[FieldError(name, "expected an ISO 8601 time")]) from None


@requires("brand", "admin")
async def list_downloads(request: Request, user: CurrentUser) -> Response:
    filters = {name: query_uuid(request, name) for name in ("user_id", "brand_id", "model_id")}
    filters["from"], filters["to"] = _time(request, "from"), _time(request, "to")
    if not user.is_admin:
        if not user.brand_id or (filters["brand_id"] and filters["brand_id"] != user.brand_id):
            raise ApiError("access_denied")
        filters["brand_id"] = user.brand_id
    page = page_request(request, dl.ORDER_COLUMNS)
    return ok((await dl.list_downloads(page, filters)).answer("downloads"))


routes = [Route("/api/downloads", list_downloads, methods=["GET"])]
app = build_app(routes)
handler = lambda_handler(app)
