"""`/api/projects`: a user's named collections of models. Owner only: another user's project is 404."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.projects import queries
from functions.projects.inputs import ProjectCreate, ProjectUpdate
from shared.auth.guard import CurrentUser, requires
from shared.db import connection, fetch_all, fetch_one, fetch_val, transaction
from shared.domain.media import image_object
from shared.http.envelope import created, ok
from shared.http.errors import ApiError
from shared.http.ids import path_uuid
from shared.http.pagination import page_request, pagination
from shared.http.validation import parse_body


def _project(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "name": row["name"], "description": row["description"],
        "models_count": row["models_count"], "created_at": row["created_at"], "updated_at": row["updated_at"],
    }


async def _own(conn: AsyncConnection[Any], project_id: str, user: CurrentUser, *, lock: bool = False) -> dict:
    row = await fetch_one(queries.own_project_sql(lock=lock), (project_id, user.id), conn)
    if row is None:
        raise ApiError("not_found")
    return row


async def _with_models(conn: AsyncConnection[Any], row: dict[str, Any]) -> dict[str, Any]:
    project = _project(row)
    models = []
    for m in await fetch_all(queries.PROJECT_MODELS, (row["id"],), conn):
        cover = image_object(m["cover_src"])
        models.append({
            "id": str(m["id"]), "slug": m["slug"], "name": m["name"], "cover": [cover] if cover else [],
            "brand": {"id": str(m["b_id"]), "name": m["b_name"], "slug": m["b_slug"]} if m["b_id"] else None,
            "added_at": m["added_at"],
        })
    project["models"] = models
    return project


@requires("user")
async def list_projects(request: Request, user: CurrentUser) -> Response:
    page = page_request(request, {"created_at": "p.created_at", "name": "p.name", "updated_at": "p.updated_at"})
    async with connection() as conn:
        total = await fetch_val(queries.PROJECTS_COUNT, (user.id,), conn)
        rows = await fetch_all(
            queries.projects_page_sql(page.order_clause("p.id")), (user.id, page.limit, page.offset), conn
        )
    return ok({"projects": [_project(r) for r in rows], "pagination": pagination(page, total)})


@requires("user")
async def get_project(request: Request, user: CurrentUser) -> Response:
    project_id = path_uuid(request)
    async with connection() as conn:
        return ok({"project": await _with_models(conn, await _own(conn, project_id, user))})


@requires("user")
async def create_project(request: Request, user: CurrentUser) -> Response:
    body = await parse_body(request, ProjectCreate)
    async with transaction() as conn:
        row = await fetch_one(queries.INSERT_PROJECT, (user.id, body.name.strip() or body.name, body.description), conn)
        assert row is not None
        return created({"project": await _with_models(conn, row)}, "project_created")


@requires("user")
async def update_project(request: Request, user: CurrentUser) -> Response:
    project_id = path_uuid(request)
    body = await parse_body(request, ProjectUpdate)
    async with transaction() as conn:
        await _own(conn, project_id, user, lock=True)
        row = await fetch_one(queries.UPDATE_PROJECT, (body.name, body.description, project_id), conn)
        assert row is not None
        return ok({"project": await _with_models(conn, row)}, "updated")


@requires("user")
async def delete_project(request: Request, user: CurrentUser) -> Response:
    project_id = path_uuid(request)
    row = await fetch_one(queries.DELETE_OWN_PROJECT, (project_id, user.id))
    if row is None:
        raise ApiError("not_found")
    return ok(None, "deleted")


@requires("user")
async def add_model(request: Request, user: CurrentUser) -> Response:
    project_id = path_uuid(request)
    model_id = path_uuid(request, "model_id")
    async with transaction() as conn:
        await _own(conn, project_id, user, lock=True)
        if await fetch_one(queries.LIVE_MODEL, (model_id,), conn) is None:
            raise ApiError("not_found")
        await conn.execute(queries.ADD_MODEL, (project_id, model_id))
        return ok({"project": await _with_models(conn, await _own(conn, project_id, user))}, "updated")


@requires("user")
async def remove_model(request: Request, user: CurrentUser) -> Response:
    project_id = path_uuid(request)
    model_id = path_uuid(request, "model_id")
    async with transaction() as conn:
        await _own(conn, project_id, user, lock=True)
        await conn.execute(queries.REMOVE_MODEL, (project_id, model_id))
        return ok({"project": await _with_models(conn, await _own(conn, project_id, user))}, "updated")


routes = [
    Route("/api/projects", list_projects, methods=["GET"]),
    Route("/api/projects", create_project, methods=["POST"]),
    Route("/api/projects/{id}/model/{model_id}", add_model, methods=["POST"]),
    Route("/api/projects/{id}/model/{model_id}", remove_model, methods=["DELETE"]),
    Route("/api/projects/{id}", get_project, methods=["GET"]),
    Route("/api/projects/{id}", update_project, methods=["PUT"]),
    Route("/api/projects/{id}", delete_project, methods=["DELETE"]),
]
