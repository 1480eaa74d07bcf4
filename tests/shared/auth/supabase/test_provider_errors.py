"""GoTrue's failures and modes, mapped to the contract: 400 naming the field, 401, 403, 409, 429, 503."""

from __future__ import annotations

import uuid

import pytest

from shared.auth.provider import get_provider
from shared.auth.supabase import SupabaseAuthProvider
from shared.config import Settings
from shared.http.errors import ApiError
from tests.support.ports import free_port

VERSIONED = {"X-Supabase-Api-Version": "2024-01-01"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def confirm_mode(gotrue):
    """The project requires email confirmation: sign-up gives no session."""
    gotrue.autoconfirm = False
    yield gotrue
    gotrue.autoconfirm = True


async def test_gotrue_429_is_rate_limited_with_retry_after(client, make_user, gotrue):
    user = await make_user()
    gotrue.fail("/token", 429, {"code": "over_request_rate_limit", "message": "Request rate limit reached"},
                {"Retry-After": "17", **VERSIONED})
    r = await client.post("/api/auth/signin", json={"email": user["email"], "password": user["password"]})
    assert r.status_code == 429 and r.json()["reason"] == "rate_limited"
    assert r.headers["retry-after"] == "17"


@pytest.mark.parametrize(
    "status, body",
    [(500, {"code": "unexpected_failure", "message": "boom"}), (502, None), (503, {"message": "upstream"})],
)
async def test_gotrue_5xx_is_unavailable(client, make_user, gotrue, status, body):
    user = await make_user()
    if body is None:  # an HTML error page from a proxy: not JSON at all
        gotrue.fail("/token", status, "<html>Bad gateway</html>")  # type: ignore[arg-type]
    else:
        gotrue.fail("/token", status, body, VERSIONED)
    r = await client.post("/api/auth/signin", json={"email": user["email"], "password": user["password"]})
    assert r.status_code == 503 and r.json()["reason"] == "unavailable"


async def test_unreachable_gotrue_is_unavailable(standin_settings):
    port = free_port()  # nobody listens on it
    settings = Settings(
        supabase_url=f"http://127.0.0.1:{port}", supabase_service_role_key="k", jwt_secret=standin_settings.jwt_secret
    )
    provider = SupabaseAuthProvider(settings)
    try:
        for call in (
            provider.sign_in(unique_email(), "whatever-pass"),
            provider.refresh("token"),
            provider.create_user(unique_email(), "whatever-pass", None),
            provider.send_recovery(unique_email()),
            provider.delete_user(str(uuid.uuid4())),
        ):
            with pytest.raises(ApiError) as err:
                await call
            assert err.value.status == 503 and err.value.reason == "unavailable"
    finally:
        await provider.aclose()


async def test_gotrue_validation_errors_name_the_field(gotrue):
    provider = get_provider()
    with pytest.raises(ApiError) as err:
        await provider.create_user(unique_email(), "short", None)  # GoTrue's own policy: weak_password
    assert err.value.status == 400 and err.value.errors[0]["field"] == "password"
    with pytest.raises(ApiError) as err:
        await provider.create_user("not-an-email", "long-enough-pass", None)
    assert err.value.status == 400 and err.value.errors[0]["field"] == "email"
    signed = await provider.create_user(unique_email(), "long-enough-pass", None)
    with pytest.raises(ApiError) as err:
        await provider.set_password(signed.user_id, "short")
    assert err.value.status == 400 and err.value.errors[0]["field"] == "newPassword"
    await provider.delete_user(signed.user_id)


async def test_gotrue_ban_and_unknown_codes(client, make_user, gotrue):
    user = await make_user()
    gotrue.users[user["id"]].banned_until = 4102444800  # banned at GoTrue too (2100)
    r = await client.post("/api/auth/signin", json={"email": user["email"], "password": user["password"]})
    assert r.status_code == 403 and r.json()["reason"] == "banned"
    gotrue.users[user["id"]].banned_until = None
    # an admin key GoTrue refuses is our misconfiguration: 503, never the caller's 401, never a 500
    gotrue.fail("/admin/users/" + user["id"], 403, {"code": "not_admin", "message": "User not allowed"}, VERSIONED)
    r = await client.post("/api/auth/deleteAccount", headers=user.auth)
    assert r.status_code == 503


async def test_discard_and_delete_are_idempotent(gotrue):
    provider = get_provider()
    signed = await provider.create_user(unique_email(), "long-enough-pass", None)
    assert signed.tokens is not None and signed.user_id in gotrue.users
    await provider.discard_user(signed.user_id)
    assert signed.user_id not in gotrue.users
    await provider.discard_user(signed.user_id)  # already gone: no error
    await provider.delete_user(signed.user_id)
    await provider.delete_user("not-a-uuid")


async def test_profile_insert_failure_discards_the_auth_user(client, make_user, gotrue, sql):
    """The compensation path: GoTrue created the user, our profile insert failed, the user is deleted."""
    taken = await make_user()
    email = unique_email("orphan")
    sql("UPDATE profiles SET email = %s WHERE id = %s", (email, taken["id"]))  # the profile email is taken
    body = {"full_name": "Someone Else", "email": email, "password": "pass-word-1"}
    r = await client.post("/api/auth/signup", json=body)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "email"
    assert gotrue.user_by_email(email) is None


async def test_check_password_leaves_no_session(make_user, gotrue):
    user = await make_user()
    provider = get_provider()
    before = gotrue.sessions_of(user["id"])
    assert await provider.check_password(user["id"], user["email"], user["password"]) is True
    assert await provider.check_password(user["id"], user["email"], "wrong-password") is False
    assert gotrue.sessions_of(user["id"]) == before


async def test_signup_with_email_confirmation(client, confirm_mode, sql):
    gotrue = confirm_mode
    email = unique_email("confirm")
    body = {"full_name": "Confirm Person", "email": email, "password": "pass-word-1"}
    r = await client.post("/api/auth/signup", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["data"]["token"] is None  # no session until the address is confirmed
    user_id = r.json()["data"]["user"]["id"]
    assert len(gotrue.mails(email, "signup")) == 1
    r = await client.post("/api/auth/signin", json={"email": email, "password": "pass-word-1"})
    assert r.status_code == 403 and r.json()["message"] != "bad_credentials"
    wrong = await client.post("/api/auth/signin", json={"email": email, "password": "wrong-pass-1"})
    assert wrong.status_code == 401  # the unconfirmed state is told only to who knows the password
    # signing up again: GoTrue re-sends and answers with the existing user; ours is a 409, and the
    # existing account survives (no compensating delete of someone else's user)
    again = await client.post("/api/auth/signup", json=body)
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "email"
    assert gotrue.user_by_email(email).id == user_id
    assert sql("SELECT 1 FROM profiles WHERE id = %s", (user_id,)) != []
    # resendcode sends another confirmation; the link signs the user in at GoTrue
    assert (await client.post("/api/auth/resendcode", json={"email": email})).status_code == 202
    assert len(gotrue.mails(email, "signup")) == 3
    gotrue.users[user_id].confirmed_at = 1.0
    r = await client.post("/api/auth/signin", json={"email": email, "password": "pass-word-1"})
    assert r.status_code == 200
    # a confirmed address: GoTrue answers with an obfuscated user (no identities): still a 409
    again = await client.post("/api/auth/signup", json=body)
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "email"


async def test_mail_rate_limits_do_not_reveal_registered_addresses(client, make_user, gotrue):
    user = await make_user()
    gotrue.mail_max_frequency = 60  # GoTrue's per-user limit on recovery mails
    try:
        first = await client.post("/api/auth/sendResetPasswordEmail", json={"email": user["email"]})
        second = await client.post("/api/auth/sendResetPasswordEmail", json={"email": user["email"]})
        ghost = await client.post("/api/auth/sendResetPasswordEmail", json={"email": unique_email("ghost")})
        assert first.status_code == second.status_code == ghost.status_code == 202
        assert first.json()["message"] == second.json()["message"] == ghost.json()["message"]
        assert len(gotrue.mails(user["email"], "recovery")) == 1
    finally:
        gotrue.mail_max_frequency = 0
    # a per-client request limit says nothing about the address: passed on
    gotrue.fail("/recover", 429, {"code": "over_request_rate_limit", "message": "Request rate limit reached"},
                VERSIONED)
    r = await client.post("/api/auth/sendResetPasswordEmail", json={"email": user["email"]})
    assert r.status_code == 429


async def test_refused_api_key_is_unavailable_not_bad_credentials(gotrue, standin_settings):
    settings = Settings(
        supabase_url=gotrue.url, supabase_service_role_key="wrong", jwt_secret=standin_settings.jwt_secret
    )
    provider = SupabaseAuthProvider(settings)
    try:
        with pytest.raises(ApiError) as err:
            await provider.sign_in(unique_email(), "whatever-pass")
        assert err.value.status == 503
        with pytest.raises(ApiError) as err:
            await provider.delete_user(str(uuid.uuid4()))
        assert err.value.status == 503
    finally:
        await provider.aclose()


def test_import_is_lazy():
    """Importing the provider module costs no supabase import; the first auth call pays it."""
    import subprocess
    import sys

    code = (
        "import sys, shared.auth.supabase; "
        "assert 'supabase_auth' not in sys.modules and 'supabase' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_one_provider_serves_several_event_loops(gotrue, standin_settings):
    """Lambda (Mangum) and tests may run more than one loop per process: each gets its own pool."""
    import asyncio

    provider = SupabaseAuthProvider(standin_settings)
    email, password = unique_email("loops"), "long-enough-pass"

    async def sign_in_once(create: bool) -> str:
        try:
            if create:
                await provider.create_user(email, password, None)
            return (await provider.sign_in(email, password)).user_id
        finally:
            await provider.aclose()

    first = asyncio.run(sign_in_once(True))
    assert asyncio.run(sign_in_once(False)) == first
    assert gotrue.user_by_email(email).id == first
