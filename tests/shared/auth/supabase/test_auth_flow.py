"""The auth flows of tests/auth/test_auth.py, in Supabase mode, for HS256 and ES256 (JWKS) tokens.

Where Supabase differs from the built-in provider by design, the test says so: an access token
stays valid until `exp` after its session ends (`session_is_active` is True, no network per
request); its refresh tokens stop working at once.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import jwt

from shared.auth.provider import get_provider
from shared.auth.tokens import verify_access_token

GOTRUE_ALGS = ("HS256", "ES256")


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def signup(client, email, password="s3cret-pass", full_name="Анна Петрова"):
    return await client.post(
        "/api/auth/signup", json={"full_name": full_name, "email": email, "password": password, "company_name": "A"}
    )


async def test_signup_signin_verify_roundtrip(client, gotrue):
    email = unique_email("ann")
    r = await signup(client, email)
    assert r.status_code == 201, r.text
    user = r.json()["data"]["user"]
    assert user["username"].startswith("anna_petrova")
    assert r.json()["data"]["token"]["tokenType"] == "Bearer"
    # the auth user is GoTrue's, and the profile carries its id
    assert gotrue.user_by_email(email).id == user["id"]

    r = await client.post("/api/auth/signin", json={"email": email.upper(), "password": "s3cret-pass"})
    assert r.status_code == 200, r.text
    token = r.json()["data"]["token"]["accessToken"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == gotrue.alg
    if gotrue.alg == "ES256":
        assert header["kid"] == gotrue.current_key.kid
    claims = await verify_access_token(token)
    assert {"sub", "role", "email", "session_id", "exp", "iat"} <= set(claims)
    assert claims["sub"] == user["id"] and claims["role"] == "authenticated" and claims["aud"] == "authenticated"
    assert claims["session_id"] in gotrue.sessions_of(user["id"])

    r = await client.get("/api/auth/verify", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["data"]["user"]["id"] == user["id"] and r.json()["data"]["role"] == "designer"

    r = await client.post("/api/auth/signin", json={"username": user["username"], "password": "s3cret-pass"})
    assert r.status_code == 200


async def test_duplicate_email_is_conflict(client):
    email = unique_email("dup")
    assert (await signup(client, email)).status_code == 201
    r = await signup(client, email)
    assert r.status_code == 409, r.text
    assert r.json()["reason"] == "conflict" and r.json()["errors"][0]["field"] == "email"


async def test_wrong_password_and_unknown_user_answer_alike(client):
    email = unique_email("same")
    await signup(client, email)
    wrong = await client.post("/api/auth/signin", json={"email": email, "password": "nope-nope"})
    unknown = await client.post("/api/auth/signin", json={"email": unique_email("nobody"), "password": "nope-nope"})
    no_name = await client.post("/api/auth/signin", json={"username": "no_such_user", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == no_name.status_code == 401
    assert wrong.json()["message"] == unknown.json()["message"] == no_name.json()["message"]
    assert wrong.json()["reason"] == unknown.json()["reason"] == "unauthorized"


async def test_signin_with_role_checks_the_role(client, make_user):
    user = await make_user("designer")
    body = {"email": user["email"], "password": user["password"]}
    assert (await client.post("/api/auth/signin/designer", json=body)).status_code == 200
    r = await client.post("/api/auth/signin/admin", json=body)
    assert r.status_code == 403 and r.json()["reason"] == "access_denied"


async def test_refresh_rotates_and_reuse_revokes_session(client, make_user, gotrue):
    user = await make_user()
    r = await client.post("/api/auth/refreshToken", json={"token": user["refresh"]})
    assert r.status_code == 200, r.text
    new = r.json()["data"]["token"]
    assert new["refreshToken"] != user["refresh"]
    assert r.json()["data"]["user"]["id"] == user["id"]
    assert (await verify_access_token(new["accessToken"]))["sub"] == user["id"]
    # the old one is spent: presenting it again is reuse, and GoTrue ends the whole session
    reused = await client.post("/api/auth/refreshToken", json={"refresh_token": user["refresh"]})
    assert reused.status_code == 401 and reused.json()["reason"] == "unauthorized"
    after = await client.post("/api/auth/refreshToken", json={"token": new["refreshToken"]})
    assert after.status_code == 401
    assert gotrue.sessions_of(user["id"]) == []
    # Trade-off (session_is_active is True): the access token lives until exp, no network per request.
    assert (await client.get("/api/auth/verify", headers=bearer(new["accessToken"]))).status_code == 200


async def test_unknown_refresh_token_is_401(client):
    r = await client.post("/api/auth/refreshToken", json={"token": "not-a-token"})
    assert r.status_code == 401 and r.json()["reason"] == "unauthorized"


async def test_signout_revokes_this_session_only(client, make_user, gotrue):
    user = await make_user()
    other = await client.post("/api/auth/signin", json={"email": user["email"], "password": user["password"]})
    other_refresh = other.json()["data"]["token"]["refreshToken"]
    assert len(gotrue.sessions_of(user["id"])) == 2
    r = await client.post("/api/auth/signout", headers=user.auth)
    assert r.status_code == 200, r.text
    assert (await client.post("/api/auth/refreshToken", json={"token": user["refresh"]})).status_code == 401
    assert len(gotrue.sessions_of(user["id"])) == 1  # scope local: the other device stays signed in
    assert (await client.post("/api/auth/refreshToken", json={"token": other_refresh})).status_code == 200
    # signing out again (session already gone at GoTrue) still succeeds
    assert (await client.post("/api/auth/signout", headers=user.auth)).status_code == 200


async def test_expired_token_is_token_expired(client, make_user, gotrue):
    user = await make_user()
    standin_user = gotrue.user_by_email(user["email"])
    token = gotrue.access_token(standin_user, str(uuid.uuid4()), exp=int(time.time()) - 60)
    r = await client.get("/api/auth/verify", headers=bearer(token))
    assert r.status_code == 401 and r.json()["reason"] == "token_expired"


async def test_forged_token_is_refused(client, make_user, gotrue):
    user = await make_user()
    claims = {"sub": user["id"], "aud": "authenticated", "role": "authenticated", "exp": int(time.time()) + 60}
    forged = [jwt.encode(claims, "x" * 40, algorithm="HS256")]
    if gotrue.alg == "ES256":  # right kid, wrong key
        from cryptography.hazmat.primitives.asymmetric import ec

        other = ec.generate_private_key(ec.SECP256R1())
        forged.append(jwt.encode(claims, other, algorithm="ES256", headers={"kid": gotrue.current_key.kid}))
    for token in forged:
        r = await client.get("/api/auth/verify", headers=bearer(token))
        assert r.status_code == 401 and r.json()["reason"] == "unauthorized"


async def test_password_reset_flow(client, make_user, gotrue):
    user = await make_user()
    r = await client.post("/api/auth/sendResetPasswordEmail", json={"email": user["email"]})
    assert r.status_code == 202
    same = await client.post("/api/auth/sendResetPasswordEmail", json={"email": unique_email("ghost")})
    assert same.status_code == 202 and same.json()["message"] == r.json()["message"]
    (token,) = gotrue.mails(user["email"], "recovery")
    r = await client.post("/api/auth/resetPassword", json={"token": token, "newPassword": "brand-new-pass"})
    assert r.status_code == 200, r.text
    again = await client.post("/api/auth/resetPassword", json={"token": token, "newPassword": "other-pass1"})
    assert again.status_code == 400 and again.json()["errors"][0]["field"] == "token"
    old = await client.post("/api/auth/signin", json={"email": user["email"], "password": user["password"]})
    assert old.status_code == 401
    # every session from before the reset is gone (the recovery one too)
    assert (await client.post("/api/auth/refreshToken", json={"token": user["refresh"]})).status_code == 401
    assert gotrue.sessions_of(user["id"]) == []
    new = await client.post("/api/auth/signin", json={"email": user["email"], "password": "brand-new-pass"})
    assert new.status_code == 200


async def test_update_password_returns_fresh_tokens(client, make_user, gotrue):
    user = await make_user()
    r = await client.post(
        "/api/auth/updatePassword", headers=user.auth,
        json={"newPassword": "another-pass", "password": user["password"]},
    )
    assert r.status_code == 200, r.text
    fresh = r.json()["data"]["token"]
    assert (await verify_access_token(fresh["accessToken"]))["sub"] == user["id"]
    assert (await client.get("/api/auth/verify", headers=bearer(fresh["accessToken"]))).status_code == 200
    # the sessions from before the change are gone; the fresh one is the only one
    assert (await client.post("/api/auth/refreshToken", json={"token": user["refresh"]})).status_code == 401
    assert gotrue.sessions_of(user["id"]) == [(await verify_access_token(fresh["accessToken"]))["session_id"]]
    assert (await client.post("/api/auth/refreshToken", json={"token": fresh["refreshToken"]})).status_code == 200
    body = {"email": user["email"], "password": user["password"]}
    assert (await client.post("/api/auth/signin", json=body)).status_code == 401
    body["password"] = "another-pass"
    assert (await client.post("/api/auth/signin", json=body)).status_code == 200


async def test_delete_account_removes_user(client, make_user, sql, gotrue):
    user = await make_user()
    r = await client.post("/api/auth/deleteAccount", headers=user.auth)
    assert r.status_code == 200, r.text
    assert sql("SELECT 1 FROM profiles WHERE id = %s", (user["id"],)) == []
    assert gotrue.user_by_email(user["email"]) is None
    r = await client.post("/api/auth/signin", json={"email": user["email"], "password": user["password"]})
    assert r.status_code == 401
    # the still-unexpired access token finds no profile
    assert (await client.get("/api/auth/verify", headers=user.auth)).status_code == 401


async def test_banned_user_is_refused(client, make_user, sql):
    user = await make_user()
    sql("INSERT INTO bans (user_id, reason, permanent) VALUES (%s, 'spam', true)", (user["id"],))
    r = await client.get("/api/auth/verify", headers=user.auth)
    assert r.status_code == 403 and r.json()["reason"] == "banned"
    r = await client.post("/api/auth/signin", json={"email": user["email"], "password": user["password"]})
    assert r.status_code == 403 and r.json()["reason"] == "banned"
    r = await client.post("/api/auth/refreshToken", json={"token": user["refresh"]})
    assert r.status_code == 403 and r.json()["reason"] == "banned"
    sql("UPDATE bans SET lifted_at = now() WHERE user_id = %s", (user["id"],))
    assert (await client.get("/api/auth/verify", headers=user.auth)).status_code == 200


async def test_resendcode_answers_the_same_for_unknown_email(client, make_user):
    user = await make_user()  # confirmed already: GoTrue refuses, the answer does not tell
    known = await client.post("/api/auth/resendcode", json={"email": user["email"]})
    unknown = await client.post("/api/auth/resendcode", json={"email": unique_email("whoever")})
    assert known.status_code == unknown.status_code == 202
    assert known.json()["message"] == unknown.json()["message"]


async def test_two_users_one_after_the_other_each_see_themselves(client, make_user, gotrue):
    """The shared-client pitfall: no request may act as the user who signed in before it."""
    ann, bob = await make_user(full_name="Ann Example"), await make_user(full_name="Bob Example")
    tokens = {}
    for account in (ann, bob):  # sign in one after the other
        r = await client.post("/api/auth/signin", json={"email": account["email"], "password": account["password"]})
        assert r.status_code == 200
        assert r.json()["data"]["user"]["id"] == account["id"]
        tokens[account["id"]] = r.json()["data"]["token"]
    for account in (ann, bob):
        token = tokens[account["id"]]
        r = await client.get("/api/auth/verify", headers=bearer(token["accessToken"]))
        assert r.json()["data"]["user"]["id"] == account["id"]
        r = await client.post("/api/auth/refreshToken", json={"token": token["refreshToken"]})
        assert r.json()["data"]["user"]["id"] == account["id"]
        assert (await verify_access_token(r.json()["data"]["token"]["accessToken"]))["sub"] == account["id"]
    # Ann changes her password after Bob signed in: her new tokens are hers, Bob keeps his sessions
    change = {"newPassword": "anns-new-pass", "password": ann["password"]}
    r = await client.post("/api/auth/updatePassword", headers=ann.auth, json=change)
    assert (await verify_access_token(r.json()["data"]["token"]["accessToken"]))["sub"] == ann["id"]
    assert len(gotrue.sessions_of(bob["id"])) == 2
    bob_again = await client.post("/api/auth/signin", json={"email": bob["email"], "password": bob["password"]})
    assert bob_again.status_code == 200  # Bob's password was not the one changed
    # Ann signs out after Bob signed in (twice): her session ends, none of Bob's does
    ann_token = r.json()["data"]["token"]["accessToken"]
    ann_session = (await verify_access_token(ann_token))["session_id"]
    assert (await client.post("/api/auth/signout", headers=bearer(ann_token))).status_code == 200
    assert ann_session not in gotrue.sessions_of(ann["id"])
    assert len(gotrue.sessions_of(bob["id"])) == 3
    # and the same under concurrency
    accounts = [await make_user() for _ in range(6)]
    answers = await asyncio.gather(*(
        client.post("/api/auth/signin", json={"email": a["email"], "password": a["password"]}) for a in accounts
    ))
    for account, answer in zip(accounts, answers, strict=True):
        assert answer.json()["data"]["user"]["id"] == account["id"]
        assert (await verify_access_token(answer.json()["data"]["token"]["accessToken"]))["sub"] == account["id"]
    # the shared admin client still speaks as the service role, never as a user
    provider = get_provider()
    admin = provider._shared().admin
    assert admin._headers["Authorization"] == f"Bearer {gotrue.service_role_key}"


async def test_tokens_are_verified_locally(client, make_user, gotrue):
    user = await make_user()
    await client.get("/api/auth/verify", headers=user.auth)  # warm the JWKS cache (ES256)
    before = dict(gotrue.hits)
    for _ in range(20):
        assert (await client.get("/api/auth/verify", headers=user.auth)).status_code == 200
    assert dict(gotrue.hits) == before  # not one call to GoTrue: no /user, no JWKS refetch
    assert gotrue.hits["GET /auth/v1/user"] == 0
    jwks_fetches = gotrue.hits["GET /auth/v1/.well-known/jwks.json"]
    assert jwks_fetches == (1 if gotrue.alg == "ES256" else 0)  # once per process, then cached
