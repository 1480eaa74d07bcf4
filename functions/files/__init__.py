"""`/api/files`, the local backend's stand-in for R2 URLs. Handlers in routes.py, input parsing in inputs.py."""

from functions.files.routes import routes
from shared.http.app import build_app, lambda_handler

app = build_app(routes)
handler = lambda_handler(app)

__all__ = ["app", "handler", "routes"]
