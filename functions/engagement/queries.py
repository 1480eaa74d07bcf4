"""The engagement group's SQL: saved models and interiors, comments, their replies and likes."""

from __future__ import annotations

from typing import Any

from shared.domain.interiors import CARD_COLUMNS, CARD_JOINS

# Saved models -------------------------------------------------------------------------------------------

SAVED_MODELS_COUNT = (
    "SELECT count(*) FROM saved_models s JOIN models m ON m.id = s.model_id AND NOT m.is_deleted"
    " WHERE s.user_id = %s"
)
SAVED_MODELS_PAGE = """
SELECT m.id, m.slug, m.name, m.brand_id, b.name AS brand_name, b.slug AS brand_slug, mc.image_src AS cover_src,
       m.saves_count, s.created_at AS saved_at
FROM saved_models s
JOIN models m ON m.id = s.model_id AND NOT m.is_deleted
LEFT JOIN brands b ON b.id = m.brand_id
LEFT JOIN model_images mc ON mc.model_id = m.id AND mc.is_main
WHERE s.user_id = %s
ORDER BY s.created_at DESC, s.model_id DESC
LIMIT %s OFFSET %s
"""
LIVE_MODEL = "SELECT 1 FROM models WHERE id = %s AND NOT is_deleted"
SAVE_MODEL = "INSERT INTO saved_models (user_id, model_id) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING 1"
UNSAVE_MODEL = "DELETE FROM saved_models WHERE user_id = %s AND model_id = %s RETURNING 1"
MODEL_SAVES_COUNT = "SELECT saves_count FROM models WHERE id = %s"


# Saved interiors ----------------------------------------------------------------------------------------


def saved_interiors_count_sql(visible: str) -> str:
    """The caller's saved interiors they may still see; `visible` from `shared.domain.interiors.visible_sql`."""
    base = f"FROM saved_interiors s JOIN interiors i ON i.id = s.interior_id AND {visible} WHERE s.user_id = %s"
    return f"SELECT count(*) {base}"  # noqa: S608 - fragments are code


def saved_interiors_page_sql(visible: str) -> str:
    """A page of those interiors as cards, with `saved_at`, newest save first."""
    return (
        f"SELECT {CARD_COLUMNS}, s.created_at AS saved_at FROM saved_interiors s"  # noqa: S608
        f" JOIN interiors i ON i.id = s.interior_id AND {visible} {CARD_JOINS}"
        " WHERE s.user_id = %s ORDER BY s.created_at DESC, s.interior_id DESC LIMIT %s OFFSET %s"
    )


SAVE_INTERIOR = "INSERT INTO saved_interiors (user_id, interior_id) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING 1"
UNSAVE_INTERIOR = "DELETE FROM saved_interiors WHERE user_id = %s AND interior_id = %s RETURNING 1"
INTERIOR_SAVES_COUNT = "SELECT saves_count FROM interiors WHERE id = %s"


# Comments -----------------------------------------------------------------------------------------------

ENTITY_MODEL = "SELECT id, brand_id FROM models WHERE id = %s AND NOT is_deleted"
ENTITY_INTERIOR = "SELECT id, author_id, status, is_deleted FROM interiors WHERE id = %s"

_COMMENT = """
SELECT c.id, c.model_id, c.interior_id, c.parent_id, c.user_id, c.text, c.likes_count, c.created_at, c.updated_at
FROM comments c WHERE c.id = %s {lock}
"""


def comment_sql(*, lock: bool) -> str:
    """One comment's row by id, locked when the caller will change it."""
    return _COMMENT.format(lock="FOR UPDATE" if lock else "")


_SELECT = """
SELECT c.id, c.parent_id, c.text, c.likes_count, c.created_at, c.updated_at,
       u.id AS u_id, u.username AS u_username, u.full_name AS u_full_name, u.image_src AS u_image_src,
       {liked} AS is_liked
FROM comments c LEFT JOIN profiles u ON u.id = c.user_id
"""


def comment_select(viewer_id: str | None) -> tuple[str, list[Any]]:
    """The SELECT of comments as clients see them (author, `is_liked` for the viewer), and its params."""
    if viewer_id is None:
        return _SELECT.format(liked="false"), []
    liked = "EXISTS (SELECT 1 FROM comment_likes l WHERE l.comment_id = c.id AND l.user_id = %s)"
    return _SELECT.format(liked=liked), [viewer_id]


def top_level_count_sql(column: str) -> str:
    """Top-level comments of a model (`column` model_id) or interior (interior_id)."""
    return f"SELECT count(*) AS n FROM comments WHERE {column} = %s AND parent_id IS NULL"  # noqa: S608


def top_level_page_sql(select: str, column: str, order_clause: str) -> str:
    return f"{select} WHERE c.{column} = %s AND c.parent_id IS NULL ORDER BY {order_clause} LIMIT %s OFFSET %s"


def replies_sql(select: str) -> str:
    """Replies to a list of top-level comments, oldest first."""
    return f"{select} WHERE c.parent_id = ANY(%s::uuid[]) ORDER BY c.created_at, c.id"


def one_comment_sql(select: str) -> str:
    return f"{select} WHERE c.id = %s"


PARENT_COMMENT = "SELECT id, parent_id, user_id, model_id, interior_id FROM comments WHERE id = %s"


def insert_comment_sql(column: str) -> str:
    """A comment on a model (`column` model_id) or interior (interior_id), returning its id."""
    return f"INSERT INTO comments ({column}, parent_id, user_id, text) VALUES (%s, %s, %s, %s) RETURNING id"  # noqa: S608


UPDATE_COMMENT_TEXT = "UPDATE comments SET text = %s, updated_at = now() WHERE id = %s"
DELETE_COMMENT = "DELETE FROM comments WHERE id = %s"
LIKE_COMMENT = "INSERT INTO comment_likes (comment_id, user_id) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING 1"
UNLIKE_COMMENT = "DELETE FROM comment_likes WHERE comment_id = %s AND user_id = %s RETURNING 1"
COMMENT_LIKES_COUNT = "SELECT likes_count FROM comments WHERE id = %s"
