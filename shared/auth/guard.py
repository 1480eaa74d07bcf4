"""Who is calling, and may they? One decorator per route declares its auth level.

Levels follow the contract: `pub` (no token), `opt` (token used if present), `user` (any signed-in
user), and roles `designer`, `brand`, `admin` (any of those listed). Every authenticated request
reloads the profile, role and active ban in one indexed query, so a ban or role change takes
effect at once rather than when the token expires.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from shared.auth.provider import get_provider
from shared.auth.tokens import verify_access_token
from shared.db import fetch_one
from shared.http.errors import ApiError

ROLES = ("admin", "brand", "designer")

_USER_SQL = """
SELECT p.id, p.email, p.username, p.full_name, p.role_id, r.name AS role, p.brand_id,
       b.reason AS ban_reason, b.permanent AS ban_permanent, b.until AS ban_until
FROM profiles p
JOIN roles r ON r.id = p.role_id
LEFT JOIN LATERAL (
    SELECT reason, permanent, until FROM bans
    WHERE user_id = p.id AND lifted_at IS NULL AND (permanent OR until > now())
    ORDER BY permanent DESC, until DESC LIMIT 1
) b ON true
WHERE p.id = %s
"""


@dataclass(frozen=True)
class CurrentUser:
    id: str
    email: str
    username: str
    full_name: str
    role: str
    role_id: int
    brand_id: str | None
    access_token: str = field(repr=False)
    claims: dict[str, Any] = field(repr=False)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate(request: Request) -> CurrentUser | None:
    """The caller, or None without a token; 401/403 for a bad, expired, revoked or banned one."""
    token = bearer_token(request)
    if token is None:
        if request.headers.get("authorization"):
            raise ApiError("unauthorized", "invalid_token")
        return None
    claims = await verify_access_token(token)
    row = await fetch_one(_USER_SQL, (claims["sub"],))
    if row is None:
        raise ApiError("unauthorized", "invalid_token")
    if not await get_provider().session_is_active(claims.get("session_id")):
        raise ApiError("unauthorized", "invalid_token")
    if row["ban_permanent"] is not None:
        until = None if row["ban_permanent"] else row["ban_until"].isoformat()
        raise ApiError("banned", "banned", headers=None, reason_text=row["ban_reason"], until=until)
    return CurrentUser(
        id=str(row["id"]), email=row["email"], username=row["username"], full_name=row["full_name"],
        role=row["role"], role_id=row["role_id"], brand_id=str(row["brand_id"]) if row["brand_id"] else None,
        access_token=token, claims=claims,
    )


Endpoint = Callable[..., Awaitable[Response]]


def requires(*levels: str) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """Decorate `async def route(request, user)`; `user` is a CurrentUser (None only for pub/opt)."""
    unknown = set(levels) - {"pub", "opt", "user", *ROLES}
    if unknown or not levels:
        raise ValueError(f"unknown auth levels: {unknown or levels}")
    optional = "pub" in levels or "opt" in levels
    roles = set(levels) & set(ROLES)

    def decorate(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(endpoint)
        async def wrapper(request: Request) -> Response:
            if "pub" in levels and len(levels) == 1:
                return await endpoint(request, None)
            user = await authenticate(request)
            if user is None and not optional:
                raise ApiError("unauthorized")
            if user is not None and roles and "user" not in levels and user.role not in roles:
                raise ApiError("access_denied")
            request.state.user = user
            return await endpoint(request, user)

        wrapper.auth_levels = levels  # type: ignore[attr-defined]  # read by the OpenAPI generator
        return wrapper

    return decorate
