"""`/api/notifications`: the caller's notifications; only their recipient can see, mark or delete them.

Every statement is scoped by `user_id = caller`, so another user's notification id simply matches
nothing: 404, never a hint that it exists.
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.auth.guard import CurrentUser, requires
from shared.db import connection, execute, fetch_all, fetch_one
from shared.domain.media import image_object
from shared.http.app import build_app, lambda_handler
from shared.http.envelope import ok
from shared.http.errors import ApiError, FieldError
from shared.http.ids import field_uuid, path_uuid
from shared.http.pagination import page_request, pagination
from shared.http.validation import parse_body, query_bool, query_list


class IdsBody(msgspec.Struct, forbid_unknown_fields=False):
    ids: list[str]


_LIST = """
SELECT n.id, n.type, n.text, n.seen, n.created_at, n.comment_id,
       a.id AS a_id, a.username AS a_username, a.full_name AS a_full_name, a.image_src AS a_image_src,
       m.id AS m_id, m.name AS m_name, m.slug AS m_slug,
       i.id AS i_id, i.name AS i_name, i.slug AS i_slug
FROM notifications n
LEFT JOIN profiles a ON a.id = n.actor_id
LEFT JOIN models m ON m.id = n.model_id
LEFT JOIN interiors i ON i.id = n.interior_id
WHERE n.user_id = %s {extra}
ORDER BY n.created_at DESC, n.id DESC
LIMIT %s OFFSET %s
"""


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


def _ids(values: list[str], field: str = "ids") -> list[str]:
    if not values:
        raise ApiError("validation", errors=[FieldError(field, "field_required")])
    return [field_uuid(v, field) for v in values]


@requires("user")
async def list_notifications(request: Request, user: CurrentUser) -> Response:
    page = page_request(request, {"created_at": "n.created_at"})
    seen = query_bool(request, "seen")
    condition = {None: "TRUE", True: "n.seen", False: "NOT n.seen"}[seen]
    async with connection() as conn:
        counts = await fetch_one(
            f"SELECT count(*) FILTER (WHERE {condition}) AS total, count(*) FILTER (WHERE NOT n.seen) AS unread"  # noqa: S608
            " FROM notifications n WHERE n.user_id = %s",
            (user.id,), conn,
        )
        rows = await fetch_all(_LIST.format(extra=f"AND {condition}"), (user.id, page.limit, page.offset), conn)
    assert counts is not None
    return ok({
        "notifications": [_notification(r) for r in rows],
        "unread_count": counts["unread"],
        "pagination": pagination(page, counts["total"]),
    })


@requires("user")
async def notification_counts(request: Request, user: CurrentUser) -> Response:
    row = await fetch_one(
        "SELECT count(*) AS all, count(*) FILTER (WHERE NOT seen) AS unread FROM notifications WHERE user_id = %s",
        (user.id,),
    )
    assert row is not None
    return ok({"counts": {"all": row["all"], "unread": row["unread"], "seen": row["all"] - row["unread"]},
               "unread_count": row["unread"]})


@requires("user")
async def mark_seen_many(request: Request, user: CurrentUser) -> Response:
    body = await parse_body(request, IdsBody)
    ids = _ids(body.ids)
    rows = await fetch_all(
        "UPDATE notifications SET seen = true WHERE user_id = %s AND id = ANY(%s::uuid[]) RETURNING id",
        (user.id, ids),
    )
    if not rows:
        raise ApiError("not_found")
    return ok({"updated": len(rows)}, "notifications_seen")


@requires("user")
async def mark_seen_all(request: Request, user: CurrentUser) -> Response:
    updated = await execute("UPDATE notifications SET seen = true WHERE user_id = %s AND NOT seen", (user.id,))
    return ok({"updated": updated}, "notifications_seen")


@requires("user")
async def mark_seen_one(request: Request, user: CurrentUser) -> Response:
    notification_id = path_uuid(request)
    row = await fetch_one(
        "UPDATE notifications SET seen = true WHERE user_id = %s AND id = %s RETURNING id", (user.id, notification_id)
    )
    if row is None:
        raise ApiError("not_found")
    return ok({"updated": 1}, "notifications_seen")


@requires("user")
async def delete_many(request: Request, user: CurrentUser) -> Response:
    values = query_list(request, "ids")
    if not values and request.headers.get("content-type", "").startswith("application/json"):
        values = (await parse_body(request, IdsBody)).ids
    ids = _ids(values)
    rows = await fetch_all(
        "DELETE FROM notifications WHERE user_id = %s AND id = ANY(%s::uuid[]) RETURNING id", (user.id, ids)
    )
    if not rows:
        raise ApiError("not_found")
    return ok({"deleted": len(rows)}, "deleted")


@requires("user")
async def delete_one(request: Request, user: CurrentUser) -> Response:
    notification_id = path_uuid(request)
    row = await fetch_one(
        "DELETE FROM notifications WHERE user_id = %s AND id = %s RETURNING id", (user.id, notification_id)
    )
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
app = build_app(routes)
handler = lambda_handler(app)
