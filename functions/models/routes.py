"""`/api/models`: 3D furniture models. Public lists and detail; brands (own models) and admins write."""

from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.models import inputs, listing, writes
from functions.models.queries import lists
from functions.models.queries.detail import count_view, model_detail, with_extras
from shared.auth.guard import CurrentUser, requires
from shared.domain.common import path_int
from shared.domain.downloads import request_download
from shared.http.bodies import is_multipart, json_arrays, read_write
from shared.http.envelope import created, ok
from shared.http.errors import ApiError, FieldError
from shared.http.ids import query_uuid, uuid_or_404
from shared.http.pagination import page_request
from shared.http.validation import convert, parse_body


@requires("opt")
async def list_models(request: Request, user: CurrentUser | None) -> Response:
    parsed = inputs.list_filters(request.query_params, is_admin=bool(user and user.is_admin))
    page = page_request(request, lists.ORDER_COLUMNS)
    result = await listing.list_models(lists.model_filters(parsed), page)
    return ok(result.answer("models"))


@requires("pub")
async def count_models(request: Request, _: None) -> Response:
    parsed = inputs.list_filters(request.query_params, with_deleted_flag=False)
    return ok({"count": await lists.count_models(lists.model_filters(parsed))})


@requires("opt")
async def model_counts(request: Request, user: CurrentUser | None) -> Response:
    brand_id = query_uuid(request, "brand_id")
    return ok({"counts": await lists.model_counts(brand_id, bool(user and user.is_admin))})


@requires("pub")
async def cart(request: Request, _: None) -> Response:
    return ok({"models": await lists.cart(inputs.cart_ids(request.query_params))})


@requires("opt")
async def get_model(request: Request, user: CurrentUser | None) -> Response:
    model = await model_detail(request.path_params["identifier"], include_deleted=bool(user and user.is_admin))
    viewer = user.id if user else None
    model = await with_extras(model, viewer)
    response = ok({"model": model})
    response.background = BackgroundTask(count_view, model["id"], viewer)  # after the answer is sent
    return response


@requires("brand", "admin")
async def create_model(request: Request, user: CurrentUser) -> Response:
    if not is_multipart(request):
        raise ApiError("unsupported_media_type", errors=[FieldError("content-type", "expected multipart/form-data")])
    if not user.is_admin and not user.brand_id:
        raise ApiError("access_denied")
    rules = inputs.file_rules(cover_required=True)
    body, form = await read_write(request, inputs.ModelIn, files=rules, arrays=inputs.ARRAYS)
    try:
        model = await writes.create_model(user, body, form)
    except BaseException:
        await form.cleanup()
        raise
    return created({"model": model})


@requires("brand", "admin")
async def update_model(request: Request, user: CurrentUser) -> Response:
    model_id = uuid_or_404(request.path_params["id"])
    rules = inputs.file_rules(cover_required=False, archive=False)
    body, form = await read_write(request, inputs.ModelEdit, files=rules, arrays=inputs.ARRAYS)
    try:
        model, dropped = await writes.update_model(user, model_id, body, form)
    except BaseException:
        if form is not None:
            await form.cleanup()
        raise
    await writes.delete_unused_images(dropped)
    return ok({"model": model}, "updated")


@requires("brand", "admin")
async def replace_file(request: Request, user: CurrentUser) -> Response:
    model_id = uuid_or_404(request.path_params["id"])
    if is_multipart(request):
        rules = {"file": inputs.file_rules(cover_required=False)["file"]}
        body, form = await read_write(request, inputs.FileIn, files=rules)
    else:
        body, form = await parse_body(request, inputs.FileIn), None
    try:
        model, old = await writes.replace_file(user, model_id, form, body.upload_id)
    except BaseException:
        if form is not None:
            await form.cleanup()
        raise
    await writes.delete_unused_file(old)
    return ok({"model": model}, "updated")


@requires("brand", "admin")
async def add_images(request: Request, user: CurrentUser) -> Response:
    model_id = uuid_or_404(request.path_params["id"])
    if not is_multipart(request):
        raise ApiError("unsupported_media_type", errors=[FieldError("content-type", "expected multipart/form-data")])
    rules = {"images": inputs.file_rules(cover_required=False)["images"]}
    _, form = await read_write(request, inputs.FileIn, files=rules)
    try:
        model = await writes.add_images(user, model_id, form)
    except BaseException:
        await form.cleanup()
        raise
    return created({"model": model})


@requires("brand", "admin")
async def remove_image(request: Request, user: CurrentUser) -> Response:
    key = await writes.remove_image(user, uuid_or_404(request.path_params["image_id"]))
    await writes.delete_unused_images([key])
    return ok(None, "deleted")


def _links_route(kind: str):  # noqa: ANN202
    single = "material_id" if kind == "materials" else "color_id"

    @requires("brand", "admin")
    async def add_links(request: Request, user: CurrentUser) -> Response:
        model_id = uuid_or_404(request.path_params["id"])
        raw = await parse_body(request, dict)
        body = convert(json_arrays(raw, inputs.LINK_ARRAYS), inputs.LinksIn)
        ids = list(getattr(body, kind))
        if getattr(body, single) is not None:
            ids.append(getattr(body, single))
        return ok({"model": await writes.add_links(user, model_id, kind, ids)}, "updated")

    @requires("brand", "admin")
    async def remove_link(request: Request, user: CurrentUser) -> Response:
        model_id = uuid_or_404(request.path_params["id"])
        await writes.remove_link(user, model_id, kind, path_int(request.path_params[single]))
        return ok(None, "deleted")

    return add_links, remove_link


@requires("brand", "admin")
async def delete_model(request: Request, user: CurrentUser) -> Response:
    await writes.soft_delete(user, uuid_or_404(request.path_params["id"]))
    return ok(None, "deleted")


@requires("user")
async def download(request: Request, user: CurrentUser) -> Response:
    return ok(await request_download(user, uuid_or_404(request.path_params["id"])))


_add_materials, _remove_material = _links_route("materials")
_add_colors, _remove_color = _links_route("colors")

routes = [
    Route("/api/models", list_models, methods=["GET"]),
    Route("/api/models", create_model, methods=["POST"]),
    Route("/api/models/count", count_models, methods=["GET"]),
    Route("/api/models/counts", model_counts, methods=["GET"]),
    Route("/api/models/cart", cart, methods=["GET"]),
    Route("/api/models/file/{id}", replace_file, methods=["PUT"]),
    Route("/api/models/images/{id}", add_images, methods=["POST"]),
    Route("/api/models/images/{image_id}", remove_image, methods=["DELETE"]),
    Route("/api/models/materials/{id}", _add_materials, methods=["POST"]),
    Route("/api/models/colors/{id}", _add_colors, methods=["POST"]),
    Route("/api/models/materials/{material_id}/{id}", _remove_material, methods=["DELETE"]),
    Route("/api/models/colors/{color_id}/{id}", _remove_color, methods=["DELETE"]),
    Route("/api/models/download/{id}", download, methods=["POST"]),
    Route("/api/models/{identifier}", get_model, methods=["GET"]),
    Route("/api/models/{id}", update_model, methods=["PUT"]),
    Route("/api/models/{id}", delete_model, methods=["DELETE"]),
]
