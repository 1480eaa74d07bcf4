"""What every auth provider answers: the protocol routes and the guard program against.

Kept below `shared.auth.provider` (which picks an implementation) so that the implementations,
`shared.auth.builtin` and `shared.auth.supabase`, can share `SignedIn` without importing the module
that imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from shared.auth.tokens import TokenPair

if TYPE_CHECKING:
    from psycopg import AsyncConnection


@dataclass(frozen=True)
class SignedIn:
    user_id: str
    email: str
    tokens: TokenPair | None


class AuthProvider(Protocol):
    name: str
    # A scalar subquery on one `%s` (the token's session_id) answering whether the session is live,
    # when sessions are in our database; the guard runs it inside its user query (one round trip).
    # None means `session_is_active` is asked instead.
    session_check_sql: str | None

    async def create_user(self, email: str, password: str, conn: AsyncConnection[Any]) -> SignedIn:
        """Create an auth user (and, when the provider allows, a session); 409 if the email exists."""

    async def discard_user(self, user_id: str) -> None:
        """Undo `create_user` when the profile insert after it fails (no-op inside one DB transaction)."""

    async def sign_in(self, email: str, password: str) -> SignedIn:
        """401 `bad_credentials`, the same whether the user exists or not."""

    async def refresh(self, refresh_token: str) -> SignedIn:
        """Rotate: the presented token stops working; reusing a rotated one revokes the session."""

    async def sign_out(self, claims: dict[str, Any], access_token: str) -> None: ...

    async def session_is_active(self, session_id: str | None) -> bool:
        """Checked on every authenticated request, so sign-out takes effect at once."""

    async def send_confirmation(self, email: str) -> None: ...

    async def send_recovery(self, email: str) -> None: ...

    async def reset_password(self, token: str, new_password: str) -> None: ...

    async def set_password(self, user_id: str, new_password: str) -> None: ...

    async def check_password(self, user_id: str, email: str, password: str) -> bool: ...

    async def issue_session(self, user_id: str, email: str, password: str) -> TokenPair: ...

    async def delete_user(self, user_id: str, conn: AsyncConnection[Any] | None = None) -> None: ...
