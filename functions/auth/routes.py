"""`/api/auth` routes: sign-up, sign-in, refresh, sign-out, verification and password flows."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.auth.inputs import (
    EmailOnly,
    Refresh,
    ResetPassword,
    SignIn,
    SignUp,
    UpdatePassword,
    current_password_of,
    login_of,
    refresh_token_of,
    valid_signin_role,
)
from functions.auth.queries import email_for_username, has_active_ban
from shared.auth import throttle
from shared.auth.guard import CurrentUser, requires
from shared.auth.profiles import insert_profile, own_profile
from shared.auth.provider import get_provider
from shared.db import transaction
from shared.domain.deletion import delete_user_everywhere
from shared.http.envelope import created, ok
from shared.http.errors import ApiError, FieldError
from shared.http.validation import parse_body


def user_object(profile: dict[str, Any]) -> dict[str, Any]:
    """The `user` object signin and verify return; `id` is what user paths take as `:id`."""
    keys = ("id", "email", "username", "full_name", "company_name", "image_src", "image_url",
            "is_verified", "role", "role_id", "brand_id", "created_at")
    return {k: profile.get(k) for k in keys}


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
    login = login_of(body)
    if "@" in login:
        return login.lower()
    email = await email_for_username(login)
    # An unknown username still goes through a password check (against a dummy hash) so that
    # timing and answer are the same as for a wrong password.
    return email if email is not None else f"{login}@unknown.invalid"


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
    if await has_active_ban(user_id):
        raise ApiError("banned")


@requires("pub")
async def signin(request: Request, _: None) -> Response:
    return await _signin(request, None)


@requires("pub")
async def signin_role(request: Request, _: None) -> Response:
    return await _signin(request, valid_signin_role(request.path_params["role"]))


@requires("pub")
async def refresh_token(request: Request, _: None) -> Response:
    body = await parse_body(request, Refresh)
    signed = await get_provider().refresh(refresh_token_of(body))
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
    current = current_password_of(body)
    if not await provider.check_password(user.id, user.email, current):
        raise ApiError("validation", "wrong_password", errors=[FieldError("password", "wrong_password")])
    await provider.set_password(user.id, body.new_password)
    tokens = await provider.issue_session(user.id, user.email, body.new_password)
    return ok({"token": tokens.as_contract()}, "password_updated")


@requires("user")
async def delete_account(request: Request, user: CurrentUser) -> Response:
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
