"""`/api/models`: 3D furniture models. Handlers in routes.py, SQL in queries/, input types in inputs.py;
list paging in listing.py, write orchestration in writes.py, ownership checks in access.py."""

from functions.models.routes import routes
from shared.http.app import build_app, lambda_handler

app = build_app(routes)
handler = lambda_handler(app)

__all__ = ["app", "handler", "routes"]
