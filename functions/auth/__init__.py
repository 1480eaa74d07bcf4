"""`/api/auth`: sign-up, sign-in, refresh, sign-out, verification and password flows. Handlers in
routes.py, SQL in queries.py, input types in inputs.py."""

from functions.auth.routes import routes
from shared.http.app import build_app, lambda_handler

app = build_app(routes)
handler = lambda_handler(app)

__all__ = ["app", "handler", "routes"]
