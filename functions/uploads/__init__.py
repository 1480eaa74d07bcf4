"""Direct uploads (`/api/uploads`). Handlers in routes.py, SQL in queries.py, input types in inputs.py.

lifecycle.py holds the rules of creating (the plan handed to the client) and completing an upload.
"""

from functions.uploads.routes import routes
from shared.http.app import build_app, lambda_handler

app = build_app(routes)
handler = lambda_handler(app)

__all__ = ["app", "handler", "routes"]
