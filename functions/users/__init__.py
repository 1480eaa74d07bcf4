"""`/api/users`: profiles, designers, the user list, bans, roles, passwords, deletion. Handlers in
routes.py, SQL in queries.py, input types in inputs.py, the profile edit's transaction in
profile_update.py."""

from functions.users.routes import routes
from shared.http.app import build_app, lambda_handler

app = build_app(routes)
handler = lambda_handler(app)

__all__ = ["app", "handler", "routes"]
