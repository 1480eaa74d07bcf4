"""Health and meta: liveness, readiness, metrics, the OpenAPI file. Handlers in routes.py, SQL in
queries.py, the readiness checks in checks.py."""

from functions.health.routes import routes
from shared.http.app import build_app, lambda_handler

app = build_app(routes)
handler = lambda_handler(app)

__all__ = ["app", "handler", "routes"]
