"""`/api/downloads`: who downloaded what. Handlers in routes.py, input parsing in inputs.py; the
downloads SQL is shared with models and users (shared/domain/downloads.py)."""

from functions.downloads.routes import routes
from shared.http.app import build_app, lambda_handler

app = build_app(routes)
handler = lambda_handler(app)

__all__ = ["app", "handler", "routes"]
