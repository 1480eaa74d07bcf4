"""`/api/brands`: public list and detail; admins create (with the brand's admin account) and delete;
a brand's own admin account may edit its brand."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.brands import queries, writes
from functions.brands.inputs import ARRAYS, LOGO_RULES, BrandEdit, BrandIn
from shared.auth.guard import CurrentUser, requires
from shared.domain.deletion import delete_image_quietly, delete_user_everywhere
from shared.http.bodies import read_write, set_fields
from shared.http.envelope import created, ok
from shared.http.errors import ApiError
from shared.http.ids import query_uuid, uuid_or_404
from shared.http.pagination import page_request


@requires("pub")
async def list_brands(request: Request, _: None) -> Response:
    page = page_request(request, queries.ORDER_COLUMNS)
    country = query_uuid(request, "country_id")
    result = await queries.brands_page(page, request.query_params.get("name") or None, country)
    return ok(result.answer("brands"))


@requires("pub")
async def get_brand(request: Request, _: None) -> Response:
    brand = await queries.brand_detail(request.path_params["identifier"])
    if brand is None:
        raise ApiError("not_found")
    return ok({"brand": brand})


@requires("admin")
async def create_brand(request: Request, _: CurrentUser) -> Response:
    body, form = await read_write(request, BrandIn, files=LOGO_RULES, arrays=ARRAYS)
    logo = form.file("image").key if form is not None and form.file("image") else None
    try:
        result = await writes.create_brand(body, logo)
    except BaseException:
        if form is not None:
            await form.cleanup()
        raise
    return created(result)


@requires("brand", "admin")
async def update_brand(request: Request, user: CurrentUser) -> Response:
    brand_id = uuid_or_404(request.path_params["id"])
    if not user.is_admin and user.brand_id != brand_id:
        raise ApiError("access_denied")
    body, form = await read_write(request, BrandEdit, files=LOGO_RULES, arrays=ARRAYS)
    values = set_fields(body)
    stored = form.file("image") if form is not None else None
    if stored:
        values["logo"] = stored.key
    try:
        brand, replaced = await writes.update_brand(brand_id, values)
    except BaseException:
        if form is not None:
            await form.cleanup()
        raise
    if replaced:
        await delete_image_quietly(replaced)
    return ok({"brand": brand}, "updated")


@requires("admin")
async def delete_brand(request: Request, _: CurrentUser) -> Response:
    brand_id = uuid_or_404(request.path_params["id"])
    accounts, logo = await writes.delete_brand(brand_id)
    for account in accounts:
        await delete_user_everywhere(account)
    if logo:
        await delete_image_quietly(logo)
    return ok({"id": brand_id}, "deleted")


routes = [
    Route("/api/brands", list_brands, methods=["GET"]),
    Route("/api/brands", create_brand, methods=["POST"]),
    Route("/api/brands/{identifier}", get_brand, methods=["GET"]),
    Route("/api/brands/{id}", update_brand, methods=["PUT"]),
    Route("/api/brands/{id}", delete_brand, methods=["DELETE"]),
]
