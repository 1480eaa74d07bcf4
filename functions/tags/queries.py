"""The tags group's SQL: the admin list of pins, interiors pinning a model, pin writes."""

from __future__ import annotations

from typing import Any

from functions.tags.inputs import TagFilters
from shared.domain.interiors import CARD_COLUMNS, CARD_JOINS, PUBLIC


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# Admin list ---------------------------------------------------------------------------------------------


def tags_where(filters: TagFilters) -> tuple[str, list[Any]]:
    """The list's WHERE condition and params: author, model and interior name searches."""
    where, params = ["TRUE"], []
    if value := filters.user_name:
        where.append("(a.full_name ILIKE %s OR a.username ILIKE %s)")
        params += [_like(value), _like(value)]
    if value := filters.model_name:
        where.append("m.name ILIKE %s")
        params.append(_like(value))
    if value := filters.interior_name:
        where.append("i.name ILIKE %s")
        params.append(_like(value))
    return " AND ".join(where), params


def _tags_from(condition: str) -> str:
    return (
        "FROM interior_tags t JOIN interiors i ON i.id = t.interior_id AND NOT i.is_deleted"
        " JOIN models m ON m.id = t.model_id LEFT JOIN profiles a ON a.id = i.author_id"
        " LEFT JOIN model_images mc ON mc.model_id = m.id AND mc.is_main LEFT JOIN brands b ON b.id = m.brand_id"
        f" WHERE {condition}"
    )


def tags_count_sql(condition: str) -> str:
    return f"SELECT count(*) {_tags_from(condition)}"  # noqa: S608 - fragments are code


def tags_page_sql(condition: str, order_clause: str) -> str:
    """A page of pins with their model, brand, interior and the interior's author."""
    return (
        "SELECT t.id, t.x, t.y, t.interior_image_id, t.created_at, m.id AS m_id, m.name AS m_name,"  # noqa: S608
        " m.slug AS m_slug, mc.image_src AS m_cover, b.id AS b_id, b.name AS b_name, b.slug AS b_slug,"
        " i.id AS i_id, i.name AS i_name, i.slug AS i_slug, i.status AS i_status,"
        f" a.id AS a_id, a.username AS a_username, a.full_name AS a_full_name {_tags_from(condition)}"
        f" ORDER BY {order_clause} LIMIT %s OFFSET %s"
    )


# Interiors pinning a model ------------------------------------------------------------------------------

_PINNING = f"{PUBLIC} AND i.id IN (SELECT interior_id FROM interior_tags WHERE model_id = %s)"  # noqa: S608
MODEL_INTERIORS_COUNT = f"SELECT count(*) FROM interiors i WHERE {_PINNING}"  # noqa: S608


def model_interiors_page_sql(order_clause: str) -> str:
    """Approved interiors pinning the model, as cards."""
    return (
        f"SELECT {CARD_COLUMNS} FROM interiors i {CARD_JOINS} WHERE {_PINNING}"  # noqa: S608
        f" ORDER BY {order_clause} LIMIT %s OFFSET %s"
    )


LIVE_MODEL = "SELECT 1 FROM models WHERE id = %s AND NOT is_deleted"


# Writes -------------------------------------------------------------------------------------------------

LIVE_MODEL_BRAND = "SELECT brand_id FROM models WHERE id = %s AND NOT is_deleted"
IMAGE_OF_INTERIOR = "SELECT 1 FROM interior_images WHERE id = %s AND interior_id = %s"
INSERT_TAG = """INSERT INTO interior_tags (interior_id, interior_image_id, model_id, user_id, x, y)
               VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"""
TAG_INTERIOR = "SELECT interior_id FROM interior_tags WHERE id = %s"
DELETE_TAG = "DELETE FROM interior_tags WHERE id = %s"
