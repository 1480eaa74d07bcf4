"""`GET /api/downloads`: who downloaded what; admins see all, a brand only its own models."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.downloads.inputs import iso_time
from shared.auth.guard import CurrentUser, requires
from shared.domain import downloads as dl
from shared.http.envelope import ok
from shared.http.errors import ApiError
from shared.http.ids import query_uuid
from shared.http.pagination import page_request


@requires("brand", "admin")
async def list_downloads(request: Request, user: CurrentUser) -> Response:
    filters = {name: query_uuid(request, name) for name in ("user_id", "brand_id", "model_id")}
    filters["from"] = iso_time(request.query_params.get("from"), "from")
    filters["to"] = iso_time(request.query_params.get("to"), "to")
    if not user.is_admin:
        if not user.brand_id or (filters["brand_id"] and filters["brand_id"] != user.brand_id):
            raise ApiError("access_denied")
        filters["brand_id"] = user.brand_id
    page = page_request(request, dl.ORDER_COLUMNS)
    return ok((await dl.list_downloads(page, filters)).answer("downloads"))


routes = [Route("/api/downloads", list_downloads, methods=["GET"])]
