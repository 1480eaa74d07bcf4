"""The catalogue's dictionaries (colors, materials, styles, platforms, countries, categories).
Handlers in routes.py, input parsing in inputs.py; the dictionaries' SQL is shared with the other
catalogue groups (shared/domain/dictionaries.py)."""

from functions.catalog.routes import routes
from shared.http.app import build_app, lambda_handler

app = build_app(routes)
handler = lambda_handler(app)

__all__ = ["app", "handler", "routes"]
