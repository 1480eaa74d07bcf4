"""Auth flows through the ASGI app with the built-in provider."""

from __future__ import annotations

import time

import jwt
import pytest

from shared.config import get_settings


async def signup(client, email="ann@example.com", password="s3cret-pass", full_name="Анна Петрова"):
    return await client.post(
        "/api/auth/signup", json={"full_name": full_name, "email": email, "password": password, "company_name": "A"}
    )


async def test_signup_signin_verify_roundtrip(client):
    r = await signup(client)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["success"] is True
    user = body["data"]["user"]
    assert user["username"].startswith("anna_petrova") and len(user["username"]) == len("anna_petrova") + 4
    assert body["data"]["token"]["tokenType"] == "Bearer"

    r = await client.post("/api/auth/signin", json={"email": "ANN@example.com", "password": "s3cret-pass"})
    assert r.status_code == 200, r.text
    token = r.json()["data"]["token"]["accessToken"]
    claims = jwt.decode(token, get_settings().jwt_secret, algorithms=["HS256"], audience="authenticated")
    assert {"sub", "role", "email", "session_id", "exp", "iat"} <= set(claims)
    assert claims["sub"] == user["id"] and claims["role"] == "authenticated"

    r = await client.get("/api/auth/verify", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.json()["data"]["user"]["id"] == user["id"]
    assert r.json()["data"]["role"] == "designer"

    r = await client.post("/api/auth/signin", json={"username": user["username"], "password": "s3cret-pass"})
    assert r.status_code == 200


async def test_duplicate_email_is_conflict(client):
    await signup(client, email="dup@example.com")
    r = await signup(client, email="dup@example.com")
    assert r.status_code == 409
    assert r.json()["reason"] == "conflict"
    assert r.json()["errors"][0]["field"] == "email"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"full_name": "Abc", "email": "x@example.com", "password": "longenough"}, "full_name"),
        ({"full_name": "Abcdef", "email": "not-an-email", "password": "longenough"}, "email"),
        ({"full_name": "Abcdef", "email": "x@example.com", "password": "short"}, "password"),
        ({"full_name": "Abcdef", "email": "x@example.com"}, "password"),
    ],
)
async def test_signup_validation_names_the_field(client, payload, field):
    r = await client.post("/api/auth/signup", json=payload)
    assert r.status_code == 400
    body = r.json()
    assert body["reason"] == "validation" and body["error"] == {"status": 400}
    assert body["errors"][0]["field"] == field
    assert body["request_id"]


async def test_wrong_password_and_unknown_user_answer_alike(client):
    await signup(client, email="same@example.com")
    wrong = await client.post("/api/auth/signin", json={"email": "same@example.com", "password": "nope-nope"})
    unknown = await client.post("/api/auth/signin", json={"email": "nobody@example.com", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["message"] == unknown.json()["message"]
    assert wrong.json()["reason"] == unknown.json()["reason"] == "unauthorized"


async def test_signin_with_role_checks_the_role(client, make_user):
    user = await make_user("designer")
    r = await client.post("/api/auth/signin/designer", json={"email": user["email"], "password": user["password"]})
    assert r.status_code == 200
    r = await client.post("/api/auth/signin/admin", json={"email": user["email"], "password": user["password"]})
    assert r.status_code == 403 and r.json()["reason"] == "access_denied"
    r = await client.post("/api/auth/signin/wizard", json={"email": user["email"], "password": user["password"]})
    assert r.status_code == 400


async def test_refresh_rotates_and_reuse_revokes_session(client, make_user):
    user = await make_user()
    r = await client.post("/api/auth/refreshToken", json={"token": user["refresh"]})
    assert r.status_code == 200, r.text
    new = r.json()["data"]["token"]
    assert new["refreshToken"] != user["refresh"]
    # the old one is now spent: presenting it again is reuse, and it kills the session
    reused = await client.post("/api/auth/refreshToken", json={"refresh_token": user["refresh"]})
    assert reused.status_code == 401
    after = await client.post("/api/auth/refreshToken", json={"token": new["refreshToken"]})
    assert after.status_code == 401
    r = await client.get("/api/auth/verify", headers={"Authorization": f"Bearer {new['accessToken']}"})
    assert r.status_code == 401


async def test_signout_revokes_tokens(client, make_user):
    user = await make_user()
    r = await client.post("/api/auth/signout", headers=user.auth)
    assert r.status_code == 200
    assert (await client.get("/api/auth/verify", headers=user.auth)).status_code == 401
    assert (await client.post("/api/auth/refreshToken", json={"token": user["refresh"]})).status_code == 401


async def test_expired_token_is_token_expired(client, make_user):
    user = await make_user()
    now = int(time.time())
    token = jwt.encode(
        {"sub": user["id"], "aud": "authenticated", "iss": "tridmo-builtin", "role": "authenticated",
         "exp": now - 60, "iat": now - 120},
        get_settings().jwt_secret, algorithm="HS256",
    )
    r = await client.get("/api/auth/verify", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()["reason"] == "token_expired"


async def test_forged_token_is_refused(client, make_user):
    user = await make_user()
    token = jwt.encode({"sub": user["id"], "aud": "authenticated", "exp": int(time.time()) + 60}, "x" * 40)
    r = await client.get("/api/auth/verify", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()["reason"] == "unauthorized"
    assert (await client.get("/api/auth/verify")).status_code == 401


async def test_password_reset_flow(client, make_user, sql):
    user = await make_user()
    r = await client.post("/api/auth/sendResetPasswordEmail", json={"email": user["email"]})
    assert r.status_code == 202
    same = await client.post("/api/auth/sendResetPasswordEmail", json={"email": "ghost@example.com"})
    assert same.status_code == 202 and same.json()["message"] == r.json()["message"]
    token = sql("SELECT token FROM builtin_auth.outbox WHERE email = %s AND kind = 'recovery'", (user["email"],))[0]
    r = await client.post("/api/auth/resetPassword", json={"token": token["token"], "newPassword": "brand-new-pass"})
    assert r.status_code == 200, r.text
    again = await client.post("/api/auth/resetPassword", json={"token": token["token"], "newPassword": "other-pass1"})
    assert again.status_code == 400 and again.json()["errors"][0]["field"] == "token"
    old = await client.post("/api/auth/signin", json={"email": user["email"], "password": user["password"]})
    assert old.status_code == 401
    new = await client.post("/api/auth/signin", json={"email": user["email"], "password": "brand-new-pass"})
    assert new.status_code == 200
    # sessions from before the reset are gone
    assert (await client.get("/api/auth/verify", headers=user.auth)).status_code == 401


async def test_update_password_requires_current_and_returns_fresh_tokens(client, make_user):
    user = await make_user()
    bad = await client.post(
        "/api/auth/updatePassword", headers=user.auth, json={"newPassword": "another-pass", "password": "wrong-one"}
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "password"
    r = await client.post(
        "/api/auth/updatePassword", headers=user.auth,
        json={"newPassword": "another-pass", "password": user["password"]},
    )
    assert r.status_code == 200
    fresh = r.json()["data"]["token"]["accessToken"]
    assert (await client.get("/api/auth/verify", headers={"Authorization": f"Bearer {fresh}"})).status_code == 200
    assert (await client.get("/api/auth/verify", headers=user.auth)).status_code == 401


async def test_delete_account_removes_user(client, make_user, sql):
    user = await make_user()
    r = await client.post("/api/auth/deleteAccount", headers=user.auth)
    assert r.status_code == 200
    assert sql("SELECT 1 FROM profiles WHERE id = %s", (user["id"],)) == []
    assert sql("SELECT 1 FROM builtin_auth.users WHERE id = %s", (user["id"],)) == []
    r = await client.post("/api/auth/signin", json={"email": user["email"], "password": user["password"]})
    assert r.status_code == 401


async def test_resendcode_answers_the_same_for_unknown_email(client):
    r = await client.post("/api/auth/resendcode", json={"email": "whoever@example.com"})
    assert r.status_code == 202
