"""`/api/auth`: sign-up, sign-in, refresh, sign-out, verification and password flows."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.auth import throttle
from shared.auth.guard import CurrentUser, requires
from shared.auth.profiles import insert_profile, own_profile, user_object
from shared.auth.provider import get_provider
from shared.db import fetch_one, transaction
from shared.http.app import build_app, lambda_handler
from shared.http.envelope import created, ok
from shared.http.errors import ApiError, FieldError
from shared.http.fields import Email, FullName, Password, ShortText
from shared.http.validation import parse_body

SIGNIN_ROLES = ("admin", "brand", "designer")


class SignUp(msgspec.Struct):
    full_name: FullName
    email: Email
    password: Password
    company_name: ShortText | None = None


class SignIn(msgspec.Struct):
    password: str
    email: str | None = None
    username: str | None = None


class Refresh(msgspec.Struct):
    token: str | None = None
    refresh_token: str | None = None


class EmailOnly(msgspec.Struct):
    email: Email


class ResetPassword(msgspec.Struct, rename={"new_password": "newPassword"}):
    token: str
    new_password: Password


class UpdatePassword(msgspec.Struct, rename={"new_password": "newPassword"}):
    new_password: Password
    password: str | None = None
    current_password: str | None = None
    oldPassword: str | None = None  # noqa: N815  (the older clients' name)


async def _session_answer(user_id: str, tokens: dict | None, message: str, status: int = 200) -> Response:
    profile = await own_profile(user_id)
    if profile is None:
        raise ApiError("unauthorized", "bad_credentials")
    data = {"user": user_object(profile), "token": tokens}
    return created(data, message) if status == 201 else ok(data, message)


@requires("pub")
async def signup(request: Request, _: None) -> Response:
    body = await parse_body(request, SignUp)
    provider = get_provider()
    email = body.email.strip().lower()
    async with transaction() as conn:
        signed = await provider.create_user(email, body.password, conn)
        try:
            await insert_profile(conn, signed.user_id, email, body.full_name.strip(), body.company_name)
        except BaseException:
            await provider.discard_user(signed.user_id)
            raise
    tokens = signed.tokens.as_contract() if signed.tokens else None
    return await _session_answer(signed.user_id, tokens, "signed_up", status=201)


async def _resolve_login(body: SignIn) -> str:
    login = (body.email or body.username or "").strip()
    if not login:
        raise ApiError("validation", errors=[FieldError("email", "field_required")])
    if "@" in login:
        return login.lower()
    row = await fetch_one("SELECT email FROM profiles WHERE username = %s", (login,))
    # An unknown username still goes through a password check (against a dummy hash) so that
    # timing and answer are the same as for a wrong password.
    return row["email"] if row else f"{login}@unknown.invalid"


async def _signin(request: Request, role: str | None) -> Response:
    body = await parse_body(request, SignIn)
    email = await _resolve_login(body)
    client = request.client.host if request.client else "unknown"
    await throttle.check(email, client)
    try:
        signed = await get_provider().sign_in(email, body.password)
    except ApiError as exc:
        if exc.message_key == "bad_credentials":
            await throttle.failed(email, client)
        raise
    await throttle.succeeded(email, client)
    profile = await own_profile(signed.user_id)
    if profile is None:
        raise ApiError("unauthorized", "bad_credentials")
    if role is not None and profile["role"] != role:
        raise ApiError("access_denied", "role_required")
    await _refuse_banned(signed.user_id)
    return ok({"user": user_object(profile), "token": signed.tokens.as_contract()}, "signed_in")


async def _refuse_banned(user_id: str) -> None:
    row = await fetch_one(
        "SELECT 1 FROM bans WHERE user_id = %s AND lifted_at IS NULL AND (permanent OR until > now())",
        (user_id,),
    )
    if row:
        raise ApiError("banned")


@requires("pub")
async def signin(request: Request, _: None) -> Response:
    return await _signin(request, None)


@requires("pub")
async def signin_role(request: Request, _: None) -> Response:
    role = request.path_params["role"]
    if role not in SIGNIN_ROLES:
        raise ApiError("validation", errors=[FieldError("role", "must be one of: admin, brand, designer")])
    return await _signin(request, role)


@requires("pub")
async def refresh_token(request: Request, _: None) -> Response:
    body = await parse_body(request, Refresh)
    token = body.token or body.refresh_token
    if not token:
        raise ApiError("validation", errors=[FieldError("token", "field_required")])
    signed = await get_provider().refresh(token)
    await _refuse_banned(signed.user_id)
    return await _session_answer(signed.user_id, signed.tokens.as_contract(), "ok")


@requires("user")
async def signout(request: Request, user: CurrentUser) -> Response:
    await get_provider().sign_out(user.claims, user.access_token)
    return ok(None, "signed_out")


@requires("user")
async def verify(request: Request, user: CurrentUser) -> Response:
    profile = await own_profile(user.id)
    return ok({"user": user_object(profile), "profile": profile, "role": profile["role"]})


@requires("pub")
async def resend_code(request: Request, _: None) -> Response:
    body = await parse_body(request, EmailOnly)
    await get_provider().send_confirmation(body.email.lower())
    return ok(None, "email_sent", status=202)


@requires("pub")
async def send_reset_password_email(request: Request, _: None) -> Response:
    body = await parse_body(request, EmailOnly)
    await get_provider().send_recovery(body.email.lower())
    return ok(None, "email_sent", status=202)


@requires("pub")
async def reset_password(request: Request, _: None) -> Response:
    body = await parse_body(request, ResetPassword)
    await get_provider().reset_password(body.token, body.new_password)
    return ok(None, "password_updated")


@requires("user")
async def update_password(request: Request, user: CurrentUser) -> Response:
    body = await parse_body(request, UpdatePassword)
    provider = get_provider()
    current = body.password or body.current_password or body.oldPassword
    # Both providers ask for the current password: a stolen access token alone must not be
    # enough to take the account over.
    if not current:
        raise ApiError("validation", errors=[FieldError("password", "field_required")])
    if not await provider.check_password(user.id, user.email, current):
        raise ApiError("validation", "wrong_password", errors=[FieldError("password", "wrong_password")])
    await provider.set_password(user.id, body.new_password)
    tokens = await provider.issue_session(user.id, user.email, body.new_password)
    return ok({"token": tokens.as_contract()}, "password_updated")


@requires("user")
async def delete_account(request: Request, user: CurrentUser) -> Response:
    from shared.domain.deletion import delete_user_everywhere

    await delete_user_everywhere(user.id)
    return ok(None, "account_deleted")


routes = [
    Route("/api/auth/signup", signup, methods=["POST"]),
    Route("/api/auth/signin", signin, methods=["POST"]),
    Route("/api/auth/signin/{role}", signin_role, methods=["POST"]),
    Route("/api/auth/refreshToken", refresh_token, methods=["POST"]),
    Route("/api/auth/signout", signout, methods=["POST"]),
    Route("/api/auth/verify", verify, methods=["GET"]),
    Route("/api/auth/resendcode", resend_code, methods=["POST"]),
    Route("/api/auth/sendResetPasswordEmail", send_reset_password_email, methods=["POST"]),
    Route("/api/auth/resetPassword", reset_password, methods=["POST"]),
    Route("/api/auth/updatePassword", update_password, methods=["POST"]),
    Route("/api/auth/deleteAccount", delete_account, methods=["POST"]),
]
app = build_app(routes)
handler = lambda_handler(app)
