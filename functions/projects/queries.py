"""The projects group's SQL. A project is read and changed through its owner's id: another user's is not found."""

from __future__ import annotations

_COLUMNS = "p.id, p.name, p.description, p.models_count, p.created_at, p.updated_at"


def own_project_sql(*, lock: bool) -> str:
    """The project `%s` if it belongs to the user `%s`, locked when the caller will change it."""
    return f"SELECT {_COLUMNS} FROM projects p WHERE p.id = %s AND p.user_id = %s{' FOR UPDATE' if lock else ''}"  # noqa: S608


PROJECT_MODELS = """
SELECT m.id, m.slug, m.name, mc.image_src AS cover_src, b.id AS b_id, b.name AS b_name, b.slug AS b_slug,
       pm.created_at AS added_at
FROM project_models pm
JOIN models m ON m.id = pm.model_id AND NOT m.is_deleted
LEFT JOIN model_images mc ON mc.model_id = m.id AND mc.is_main
LEFT JOIN brands b ON b.id = m.brand_id
WHERE pm.project_id = %s
ORDER BY pm.created_at DESC, m.id
"""
PROJECTS_COUNT = "SELECT count(*) FROM projects WHERE user_id = %s"


def projects_page_sql(order_clause: str) -> str:
    return (
        f"SELECT {_COLUMNS} FROM projects p WHERE p.user_id = %s"  # noqa: S608
        f" ORDER BY {order_clause} LIMIT %s OFFSET %s"
    )


INSERT_PROJECT = f"INSERT INTO projects AS p (user_id, name, description) VALUES (%s, %s, %s) RETURNING {_COLUMNS}"  # noqa: S608
UPDATE_PROJECT = f"""UPDATE projects p SET name = coalesce(%s, name), description = coalesce(%s, description),
                       updated_at = now()
                WHERE id = %s RETURNING {_COLUMNS}"""  # noqa: S608
DELETE_OWN_PROJECT = "DELETE FROM projects WHERE id = %s AND user_id = %s RETURNING id"
LIVE_MODEL = "SELECT 1 FROM models WHERE id = %s AND NOT is_deleted"
ADD_MODEL = "INSERT INTO project_models (project_id, model_id) VALUES (%s, %s) ON CONFLICT DO NOTHING"
REMOVE_MODEL = "DELETE FROM project_models WHERE project_id = %s AND model_id = %s"
