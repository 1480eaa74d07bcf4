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
from functools import lru_cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from shared.auth.provider import get_provider
from shared.auth.tokens import verify_access_token
from shared.config import get_settings
from shared.db import fetch_one
from shared.http.errors import ApiError
from shared.http.ids import as_uuid
from shared.http.limits import enforce, route_limits

ROLES = ("admin", "brand", "designer")

_USER_SQL = """
SELECT {session_active} AS session_active,
       p.id, p.email, p.username, p.full_name, p.role_id, r.name AS role, p.brand_id,
       EXISTS (SELECT 1 FROM bans b WHERE b.user_id = p.id AND b.lifted_at IS NULL
               AND (b.permanent OR b.until > now())) AS banned
FROM profiles p
JOIN roles r ON r.id = p.role_id
WHERE p.id = %s
"""


@lru_cache(maxsize=4)
def _user_sql(session_check: str | None) -> str:
    return _USER_SQL.format(session_active=f"({session_check})" if session_check else "NULL")


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
    provider = get_provider()
    session_id = claims.get("session_id")
    if provider.session_check_sql:
        sql, params = _user_sql(provider.session_check_sql), (as_uuid(session_id), claims["sub"])
    else:
        sql, params = _user_sql(None), (claims["sub"],)
    row = await fetch_one(sql, params)
    if row is None:
        raise ApiError("unauthorized", "invalid_token")
    active = row["session_active"] if provider.session_check_sql else await provider.session_is_active(session_id)
    if not active:
        raise ApiError("unauthorized", "invalid_token")
    if row["banned"]:
        raise ApiError("banned")
    return CurrentUser(
        id=str(row["id"]), email=row["email"], username=row["username"], full_name=row["full_name"],
        role=row["role"], role_id=row["role_id"], brand_id=str(row["brand_id"]) if row["brand_id"] else None,
        access_token=token, claims=claims,
    )


Endpoint = Callable[..., Awaitable[Response]]
READ_METHODS = frozenset({"GET", "HEAD"})


async def _limit_writes(user_id: str) -> None:
    """Writes are limited per user too, so one account cannot write from many addresses at once."""
    settings = get_settings()
    if settings.rate_limit_enabled:
        await enforce(f"write:user:{user_id}", route_limits(settings).write)


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
            if user is not None and request.method not in READ_METHODS:
                await _limit_writes(user.id)
            request.state.user = user
            return await endpoint(request, user)

        wrapper.auth_levels = levels  # type: ignore[attr-defined]  # read by the OpenAPI generator
        return wrapper

    return decorate
