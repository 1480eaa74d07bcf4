"""Users' named collections of models. Handlers in routes.py, SQL in queries.py, input types in inputs.py."""

from functions.projects.routes import routes
from shared.http.app import build_app, lambda_handler

app = build_app(routes)
handler = lambda_handler(app)

__all__ = ["app", "handler", "routes"]
