"""The Supabase Auth (GoTrue) provider, used when `SUPABASE_URL` is set.

Talks to GoTrue through supabase-py's auth package (`supabase_auth`, imported here only, lazily:
~0.1-0.2 s, paid by the first auth call of a process rather than by every cold start).

No client session state is ever relied upon. supabase-py's `AsyncGoTrueClient` keeps the last
session it saw (`sign_in_with_password`, `refresh_session`, `verify_otp` all store it, even with
`persist_session=False`), so a shared client would start acting as whichever user signed in last.
Therefore:
- one process-wide piece per event loop: an `httpx.AsyncClient` (connection pool) and the admin
  API client, which authenticates with the service-role key on every call and holds no user state;
- every user-facing call (sign-up, password grant, refresh, verify, resend, recover) builds a
  throwaway `AsyncGoTrueClient` (`persist_session=False, auto_refresh_token=False`) over that
  shared pool, so whatever session it stores dies with the request.

Access tokens are verified locally (`shared.auth.tokens`), never by calling GoTrue per request.
`session_is_active` answers True: see its docstring for the trade-off.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.auth.protocol import SignedIn
from shared.auth.tokens import TokenPair
from shared.config import Settings
from shared.db import fetch_one
from shared.http.errors import ApiError, FieldError
from shared.observability.recording import count_auth_provider_limited

if TYPE_CHECKING:
    import httpx
    from psycopg import AsyncConnection
    from supabase_auth import AsyncGoTrueAdminAPI, AsyncGoTrueClient, Session

log = logging.getLogger("tridmo.auth.supabase")

# GoTrue error codes (https://supabase.com/docs/guides/auth/debugging/error-codes) grouped by meaning.
_EMAIL_TAKEN = {"email_exists", "user_already_exists", "identity_already_exists", "conflict"}
_BAD_PASSWORD = {"weak_password", "same_password"}
_BAD_EMAIL = {"email_address_invalid", "email_address_not_authorized"}
_RATE_LIMITED = {"over_request_rate_limit", "over_email_send_rate_limit", "over_sms_send_rate_limit"}
_KEY_REFUSED = {"not_admin", "no_authorization", "no_api_key"}
_SESSION_GONE = {401, 403, 404}  # logout of a session GoTrue no longer has: already signed out
_PROFILE_EXISTS_SQL = "SELECT 1 FROM profiles WHERE id = %s"


@dataclass
class _Clients:
    http: httpx.AsyncClient
    admin: AsyncGoTrueAdminAPI


def _status_of(exc: BaseException) -> int:
    """HTTP status of a supabase_auth error (0 for a network failure)."""
    status = getattr(exc, "status", None)
    if isinstance(status, int) and status:
        return status
    response = getattr(exc.__cause__, "response", None)
    return getattr(response, "status_code", 0) or 0


def _retry_after(exc: BaseException) -> dict[str, str]:
    response = getattr(exc.__cause__, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    return {"Retry-After": value} if value else {}


def _is_project_email_quota(exc: BaseException) -> bool:
    """GoTrue answers the project-wide mail limit with "Email rate limit exceeded", and an address
    asking again too soon with "For security purposes, you can only request this after N seconds";
    both carry the code `over_email_send_rate_limit`."""
    return "after" not in str(getattr(exc, "message", "") or exc).lower()


def _error_code(exc: BaseException) -> str:
    return str(getattr(exc, "code", "") or "")


def _is_config_error(exc: BaseException) -> bool:
    """A key GoTrue (or Kong in front of it) refuses: our configuration, not the caller's fault.

    GoTrue answers bad credentials, tokens and links with 400/403/422 and an error code; a bare
    401, or `not_admin`/`no_authorization` on the admin API, means the API key itself is wrong.
    """
    return _status_of(exc) == 401 or _error_code(exc) in _KEY_REFUSED


def translate(exc: BaseException, *, strength_field: str = "password") -> ApiError:
    """Map a GoTrue failure to the contract's errors (400 naming the field, 401, 409, 429, 503)."""
    status, code = _status_of(exc), _error_code(exc)
    message = str(getattr(exc, "message", "") or exc)
    if status == 0 or status >= 500:
        log.warning("gotrue unavailable", extra={"status": status, "error": message[:200]})
        return ApiError("unavailable", "unavailable")
    if _is_config_error(exc):
        log.error("gotrue refused our API key: check SUPABASE_ANON_KEY / SUPABASE_SERVICE_ROLE_KEY",
                  extra={"status": status, "code": code})
        return ApiError("unavailable", "unavailable")
    if status == 429 or code in _RATE_LIMITED:
        # Every GoTrue call comes from this server's address: its per-IP limits are shared by all
        # users, so an operator must hear about it (the API's own limits should refuse first).
        log.warning("gotrue rate limited the API", extra={"status": status, "code": code})
        count_auth_provider_limited("rate_limit")
        return ApiError("rate_limited", "rate_limited", headers=_retry_after(exc))
    if code in _EMAIL_TAKEN:
        return ApiError("conflict", "email_taken", errors=[FieldError("email", "email_taken")])
    if code in _BAD_PASSWORD:
        return ApiError("validation", errors=[FieldError(strength_field, message)])
    if code in _BAD_EMAIL or (code == "validation_failed" and "email" in message.lower()):
        return ApiError("validation", errors=[FieldError("email", message)])
    if code == "user_banned":
        return ApiError("banned", "banned")
    if code in {"signup_disabled", "email_provider_disabled"}:
        return ApiError("access_denied", "signup_disabled")
    if status in (401, 403):
        return ApiError("unauthorized", "invalid_token")
    if status == 404:
        return ApiError("not_found")
    return ApiError("validation", message)


class SupabaseAuthProvider:
    name = "supabase"
    session_check_sql = None

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.auth_url = f"{settings.supabase_url.rstrip('/')}/auth/v1"
        service = settings.supabase_service_role_key
        public = settings.supabase_anon_key or service
        # Kong in front of GoTrue wants `apikey`; supabase-py also sends the key as the bearer.
        self._public_headers = {"apikey": public, "Authorization": f"Bearer {public}"}
        self._admin_headers = {"apikey": service, "Authorization": f"Bearer {service}"}
        # An httpx pool belongs to the loop that made it (Mangum and tests may run several loops).
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Clients] = (
            weakref.WeakKeyDictionary()
        )

    # -- clients -------------------------------------------------------------------------------

    def _shared(self) -> _Clients:
        loop = asyncio.get_running_loop()
        clients = self._clients.get(loop)
        if clients is None:
            import httpx  # heavy: ~70 ms of import, paid by the first auth call (see the module docstring)
            from supabase_auth import AsyncGoTrueAdminAPI  # heavy: ~0.2 s of import, as httpx above

            http = httpx.AsyncClient(
                timeout=httpx.Timeout(10.0, connect=3.0),
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
                follow_redirects=False,
            )
            admin = AsyncGoTrueAdminAPI(url=self.auth_url, headers=self._admin_headers, http_client=http)
            clients = self._clients[loop] = _Clients(http, admin)
        return clients

    def _user_client(self) -> AsyncGoTrueClient:
        """A throwaway client for one user-facing call: whatever session it stores dies with it."""
        from supabase_auth import AsyncGoTrueClient  # heavy: ~0.2 s of import, paid by the first auth call

        return AsyncGoTrueClient(
            url=self.auth_url, headers=self._public_headers, http_client=self._shared().http,
            persist_session=False, auto_refresh_token=False, flow_type="implicit",
        )

    @property
    def _admin(self) -> AsyncGoTrueAdminAPI:
        return self._shared().admin

    async def aclose(self) -> None:
        """Close this loop's connection pool (tests; a process simply exits otherwise)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        clients = self._clients.pop(loop, None)
        if clients is not None:
            await clients.http.aclose()

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _errors() -> tuple[type[BaseException], ...]:
        import httpx  # heavy: ~70 ms of import; this and the two below load with the first auth call
        from pydantic import ValidationError  # heavy: ~35 ms of import
        from supabase_auth.errors import AuthError  # heavy: ~0.2 s of import

        return (AuthError, httpx.HTTPError, ValidationError)

    @staticmethod
    def _pair(session: Session) -> TokenPair:
        return TokenPair(session.access_token, session.refresh_token, int(session.expires_in))

    async def _password_grant(self, email: str, password: str) -> Session:
        """A password grant; AuthError for GoTrue's answer (invalid_credentials and so on)."""
        response = await self._user_client().sign_in_with_password({"email": email, "password": password})
        if response.session is None:  # GoTrue always returns a session for a password grant
            raise ApiError("unavailable", "unavailable")
        return response.session

    async def _logout(self, access_token: str, scope: str) -> None:
        try:
            await self._admin.sign_out(access_token, scope)  # type: ignore[arg-type]
        except self._errors() as exc:
            if _status_of(exc) not in _SESSION_GONE or _error_code(exc) in _KEY_REFUSED:
                raise translate(exc) from None

    # -- AuthProvider --------------------------------------------------------------------------

    async def create_user(self, email: str, password: str, conn: AsyncConnection[Any] | None = None) -> SignedIn:
        try:
            response = await self._user_client().sign_up({"email": email, "password": password})
        except self._errors() as exc:
            raise translate(exc) from None
        user = response.user
        if user is None:
            raise ApiError("unavailable", "unavailable")
        # With email confirmation on, GoTrue answers a sign-up for a registered address with an
        # obfuscated user that has no identities (it hides who is registered); the contract wants 409.
        if response.session is None and user.identities is not None and not user.identities:
            raise ApiError("conflict", "email_taken", errors=[FieldError("email", "email_taken")])
        # For a registered but unconfirmed address GoTrue re-sends the confirmation and answers with
        # the existing user: that id already has a profile. Refuse here, before the caller would
        # insert (and, failing, `discard_user`) someone else's account.
        if conn is not None and await fetch_one(_PROFILE_EXISTS_SQL, (user.id,), conn) is not None:
            raise ApiError("conflict", "email_taken", errors=[FieldError("email", "email_taken")])
        tokens = self._pair(response.session) if response.session else None  # None: confirm email first
        return SignedIn(user.id, user.email or email, tokens)

    async def discard_user(self, user_id: str) -> None:
        """Compensate a sign-up whose profile insert failed; the caller re-raises its own error."""
        try:
            await self.delete_user(user_id)
        except ApiError:
            log.error("could not discard auth user after failed sign-up", extra={"user_id": user_id})

    async def sign_in(self, email: str, password: str) -> SignedIn:
        try:
            session = await self._password_grant(email, password)
        except self._errors() as exc:
            raise self._sign_in_error(exc) from None
        return SignedIn(session.user.id, session.user.email or email, self._pair(session))

    @staticmethod
    def _sign_in_error(exc: BaseException) -> ApiError:
        status, code = _status_of(exc), _error_code(exc)
        if code == "email_not_confirmed":  # only said after the password matched: reveals nothing
            return ApiError("access_denied", "email_not_confirmed")
        if 400 <= status < 500 and status != 429 and code != "user_banned" and not _is_config_error(exc):
            # invalid_credentials (unknown user and wrong password alike), invalid_grant, ...
            return ApiError("unauthorized", "bad_credentials")
        return translate(exc)

    async def refresh(self, refresh_token: str) -> SignedIn:
        # GoTrue rotates the token and, past its reuse interval, revokes the session on reuse.
        try:
            response = await self._user_client().refresh_session(refresh_token)
        except self._errors() as exc:
            status = _status_of(exc)
            if 400 <= status < 500 and status != 429 and not _is_config_error(exc):
                raise ApiError("unauthorized", "invalid_refresh_token") from None
            raise translate(exc) from None
        session = response.session
        if session is None:
            raise ApiError("unauthorized", "invalid_refresh_token")
        return SignedIn(session.user.id, session.user.email or "", self._pair(session))

    async def sign_out(self, claims: dict[str, Any], access_token: str) -> None:
        """Revoke this session's refresh tokens (scope local: the user's other devices stay)."""
        await self._logout(access_token, "local")

    async def session_is_active(self, session_id: str | None) -> bool:
        """Always True: asking GoTrue on every request would put a network call on the hot path.

        The trade-off: after sign-out, a password change or refresh-token reuse, GoTrue revokes the
        session's refresh tokens at once, but an access token already issued stays valid until its
        `exp`. Keep the project's JWT expiry short (Supabase: Auth settings, e.g. 300-900 s) to bound
        that window; bans and role changes still apply at once (they are read from our DB).
        """
        return True

    async def _send(self, call: str, email: str) -> None:
        """Send a mail; the answer is the same whether or not the address is registered."""
        client = self._user_client()
        try:
            if call == "resend":
                await client.resend({"type": "signup", "email": email})
            else:
                await client.reset_password_for_email(email)
        except self._errors() as exc:
            status, code = _status_of(exc), _error_code(exc)
            if status == 0 or status >= 500 or _is_config_error(exc):
                raise translate(exc) from None
            if status == 429 and code != "over_email_send_rate_limit":
                raise translate(exc) from None  # per-client limit: says nothing about the address
            if code == "over_email_send_rate_limit" and _is_project_email_quota(exc):
                # The project's mail quota (Auth > Rate Limits > emails per hour): nobody gets mail
                # until it refills, whatever the address, so saying so reveals nothing.
                log.warning("gotrue email quota exhausted: no confirmation or reset mail is sent",
                            extra={"call": call, "status": status, "code": code})
                count_auth_provider_limited("email_quota")
                wait = _retry_after(exc) or {"Retry-After": "600"}
                raise ApiError("unavailable", "email_quota_exhausted", headers=wait) from None
            # GoTrue only rate-limits mail per address (and refuses e.g. an already confirmed
            # address) for existing users: answering differently would tell who is registered.
            if code == "over_email_send_rate_limit":
                count_auth_provider_limited("email_frequency")
            log.warning("gotrue declined to send mail", extra={"call": call, "status": status, "code": code})

    async def send_confirmation(self, email: str) -> None:
        await self._send("resend", email)

    async def send_recovery(self, email: str) -> None:
        await self._send("recover", email)

    async def reset_password(self, token: str, new_password: str) -> None:
        """`token` is the recovery link's token_hash (`{{ .TokenHash }}` in the mail template)."""
        try:
            response = await self._user_client().verify_otp({"type": "recovery", "token_hash": token})
        except self._errors() as exc:
            status = _status_of(exc)
            if 400 <= status < 500 and status != 429 and not _is_config_error(exc):
                raise ApiError("validation", errors=[FieldError("token", "invalid or expired token")]) from None
            raise translate(exc) from None
        session = response.session
        if session is None or response.user is None:
            raise ApiError("validation", errors=[FieldError("token", "invalid or expired token")])
        await self.set_password(response.user.id, new_password)
        # A new password ends every session, the recovery one included (GoTrue's admin update
        # already does; global sign-out makes it explicit and is a no-op if the session is gone).
        await self._logout(session.access_token, "global")

    async def set_password(self, user_id: str, new_password: str) -> None:
        try:
            await self._admin.update_user_by_id(user_id, {"password": new_password})
        except self._errors() as exc:
            raise translate(exc, strength_field="newPassword") from None

    async def check_password(self, user_id: str, email: str, password: str) -> bool:
        try:
            session = await self._password_grant(email, password)
        except self._errors() as exc:
            status, code = _status_of(exc), _error_code(exc)
            if code == "email_not_confirmed":  # GoTrue says so only once the password matched
                return True
            if 400 <= status < 500 and status != 429 and code != "user_banned" and not _is_config_error(exc):
                return False
            raise translate(exc) from None
        await self._logout(session.access_token, "local")  # the check must not leave a session behind
        return session.user.id == user_id

    async def issue_session(self, user_id: str, email: str, password: str) -> TokenPair:
        try:
            session = await self._password_grant(email, password)
        except self._errors() as exc:
            raise self._sign_in_error(exc) from None
        if session.user.id != user_id:
            await self._logout(session.access_token, "local")
            raise ApiError("unauthorized", "bad_credentials")
        return self._pair(session)

    async def delete_user(self, user_id: str, conn: AsyncConnection[Any] | None = None) -> None:
        try:
            await self._admin.delete_user(user_id)
        except ValueError:  # not a UUID (supabase_auth checks before calling): no such auth user
            return
        except self._errors() as exc:
            if _status_of(exc) == 404:  # already gone: deletion is idempotent
                return
            raise translate(exc) from None
