"""A stand-in for Supabase Auth (GoTrue): a real HTTP server on a loopback port.

It speaks the subset of GoTrue's API the provider uses, with GoTrue's request and response
shapes: sessions `{access_token, token_type, expires_in, expires_at, refresh_token, user}`,
user objects with identities, and errors as GoTrue sends them to clients that announce
`X-Supabase-Api-Version: 2024-01-01` (`{"code": "<error_code>", "message": ...}`, the version echoed
back in the response header). Behind the API sits Kong's `apikey` check and GoTrue's service-role
check for `/admin/*`.

Access tokens carry Supabase's claims (aud `authenticated`, sub, role, email, session_id, exp, iat,
aal, amr) signed HS256 with the JWT secret, or ES256 with a `kid` published at
`/.well-known/jwks.json`; `rotate_key()` starts signing with a new key (the old one stays
published until `revoke_key()`). Refresh tokens rotate; a rotated token presented again after
the reuse interval revokes the whole session (GoTrue's reuse detection). Mail GoTrue would send
lands in `outbox` as `(email, kind, token_hash)`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

API_VERSION = "2024-01-01"


def _now_iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts if ts is not None else time.time(), UTC).isoformat().replace("+00:00", "Z")


def _b64(n: int, size: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes(size, "big")).rstrip(b"=").decode()


@dataclass
class SigningKey:
    kid: str
    private: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    def jwk(self) -> dict[str, Any]:
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "key_ops": ["verify"],
            "kid": self.kid, "x": _b64(numbers.x, 32), "y": _b64(numbers.y, 32),
        }


@dataclass
class StandinUser:
    id: str
    email: str
    password: str
    created_at: float
    confirmed_at: float | None = None
    last_sign_in_at: float | None = None
    banned_until: float | None = None
    confirmation_sent_at: float | None = None
    recovery_sent_at: float | None = None


@dataclass
class RefreshToken:
    token: str
    session_id: str
    revoked_at: float | None = None


class GoTrueError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


class GoTrueStandin:
    """State and handlers; `start()` serves them on 127.0.0.1 in a background thread."""

    def __init__(
        self, *, jwt_secret: str, alg: str = "HS256", anon_key: str = "", autoconfirm: bool = True,
        jwt_exp: int = 3600, refresh_reuse_interval: float = 0.0, mail_max_frequency: float = 0.0,
    ) -> None:
        self.jwt_secret = jwt_secret
        self.alg = alg
        self.autoconfirm = autoconfirm
        self.jwt_exp = jwt_exp
        self.refresh_reuse_interval = refresh_reuse_interval
        self.mail_max_frequency = mail_max_frequency
        self.mail_quota_left: int | None = None  # the project's emails-per-hour limit (None: unlimited)
        self.service_role_key = jwt.encode(
            {"role": "service_role", "iss": "supabase", "iat": int(time.time())}, jwt_secret, algorithm="HS256"
        )
        self.anon_key = anon_key or jwt.encode(
            {"role": "anon", "iss": "supabase", "iat": int(time.time())}, jwt_secret, algorithm="HS256"
        )
        self.keys: list[SigningKey] = [SigningKey(kid=f"key-{uuid.uuid4().hex[:8]}")]
        self.users: dict[str, StandinUser] = {}
        self.sessions: dict[str, str] = {}  # session id -> user id
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.one_time: dict[str, tuple[str, str]] = {}  # token_hash -> (user id, kind)
        self.outbox: list[tuple[str, str, str]] = []
        self.hits: Counter[str] = Counter()  # "METHOD /path" -> count
        self.fail_next: list[tuple[str, int, dict[str, Any], dict[str, str]]] = []
        self.lock = threading.RLock()
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    # -- test controls ------------------------------------------------------------------------

    @property
    def current_key(self) -> SigningKey:
        return self.keys[-1]

    def rotate_key(self) -> SigningKey:
        """Sign new tokens with a new key; the old one stays in the JWKS (tokens issued with it live on)."""
        with self.lock:
            self.keys.append(SigningKey(kid=f"key-{uuid.uuid4().hex[:8]}"))
            return self.current_key

    def revoke_key(self, kid: str) -> None:
        with self.lock:
            self.keys = [k for k in self.keys if k.kid != kid]

    def fail(self, path: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        """Answer the next request whose path ends with `path` with this status and body."""
        with self.lock:
            self.fail_next.append((path, status, body, headers or {}))

    def mails(self, email: str, kind: str) -> list[str]:
        with self.lock:
            return [token for to, k, token in self.outbox if to == email and k == kind]

    def user_by_email(self, email: str) -> StandinUser | None:
        with self.lock:
            return next((u for u in self.users.values() if u.email == email.lower()), None)

    def sessions_of(self, user_id: str) -> list[str]:
        with self.lock:
            return [sid for sid, uid in self.sessions.items() if uid == user_id]

    # -- server --------------------------------------------------------------------------------

    def start(self) -> GoTrueStandin:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("GoTrue stand-in did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    # -- GoTrue shapes -------------------------------------------------------------------------

    def _user_json(self, user: StandinUser) -> dict[str, Any]:
        identity_data = {"email": user.email, "email_verified": user.confirmed_at is not None,
                         "phone_verified": False, "sub": user.id}
        return {
            "id": user.id, "aud": "authenticated", "role": "authenticated", "email": user.email, "phone": "",
            "email_confirmed_at": _now_iso(user.confirmed_at) if user.confirmed_at else None,
            "confirmed_at": _now_iso(user.confirmed_at) if user.confirmed_at else None,
            "confirmation_sent_at": _now_iso(user.confirmation_sent_at) if user.confirmation_sent_at else None,
            "recovery_sent_at": _now_iso(user.recovery_sent_at) if user.recovery_sent_at else None,
            "last_sign_in_at": _now_iso(user.last_sign_in_at) if user.last_sign_in_at else None,
            "banned_until": _now_iso(user.banned_until) if user.banned_until else None,
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": identity_data,
            "identities": [{
                "identity_id": str(uuid.uuid5(uuid.NAMESPACE_URL, user.id)), "id": user.id, "user_id": user.id,
                "identity_data": identity_data, "provider": "email", "email": user.email,
                "last_sign_in_at": _now_iso(user.created_at), "created_at": _now_iso(user.created_at),
                "updated_at": _now_iso(user.created_at),
            }],
            "created_at": _now_iso(user.created_at), "updated_at": _now_iso(), "is_anonymous": False,
        }

    def _obfuscated_user(self, email: str) -> dict[str, Any]:
        """What GoTrue returns, with confirmations on, to a sign-up for an already confirmed address."""
        now = _now_iso()
        return {
            "id": str(uuid.uuid4()), "aud": "authenticated", "role": "authenticated", "email": email,
            "phone": "", "confirmation_sent_at": now, "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {}, "identities": [], "created_at": now, "updated_at": now, "is_anonymous": False,
        }

    def access_token(self, user: StandinUser, session_id: str, exp: int | None = None) -> str:
        now = int(time.time())
        claims = {
            "iss": f"{self.url}/auth/v1", "sub": user.id, "aud": "authenticated",
            "exp": exp if exp is not None else now + self.jwt_exp, "iat": now,
            "email": user.email, "phone": "", "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {"email": user.email}, "role": "authenticated", "aal": "aal1",
            "amr": [{"method": "password", "timestamp": now}], "session_id": session_id, "is_anonymous": False,
        }
        if self.alg == "ES256":
            key = self.current_key
            return jwt.encode(claims, key.private, algorithm="ES256", headers={"kid": key.kid, "typ": "JWT"})
        return jwt.encode(claims, self.jwt_secret, algorithm="HS256", headers={"typ": "JWT"})

    def _new_refresh(self, session_id: str) -> str:
        token = secrets.token_urlsafe(9)  # GoTrue's refresh tokens are short opaque strings
        self.refresh_tokens[token] = RefreshToken(token, session_id)
        return token

    def _session_json(self, user: StandinUser, session_id: str, refresh: str) -> dict[str, Any]:
        return {
            "access_token": self.access_token(user, session_id), "token_type": "bearer",
            "expires_in": self.jwt_exp, "expires_at": int(time.time()) + self.jwt_exp,
            "refresh_token": refresh, "user": self._user_json(user),
        }

    def _new_session(self, user: StandinUser) -> dict[str, Any]:
        session_id = str(uuid.uuid4())
        self.sessions[session_id] = user.id
        user.last_sign_in_at = time.time()
        return self._session_json(user, session_id, self._new_refresh(session_id))

    def _logout(self, user_id: str, keep: str | None = None) -> None:
        for sid in [s for s, uid in self.sessions.items() if uid == user_id and s != keep]:
            self._end_session(sid)

    def _end_session(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)
        for token in [t for t, r in self.refresh_tokens.items() if r.session_id == session_id]:
            del self.refresh_tokens[token]

    def _mail(self, user: StandinUser, kind: str) -> None:
        sent_at = user.confirmation_sent_at if kind == "signup" else user.recovery_sent_at
        if sent_at and self.mail_max_frequency and time.time() - sent_at < self.mail_max_frequency:
            wait = int(self.mail_max_frequency - (time.time() - sent_at)) + 1
            raise GoTrueError(
                429, "over_email_send_rate_limit",
                f"For security purposes, you can only request this after {wait} seconds.",
            )
        token_hash = secrets.token_hex(28)
        self.one_time = {h: v for h, v in self.one_time.items() if v != (user.id, kind)}  # one live link per kind
        self.one_time[token_hash] = (user.id, kind)
        self.outbox.append((user.email, kind, token_hash))
        if kind == "signup":
            user.confirmation_sent_at = time.time()
        else:
            user.recovery_sent_at = time.time()

    # -- request plumbing ----------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        def route(path: str, handler: Callable[..., Any], methods: list[str], admin: bool = False) -> Route:
            async def endpoint(request: Request) -> Response:
                return await self._handle(request, handler, admin)

            return Route(path, endpoint, methods=methods)

        return Starlette(routes=[
            route("/auth/v1/signup", self._signup, ["POST"]),
            route("/auth/v1/token", self._token, ["POST"]),
            route("/auth/v1/logout", self._logout_endpoint, ["POST"]),
            route("/auth/v1/recover", self._recover, ["POST"]),
            route("/auth/v1/resend", self._resend, ["POST"]),
            route("/auth/v1/verify", self._verify, ["POST"]),
            route("/auth/v1/user", self._user_endpoint, ["GET", "PUT"]),
            route("/auth/v1/admin/users/{user_id}", self._admin_user, ["GET", "PUT", "DELETE"], admin=True),
            route("/auth/v1/.well-known/jwks.json", self._jwks, ["GET"]),
        ])

    async def _handle(self, request: Request, handler: Callable[..., Any], admin: bool) -> Response:
        versioned = request.headers.get("x-supabase-api-version") == API_VERSION
        raw = await request.body()
        with self.lock:
            self.hits[f"{request.method} {request.url.path}"] += 1
            injected = next((f for f in self.fail_next if request.url.path.endswith(f[0])), None)
            if injected is not None:
                self.fail_next.remove(injected)
                return JSONResponse(injected[2], status_code=injected[1], headers=injected[3])
            try:
                if not request.url.path.endswith("jwks.json"):
                    self._check_apikey(request)
                if admin:
                    self._check_admin(request)
                body = json.loads(raw) if raw else {}
                result = handler(request, body)
            except GoTrueError as exc:
                return self._error(exc, versioned)
        if isinstance(result, Response):
            return result
        headers = {"X-Supabase-Api-Version": API_VERSION} if versioned else {}
        return JSONResponse(result, headers=headers)

    @staticmethod
    def _error(exc: GoTrueError, versioned: bool) -> JSONResponse:
        if versioned:
            body = {"code": exc.code, "message": exc.message, **exc.extra}
            return JSONResponse(body, status_code=exc.status, headers={"X-Supabase-Api-Version": API_VERSION})
        body = {"code": exc.status, "error_code": exc.code, "msg": exc.message, **exc.extra}
        return JSONResponse(body, status_code=exc.status)

    def _check_apikey(self, request: Request) -> None:
        if request.headers.get("apikey") not in {self.anon_key, self.service_role_key}:
            raise GoTrueError(401, "no_api_key", "Invalid API key")

    def _check_admin(self, request: Request) -> None:
        claims = self._bearer_claims(request, hs256_only=True)
        if claims.get("role") not in {"service_role", "supabase_admin"}:
            raise GoTrueError(403, "not_admin", "User not allowed")

    def _bearer_claims(self, request: Request, hs256_only: bool = False) -> dict[str, Any]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise GoTrueError(401, "no_authorization", "This endpoint requires a Bearer token")
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") == "ES256" and not hs256_only:
                key = next((k for k in self.keys if k.kid == header.get("kid")), None)
                if key is None:
                    raise jwt.InvalidTokenError("unknown kid")
                return jwt.decode(token, key.private.public_key(), algorithms=["ES256"],
                                  options={"verify_aud": False})
            return jwt.decode(token, self.jwt_secret, algorithms=["HS256"], options={"verify_aud": False})
        except jwt.PyJWTError as exc:
            raise GoTrueError(403, "bad_jwt", f"invalid JWT: unable to parse or verify signature, {exc}") from None

    def _session_user(self, request: Request) -> tuple[StandinUser, str]:
        claims = self._bearer_claims(request)
        session_id = claims.get("session_id", "")
        if session_id not in self.sessions:
            raise GoTrueError(403, "session_not_found", "Session from session_id claim in JWT does not exist")
        user = self.users.get(claims.get("sub", ""))
        if user is None:
            raise GoTrueError(403, "user_not_found", "User from sub claim in JWT does not exist")
        return user, session_id

    # -- endpoints -----------------------------------------------------------------------------

    def _signup(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        email = str(body.get("email") or "").strip().lower()
        password = str(body.get("password") or "")
        if "@" not in email or email.startswith("@") or email.endswith("@"):
            raise GoTrueError(400, "validation_failed", "Unable to validate email address: invalid format")
        if len(password) < 6:
            raise GoTrueError(422, "weak_password", "Password should be at least 6 characters.",
                              weak_password={"reasons": ["length"]})
        existing = self.user_by_email(email)
        if existing is not None:
            if self.autoconfirm:
                raise GoTrueError(422, "user_already_exists", "User already registered")
            if existing.confirmed_at is not None:
                return self._obfuscated_user(email)
            self._mail(existing, "signup")  # unconfirmed: GoTrue re-sends and answers with the user
            return self._user_json(existing)
        user = StandinUser(id=str(uuid.uuid4()), email=email, password=password, created_at=time.time())
        self.users[user.id] = user
        if self.autoconfirm:
            user.confirmed_at = time.time()
            return self._new_session(user)
        self._mail(user, "signup")
        return self._user_json(user)

    def _token(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        grant = request.query_params.get("grant_type")
        if grant == "password":
            user = self.user_by_email(str(body.get("email") or ""))
            if user is not None and user.banned_until and user.banned_until > time.time():
                raise GoTrueError(400, "user_banned", "User is banned")
            if user is None or not secrets.compare_digest(user.password, str(body.get("password") or "")):
                raise GoTrueError(400, "invalid_credentials", "Invalid login credentials")
            if user.confirmed_at is None:
                raise GoTrueError(400, "email_not_confirmed", "Email not confirmed")
            return self._new_session(user)
        if grant == "refresh_token":
            return self._refresh(str(body.get("refresh_token") or ""))
        raise GoTrueError(400, "validation_failed", "unsupported_grant_type")

    def _refresh(self, token: str) -> dict[str, Any]:
        record = self.refresh_tokens.get(token)
        if record is None:
            raise GoTrueError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
        user = self.users[self.sessions[record.session_id]]
        if record.revoked_at is not None:
            if time.time() - record.revoked_at < self.refresh_reuse_interval:
                active = next(t for t, r in self.refresh_tokens.items()
                              if r.session_id == record.session_id and r.revoked_at is None)
                return self._session_json(user, record.session_id, active)
            self._end_session(record.session_id)  # reuse: the whole family goes
            raise GoTrueError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
        record.revoked_at = time.time()
        return self._session_json(user, record.session_id, self._new_refresh(record.session_id))

    def _logout_endpoint(self, request: Request, body: dict[str, Any]) -> Response:
        user, session_id = self._session_user(request)
        scope = request.query_params.get("scope", "global")
        if scope == "local":
            self._end_session(session_id)
        elif scope == "others":
            self._logout(user.id, keep=session_id)
        else:
            self._logout(user.id)
        return Response(status_code=204)

    def _spend_mail_quota(self) -> None:
        """GoTrue checks the project's mail limit before looking the address up, for any address."""
        if self.mail_quota_left is not None:
            if self.mail_quota_left <= 0:
                raise GoTrueError(429, "over_email_send_rate_limit", "Email rate limit exceeded")
            self.mail_quota_left -= 1

    def _recover(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        self._spend_mail_quota()
        user = self.user_by_email(str(body.get("email") or ""))
        if user is not None:
            self._mail(user, "recovery")
        return {}

    def _resend(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("type") not in {"signup", "email_change", "sms", "phone_change"}:
            raise GoTrueError(
                400, "validation_failed", "Missing one of these types: signup, email_change, sms, phone_change"
            )
        self._spend_mail_quota()
        user = self.user_by_email(str(body.get("email") or ""))
        if user is not None and user.confirmed_at is not None:
            raise GoTrueError(400, "validation_failed", "Email address already confirmed")
        if user is not None:
            self._mail(user, "signup")
        return {"message_id": None}

    def _verify(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        kind = body.get("type")
        entry = self.one_time.get(str(body.get("token_hash") or ""))
        wanted = "recovery" if kind == "recovery" else "signup"
        if entry is None or entry[1] != wanted or kind not in {"recovery", "signup", "email"}:
            raise GoTrueError(403, "otp_expired", "Email link is invalid or has expired")
        del self.one_time[str(body["token_hash"])]
        user = self.users[entry[0]]
        user.confirmed_at = user.confirmed_at or time.time()
        return self._new_session(user)

    def _user_endpoint(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        user, session_id = self._session_user(request)
        if request.method == "PUT" and body.get("password"):
            self._set_password(user, str(body["password"]))
            self._logout(user.id, keep=session_id)  # GoTrue: all other sessions end
        return self._user_json(user)

    def _set_password(self, user: StandinUser, password: str) -> None:
        if len(password) < 6:
            raise GoTrueError(422, "weak_password", "Password should be at least 6 characters.",
                              weak_password={"reasons": ["length"]})
        user.password = password
        self.one_time = {h: v for h, v in self.one_time.items() if v[0] != user.id}

    def _admin_user(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(request.path_params["user_id"])
        if user is None:
            raise GoTrueError(404, "user_not_found", "User not found")
        if request.method == "DELETE":
            self._logout(user.id)
            del self.users[user.id]
            return {}
        if request.method == "PUT":
            if body.get("password"):
                self._set_password(user, str(body["password"]))
                self._logout(user.id)  # GoTrue's admin update (UpdatePassword with no session): all sessions end
            if body.get("email_confirm"):
                user.confirmed_at = user.confirmed_at or time.time()
            if "ban_duration" in body:
                duration = str(body["ban_duration"])
                user.banned_until = None if duration == "none" else time.time() + float(duration.rstrip("h")) * 3600
        return self._user_json(user)

    def _jwks(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return {"keys": [k.jwk() for k in self.keys] if self.alg == "ES256" else []}


@contextlib.contextmanager
def running(**kwargs: Any):  # type: ignore[no-untyped-def]
    server = GoTrueStandin(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()
