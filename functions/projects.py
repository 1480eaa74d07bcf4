"""`/api/projects`: a user's named collections of models. Owner only: another user's project is 404."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from psycopg import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.auth.guard import CurrentUser, requires
from shared.db import connection, fetch_all, fetch_one, fetch_val, transaction
from shared.domain.media import image_object
from shared.http.app import build_app, lambda_handler
from shared.http.envelope import created, ok
from shared.http.errors import ApiError
from shared.http.ids import path_uuid
from shared.http.pagination import page_request, pagination
from shared.http.validation import parse_body

ProjectName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
ProjectDescription = Annotated[str, msgspec.Meta(max_length=2000)]


class ProjectCreate(msgspec.Struct, forbid_unknown_fields=False):
    name: ProjectName
    description: ProjectDescription | None = None


class ProjectUpdate(msgspec.Struct, forbid_unknown_fields=False):
    name: ProjectName | None = None
    description: ProjectDescription | None = None


_COLUMNS = "p.id, p.name, p.description, p.models_count, p.created_at, p.updated_at"
_MODELS = """
SELECT m.id, m.slug, m.name, mc.image_src AS cover_src, b.id AS b_id, b.name AS b_name, b.slug AS b_slug,
       pm.created_at AS added_at
FROM project_models pm
JOIN models m ON m.id = pm.model_id AND NOT m.is_deleted
LEFT JOIN model_images mc ON mc.model_id = m.id AND mc.is_main
LEFT JOIN brands b ON b.id = m.brand_id
WHERE pm.project_id = %s
ORDER BY pm.created_at DESC, m.id
"""


def _project(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "name": row["name"], "description": row["description"],
        "models_count": row["models_count"], "created_at": row["created_at"], "updated_at": row["updated_at"],
    }


async def _own(conn: AsyncConnection[Any], project_id: str, user: CurrentUser, *, lock: bool = False) -> dict:
    row = await fetch_one(
        f"SELECT {_COLUMNS} FROM projects p WHERE p.id = %s AND p.user_id = %s{' FOR UPDATE' if lock else ''}",  # noqa: S608
        (project_id, user.id), conn,
    )
    if row is None:
        raise ApiError("not_found")
    return row


async def _with_models(conn: AsyncConnection[Any], row: dict[str, Any]) -> dict[str, Any]:
    project = _project(row)
    models = []
    for m in await fetch_all(_MODELS, (row["id"],), conn):
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
        total = await fetch_val("SELECT count(*) FROM projects WHERE user_id = %s", (user.id,), conn)
        rows = await fetch_all(
            f"SELECT {_COLUMNS} FROM projects p WHERE p.user_id = %s"  # noqa: S608
            f" ORDER BY {page.order_clause('p.id')} LIMIT %s OFFSET %s",
            (user.id, page.limit, page.offset), conn,
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
        row = await fetch_one(
            f"INSERT INTO projects AS p (user_id, name, description) VALUES (%s, %s, %s) RETURNING {_COLUMNS}",  # noqa: S608
            (user.id, body.name.strip() or body.name, body.description), conn,
        )
        assert row is not None
        return created({"project": await _with_models(conn, row)}, "project_created")


@requires("user")
async def update_project(request: Request, user: CurrentUser) -> Response:
    project_id = path_uuid(request)
    body = await parse_body(request, ProjectUpdate)
    async with transaction() as conn:
        await _own(conn, project_id, user, lock=True)
        row = await fetch_one(
            f"""UPDATE projects p SET name = coalesce(%s, name), description = coalesce(%s, description),
                       updated_at = now()
                WHERE id = %s RETURNING {_COLUMNS}""",  # noqa: S608
            (body.name, body.description, project_id), conn,
        )
        assert row is not None
        return ok({"project": await _with_models(conn, row)}, "updated")


@requires("user")
async def delete_project(request: Request, user: CurrentUser) -> Response:
    project_id = path_uuid(request)
    row = await fetch_one("DELETE FROM projects WHERE id = %s AND user_id = %s RETURNING id", (project_id, user.id))
    if row is None:
        raise ApiError("not_found")
    return ok(None, "deleted")


@requires("user")
async def add_model(request: Request, user: CurrentUser) -> Response:
    project_id = path_uuid(request)
    model_id = path_uuid(request, "model_id")
    async with transaction() as conn:
        await _own(conn, project_id, user, lock=True)
        if await fetch_one("SELECT 1 FROM models WHERE id = %s AND NOT is_deleted", (model_id,), conn) is None:
            raise ApiError("not_found")
        await conn.execute(
            "INSERT INTO project_models (project_id, model_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (project_id, model_id),
        )
        return ok({"project": await _with_models(conn, await _own(conn, project_id, user))}, "updated")


@requires("user")
async def remove_model(request: Request, user: CurrentUser) -> Response:
    project_id = path_uuid(request)
    model_id = path_uuid(request, "model_id")
    async with transaction() as conn:
        await _own(conn, project_id, user, lock=True)
        await conn.execute("DELETE FROM project_models WHERE project_id = %s AND model_id = %s", (project_id, model_id))
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
app = build_app(routes)
handler = lambda_handler(app)
