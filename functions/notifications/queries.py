"""The notifications group's SQL. Every statement is scoped by `user_id = caller` (the first param)."""

from __future__ import annotations

_PAGE = """
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
_SEEN = {None: "TRUE", True: "n.seen", False: "NOT n.seen"}


def seen_condition(seen: bool | None) -> str:
    """The `seen` filter as a condition on `n`: any, seen only or unseen only."""
    return _SEEN[seen]


def notifications_page_sql(condition: str) -> str:
    """A page of the caller's notifications matching `condition`, with actor, model and interior, newest first."""
    return _PAGE.format(extra=f"AND {condition}")


def page_counts_sql(condition: str) -> str:
    """`total` matching `condition` and `unread` of the caller's notifications."""
    return (
        f"SELECT count(*) FILTER (WHERE {condition}) AS total, count(*) FILTER (WHERE NOT n.seen) AS unread"  # noqa: S608
        " FROM notifications n WHERE n.user_id = %s"
    )


COUNTS = "SELECT count(*) AS all, count(*) FILTER (WHERE NOT seen) AS unread FROM notifications WHERE user_id = %s"
MARK_SEEN_MANY = "UPDATE notifications SET seen = true WHERE user_id = %s AND id = ANY(%s::uuid[]) RETURNING id"
MARK_SEEN_ALL = "UPDATE notifications SET seen = true WHERE user_id = %s AND NOT seen"
MARK_SEEN_ONE = "UPDATE notifications SET seen = true WHERE user_id = %s AND id = %s RETURNING id"
DELETE_MANY = "DELETE FROM notifications WHERE user_id = %s AND id = ANY(%s::uuid[]) RETURNING id"
DELETE_ONE = "DELETE FROM notifications WHERE user_id = %s AND id = %s RETURNING id"
