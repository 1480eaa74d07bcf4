"""The built-in auth provider: users, sessions and refresh tokens in our own PostgreSQL.

Refresh tokens are random 256-bit strings stored only as SHA-256 digests. Each use rotates the
token; presenting a rotated token again means it leaked (or a client raced itself), so the whole
session is revoked, as OAuth 2.0 Security BCP recommends and as Supabase does.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.auth.passwords import hash_password, verify_password
from shared.auth.protocol import SignedIn
from shared.auth.tokens import TokenPair, issue_access_token
from shared.config import Settings
from shared.db import fetch_one, transaction
from shared.http.errors import ApiError, FieldError

if TYPE_CHECKING:
    from psycopg import AsyncConnection

RECOVERY_TTL = timedelta(hours=1)
CONFIRMATION_TTL = timedelta(days=1)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class BuiltinAuthProvider:
    name = "builtin"
    session_check_sql = "SELECT revoked_at IS NULL FROM builtin_auth.sessions WHERE id = %s"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def _new_session(self, conn: AsyncConnection[Any], user_id: str, email: str) -> TokenPair:
        row = await (
            await conn.execute(
                "INSERT INTO builtin_auth.sessions (user_id) VALUES (%s) RETURNING id", (user_id,)
            )
        ).fetchone()
        session_id = str(row["id"])
        refresh = await self._new_refresh_token(conn, session_id)
        access = issue_access_token(user_id, email, session_id, self.settings)
        return TokenPair(access, refresh, self.settings.access_token_ttl_s)

    async def _new_refresh_token(self, conn: AsyncConnection[Any], session_id: str) -> str:
        token = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + timedelta(seconds=self.settings.refresh_token_ttl_s)
        await conn.execute(
            "INSERT INTO builtin_auth.refresh_tokens (session_id, token_hash, expires_at) VALUES (%s, %s, %s)",
            (session_id, _digest(token), expires),
        )
        return token

    async def create_user(self, email: str, password: str, conn: AsyncConnection[Any]) -> SignedIn:
        from psycopg import errors  # heavy: ~100 ms of import, which the pool paid already for `conn`

        password_hash = await hash_password(password)
        try:
            async with conn.transaction():
                row = await (
                    await conn.execute(
                        "INSERT INTO builtin_auth.users (email, password_hash) VALUES (%s, %s) RETURNING id",
                        (email, password_hash),
                    )
                ).fetchone()
        except errors.UniqueViolation:
            raise ApiError("conflict", "email_taken", errors=[FieldError("email", "email_taken")]) from None
        user_id = str(row["id"])
        tokens = await self._new_session(conn, user_id, email)
        await self._issue_one_time(conn, user_id, email, "confirmation", CONFIRMATION_TTL)
        return SignedIn(user_id, email, tokens)

    async def discard_user(self, user_id: str) -> None:
        return None  # created inside the caller's transaction: its rollback removes the user

    async def sign_in(self, email: str, password: str) -> SignedIn:
        row = await fetch_one("SELECT id, email, password_hash FROM builtin_auth.users WHERE email = %s", (email,))
        if not await verify_password(row["password_hash"] if row else None, password) or row is None:
            raise ApiError("unauthorized", "bad_credentials")
        async with transaction() as conn:
            tokens = await self._new_session(conn, str(row["id"]), row["email"])
        return SignedIn(str(row["id"]), row["email"], tokens)

    async def issue_session(self, user_id: str, email: str, password: str) -> TokenPair:
        async with transaction() as conn:
            return await self._new_session(conn, user_id, email)

    async def refresh(self, refresh_token: str) -> SignedIn:
        async with transaction() as conn:
            row = await (
                await conn.execute(
                    """SELECT t.id, t.session_id, t.rotated_at, t.expires_at, s.revoked_at, u.id AS user_id, u.email
                       FROM builtin_auth.refresh_tokens t
                       JOIN builtin_auth.sessions s ON s.id = t.session_id
                       JOIN builtin_auth.users u ON u.id = s.user_id
                       WHERE t.token_hash = %s FOR UPDATE OF t""",
                    (_digest(refresh_token),),
                )
            ).fetchone()
            if row is None or row["revoked_at"] is not None or row["expires_at"] < datetime.now(UTC):
                raise ApiError("unauthorized", "invalid_refresh_token")
            if row["rotated_at"] is not None:
                await conn.execute(
                    "UPDATE builtin_auth.sessions SET revoked_at = now(), revoked_reason = 'refresh_token_reuse'"
                    " WHERE id = %s",
                    (row["session_id"],),
                )
                reuse_detected = True
            else:
                reuse_detected = False
                await conn.execute(
                    "UPDATE builtin_auth.refresh_tokens SET rotated_at = now() WHERE id = %s", (row["id"],)
                )
                new_refresh = await self._new_refresh_token(conn, str(row["session_id"]))
        if reuse_detected:  # committed above: the revocation must survive this error
            raise ApiError("unauthorized", "invalid_refresh_token")
        user_id, email = str(row["user_id"]), row["email"]
        access = issue_access_token(user_id, email, str(row["session_id"]), self.settings)
        return SignedIn(user_id, email, TokenPair(access, new_refresh, self.settings.access_token_ttl_s))

    async def sign_out(self, claims: dict[str, Any], access_token: str) -> None:
        async with transaction() as conn:
            await conn.execute(
                "UPDATE builtin_auth.sessions SET revoked_at = now(), revoked_reason = 'signout'"
                " WHERE id = %s AND revoked_at IS NULL",
                (claims.get("session_id"),),
            )

    async def session_is_active(self, session_id: str | None) -> bool:
        if not session_id:
            return False
        row = await fetch_one("SELECT revoked_at FROM builtin_auth.sessions WHERE id = %s", (session_id,))
        return row is not None and row["revoked_at"] is None

    async def _issue_one_time(
        self, conn: AsyncConnection[Any], user_id: str, email: str, kind: str, ttl: timedelta
    ) -> str:
        token = secrets.token_urlsafe(32)
        await conn.execute(
            "INSERT INTO builtin_auth.one_time_tokens (token_hash, user_id, kind, expires_at) VALUES (%s, %s, %s, %s)",
            (_digest(token), user_id, kind, datetime.now(UTC) + ttl),
        )
        await conn.execute(
            "INSERT INTO builtin_auth.outbox (email, kind, token) VALUES (%s, %s, %s)", (email, kind, token)
        )
        return token

    async def _send(self, email: str, kind: str, ttl: timedelta) -> None:
        async with transaction() as conn:
            row = await (
                await conn.execute("SELECT id, email FROM builtin_auth.users WHERE email = %s", (email,))
            ).fetchone()
            if row is not None:
                await self._issue_one_time(conn, str(row["id"]), row["email"], kind, ttl)

    async def send_confirmation(self, email: str) -> None:
        await self._send(email, "confirmation", CONFIRMATION_TTL)

    async def send_recovery(self, email: str) -> None:
        await self._send(email, "recovery", RECOVERY_TTL)

    async def reset_password(self, token: str, new_password: str) -> None:
        password_hash = await hash_password(new_password)
        async with transaction() as conn:
            row = await (
                await conn.execute(
                    """UPDATE builtin_auth.one_time_tokens SET used_at = now()
                       WHERE token_hash = %s AND kind = 'recovery' AND used_at IS NULL AND expires_at > now()
                       RETURNING user_id""",
                    (_digest(token),),
                )
            ).fetchone()
            if row is None:
                raise ApiError("validation", errors=[FieldError("token", "invalid or expired token")])
            await self._store_password(conn, str(row["user_id"]), password_hash)

    async def _store_password(self, conn: AsyncConnection[Any], user_id: str, password_hash: str) -> None:
        await conn.execute(
            "UPDATE builtin_auth.users SET password_hash = %s, updated_at = now() WHERE id = %s",
            (password_hash, user_id),
        )
        # A new password ends every existing session: a stolen refresh token stops working.
        await conn.execute(
            "UPDATE builtin_auth.sessions SET revoked_at = now(), revoked_reason = 'password_change'"
            " WHERE user_id = %s AND revoked_at IS NULL",
            (user_id,),
        )

    async def set_password(self, user_id: str, new_password: str) -> None:
        password_hash = await hash_password(new_password)
        async with transaction() as conn:
            await self._store_password(conn, user_id, password_hash)

    async def check_password(self, user_id: str, email: str, password: str) -> bool:
        row = await fetch_one("SELECT password_hash FROM builtin_auth.users WHERE id = %s", (user_id,))
        return await verify_password(row["password_hash"] if row else None, password)

    async def delete_user(self, user_id: str, conn: AsyncConnection[Any] | None = None) -> None:
        if conn is not None:
            await conn.execute("DELETE FROM builtin_auth.users WHERE id = %s", (user_id,))
            return
        async with transaction() as c:
            await c.execute("DELETE FROM builtin_auth.users WHERE id = %s", (user_id,))
