"""`/api/notifications`: the caller's notifications; only their recipient can see, mark or delete them.

Every statement is scoped by `user_id = caller`, so another user's notification id simply matches
nothing: 404, never a hint that it exists.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.notifications import queries
from functions.notifications.inputs import IdsBody, notification_ids
from shared.auth.guard import CurrentUser, requires
from shared.db import connection, execute, fetch_all, fetch_one
from shared.domain.media import image_object
from shared.http.envelope import ok
from shared.http.errors import ApiError
from shared.http.ids import path_uuid
from shared.http.pagination import page_request, pagination
from shared.http.validation import parse_body, query_bool, query_list


def _notification(r: dict) -> dict:
    return {
        "id": str(r["id"]),
        "type": r["type"],
        "text": r["text"],
        "seen": r["seen"],
        "created_at": r["created_at"],
        "comment_id": str(r["comment_id"]) if r["comment_id"] else None,
        "actor": {
            "id": str(r["a_id"]), "username": r["a_username"], "full_name": r["a_full_name"],
            "image_src": r["a_image_src"], "image_url": (image_object(r["a_image_src"]) or {}).get("url"),
        } if r["a_id"] else None,
        "model": {"id": str(r["m_id"]), "name": r["m_name"], "slug": r["m_slug"]} if r["m_id"] else None,
        "interior": {"id": str(r["i_id"]), "name": r["i_name"], "slug": r["i_slug"]} if r["i_id"] else None,
    }


@requires("user")
async def list_notifications(request: Request, user: CurrentUser) -> Response:
    page = page_request(request, {"created_at": "n.created_at"})
    condition = queries.seen_condition(query_bool(request.query_params, "seen"))
    async with connection() as conn:
        counts = await fetch_one(queries.page_counts_sql(condition), (user.id,), conn)
        rows = await fetch_all(queries.notifications_page_sql(condition), (user.id, page.limit, page.offset), conn)
    assert counts is not None
    return ok({
        "notifications": [_notification(r) for r in rows],
        "unread_count": counts["unread"],
        "pagination": pagination(page, counts["total"]),
    })


@requires("user")
async def notification_counts(request: Request, user: CurrentUser) -> Response:
    row = await fetch_one(queries.COUNTS, (user.id,))
    assert row is not None
    return ok({"counts": {"all": row["all"], "unread": row["unread"], "seen": row["all"] - row["unread"]},
               "unread_count": row["unread"]})


@requires("user")
async def mark_seen_many(request: Request, user: CurrentUser) -> Response:
    body = await parse_body(request, IdsBody)
    ids = notification_ids(body.ids)
    rows = await fetch_all(queries.MARK_SEEN_MANY, (user.id, ids))
    if not rows:
        raise ApiError("not_found")
    return ok({"updated": len(rows)}, "notifications_seen")


@requires("user")
async def mark_seen_all(request: Request, user: CurrentUser) -> Response:
    updated = await execute(queries.MARK_SEEN_ALL, (user.id,))
    return ok({"updated": updated}, "notifications_seen")


@requires("user")
async def mark_seen_one(request: Request, user: CurrentUser) -> Response:
    notification_id = path_uuid(request)
    row = await fetch_one(queries.MARK_SEEN_ONE, (user.id, notification_id))
    if row is None:
        raise ApiError("not_found")
    return ok({"updated": 1}, "notifications_seen")


@requires("user")
async def delete_many(request: Request, user: CurrentUser) -> Response:
    values = query_list(request.query_params, "ids")
    if not values and request.headers.get("content-type", "").startswith("application/json"):
        values = (await parse_body(request, IdsBody)).ids
    ids = notification_ids(values)
    rows = await fetch_all(queries.DELETE_MANY, (user.id, ids))
    if not rows:
        raise ApiError("not_found")
    return ok({"deleted": len(rows)}, "deleted")


@requires("user")
async def delete_one(request: Request, user: CurrentUser) -> Response:
    notification_id = path_uuid(request)
    row = await fetch_one(queries.DELETE_ONE, (user.id, notification_id))
    if row is None:
        raise ApiError("not_found")
    return ok(None, "deleted")


routes = [
    Route("/api/notifications", list_notifications, methods=["GET"]),
    Route("/api/notifications", mark_seen_many, methods=["PUT"]),
    Route("/api/notifications", delete_many, methods=["DELETE"]),
    Route("/api/notifications/counts", notification_counts, methods=["GET"]),
    Route("/api/notifications/all", mark_seen_all, methods=["PUT"]),
    Route("/api/notifications/{id}", mark_seen_one, methods=["PUT"]),
    Route("/api/notifications/{id}", delete_one, methods=["DELETE"]),
]
