"""Catalogue dictionaries: `/api/colors`, `/materials`, `/styles`, `/platforms`, `/countries`, `/categories`.

Each dictionary answers GET / (`?keyword=` or `?name=`) and GET /:id publicly; POST, PUT /:id and
DELETE /:id are admin-only. A name that exists is 409; deleting an entry still in use is 409.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.catalog.inputs import category_type, entry_id, image_rules, list_params
from shared.auth.guard import CurrentUser, requires
from shared.domain import dictionaries as d
from shared.domain.deletion import delete_image_quietly
from shared.http.bodies import read_write, set_fields
from shared.http.envelope import created, ok
from shared.http.errors import ApiError
from shared.http.ids import as_uuid
from shared.http.validation import query_bool


def _list_route(spec: d.Dictionary):  # noqa: ANN202
    @requires("pub")
    async def list_entries(request: Request, _: None) -> Response:
        return ok(await d.list_entries(spec, list_params(spec, request.query_params)))

    return list_entries


def _get_route(spec: d.Dictionary):  # noqa: ANN202
    @requires("pub")
    async def get_entry(request: Request, _: None) -> Response:
        return ok(await d.get_entry(spec, entry_id(spec, request.path_params["id"])))

    return get_entry


async def _stored_image(form: Any) -> str | None:
    stored = form.file("image") if form is not None else None
    return stored.key if stored else None


def _create_route(spec: d.Dictionary):  # noqa: ANN202
    @requires("admin")
    async def create_entry(request: Request, _: CurrentUser) -> Response:
        body, form = await read_write(request, spec.create, files=image_rules(spec))
        values = set_fields(body)
        image = await _stored_image(form)
        if image:
            values["image_src"] = image
        try:
            entry = await d.create_entry(spec, values)
        except BaseException:
            if form is not None:
                await form.cleanup()
            raise
        return created(entry)

    return create_entry


def _update_route(spec: d.Dictionary):  # noqa: ANN202
    @requires("admin")
    async def update_entry(request: Request, _: CurrentUser) -> Response:
        target = entry_id(spec, request.path_params["id"])
        body, form = await read_write(request, spec.edit, files=image_rules(spec))
        values = set_fields(body)
        image = await _stored_image(form)
        if image:
            values["image_src"] = image
        try:
            entry, old = await d.update_entry(spec, target, values)
        except BaseException:
            if form is not None:
                await form.cleanup()
            raise
        if image and old.get("image_src"):
            await delete_image_quietly(old["image_src"])
        return ok(entry, "updated")

    return update_entry


def _delete_route(spec: d.Dictionary):  # noqa: ANN202
    @requires("admin")
    async def delete_entry(request: Request, _: CurrentUser) -> Response:
        cascade = bool(query_bool(request.query_params, "cascade")) if spec.key == "categories" else False
        row = await d.delete_entry(spec, entry_id(spec, request.path_params["id"]), cascade=cascade)
        if row.get("image_src"):
            await delete_image_quietly(row["image_src"])
        return ok({"id": row["id"] if spec.int_id else str(row["id"])}, "deleted")

    return delete_entry


@requires("pub")
async def model_platforms(request: Request, _: None) -> Response:
    return ok(await d.list_entries(d.DICTIONARIES["platforms"], {**request.query_params, "type": "1"}))


@requires("pub")
async def render_platforms(request: Request, _: None) -> Response:
    return ok(await d.list_entries(d.DICTIONARIES["platforms"], {**request.query_params, "type": "2"}))


@requires("pub")
async def main_categories(request: Request, _: None) -> Response:
    kind = category_type(request.query_params.get("type"))
    return ok(await d.main_categories(kind, bool(query_bool(request.query_params, "models_count"))))


@requires("pub")
async def brand_categories(request: Request, _: None) -> Response:
    brand_id = as_uuid(request.path_params["brand_id"])
    if brand_id is None:
        raise ApiError("not_found")
    return ok(await d.brand_categories(brand_id))


def _routes() -> list[Route]:
    routes = [
        Route("/api/platforms/model", model_platforms, methods=["GET"]),
        Route("/api/platforms/render", render_platforms, methods=["GET"]),
        Route("/api/categories/main", main_categories, methods=["GET"]),
        Route("/api/categories/brand/{brand_id}", brand_categories, methods=["GET"]),
    ]
    for spec in d.DICTIONARIES.values():
        prefix = f"/api/{spec.key}"
        routes += [
            Route(prefix, _list_route(spec), methods=["GET"], name=f"{spec.key}_list"),
            Route(prefix, _create_route(spec), methods=["POST"], name=f"{spec.key}_create"),
            Route(f"{prefix}/{{id}}", _get_route(spec), methods=["GET"], name=f"{spec.key}_get"),
            Route(f"{prefix}/{{id}}", _update_route(spec), methods=["PUT"], name=f"{spec.key}_update"),
            Route(f"{prefix}/{{id}}", _delete_route(spec), methods=["DELETE"], name=f"{spec.key}_delete"),
        ]
    return routes


routes = _routes()
