"""ES256 tokens from the project's JWKS: cached, picked by `kid`, refetched on rotation and with age."""

from __future__ import annotations

import jwt

from shared.auth.tokens import jwks_for
from shared.config import get_settings

GOTRUE_ALGS = ("ES256",)
JWKS = "GET /auth/v1/.well-known/jwks.json"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def signin(client, account) -> str:
    r = await client.post("/api/auth/signin", json={"email": account["email"], "password": account["password"]})
    assert r.status_code == 200, r.text
    return r.json()["data"]["token"]["accessToken"]


async def test_key_rotation_mid_session(client, make_user, gotrue, monkeypatch):
    cache = jwks_for(get_settings())
    user = await make_user()
    old_kid = gotrue.current_key.kid
    old_token = user["token"]
    assert (await client.get("/api/auth/verify", headers=bearer(old_token))).status_code == 200
    fetched = gotrue.hits[JWKS]
    assert fetched >= 1 and old_kid in cache.keys

    # The project rotates its signing key: new tokens carry the new kid.
    new_kid = gotrue.rotate_key().kid
    new_token = await signin(client, user)
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid

    # Within the minimum refetch interval an unknown kid is refused without touching the network
    # (made-up kids cannot make us hammer the JWKS endpoint).
    monkeypatch.setattr(cache, "min_refresh_interval_s", 3600.0)
    assert (await client.get("/api/auth/verify", headers=bearer(new_token))).status_code == 401
    assert gotrue.hits[JWKS] == fetched

    # Past it, the unknown kid refetches the set once; both keys are then served from the cache.
    monkeypatch.setattr(cache, "min_refresh_interval_s", 0.0)
    assert (await client.get("/api/auth/verify", headers=bearer(new_token))).status_code == 200
    assert gotrue.hits[JWKS] == fetched + 1
    for token in (old_token, new_token, old_token, new_token):
        assert (await client.get("/api/auth/verify", headers=bearer(token))).status_code == 200
    assert gotrue.hits[JWKS] == fetched + 1

    # The old key is revoked in the project: trusted until the cached set is older than its max age.
    gotrue.revoke_key(old_kid)
    assert (await client.get("/api/auth/verify", headers=bearer(old_token))).status_code == 200
    monkeypatch.setattr(cache, "max_age_s", 0.0)
    r = await client.get("/api/auth/verify", headers=bearer(old_token))
    assert r.status_code == 401 and r.json()["reason"] == "unauthorized"
    assert gotrue.hits[JWKS] == fetched + 2 and old_kid not in cache.keys
    monkeypatch.setattr(cache, "max_age_s", 600.0)
    assert (await client.get("/api/auth/verify", headers=bearer(new_token))).status_code == 200
    assert gotrue.hits[JWKS] == fetched + 2


async def test_jwks_outage(client, make_user, gotrue, monkeypatch):
    cache = jwks_for(get_settings())
    monkeypatch.setattr(cache, "min_refresh_interval_s", 0.0)  # retry at once after a failure
    user = await make_user()
    assert (await client.get("/api/auth/verify", headers=user.auth)).status_code == 200
    # A stale set whose refetch fails keeps serving the keys it has...
    monkeypatch.setattr(cache, "max_age_s", 0.0)
    gotrue.fail("jwks.json", 500, {"message": "down"})
    assert (await client.get("/api/auth/verify", headers=user.auth)).status_code == 200
    monkeypatch.setattr(cache, "max_age_s", 600.0)
    # ...but a kid it has never seen cannot be checked: 503, not a 401 that would sign users out.
    gotrue.rotate_key()
    fresh = await signin(client, user)
    gotrue.fail("jwks.json", 503, {"message": "down"})
    r = await client.get("/api/auth/verify", headers=bearer(fresh))
    assert r.status_code == 503 and r.json()["reason"] == "unavailable"
    assert (await client.get("/api/auth/verify", headers=bearer(fresh))).status_code == 200  # recovered


async def test_failed_fetch_backs_off(client, make_user, gotrue, monkeypatch):
    """During a JWKS outage tokens with unknown kids do not each cost a fetch: 503 until the retry time."""
    cache = jwks_for(get_settings())
    user = await make_user()
    assert (await client.get("/api/auth/verify", headers=user.auth)).status_code == 200
    gotrue.rotate_key()
    fresh = await signin(client, user)
    monkeypatch.setattr(cache, "max_age_s", 0.0)  # the cached set is due for a refetch
    monkeypatch.setattr(cache, "min_refresh_interval_s", 3600.0)  # a failure schedules the retry an hour out
    gotrue.fail("jwks.json", 503, {"message": "down"})
    before = gotrue.hits[JWKS]
    for _ in range(3):
        r = await client.get("/api/auth/verify", headers=bearer(fresh))
        assert r.status_code == 503 and r.json()["reason"] == "unavailable"
    assert gotrue.hits[JWKS] == before + 1
    assert (await client.get("/api/auth/verify", headers=user.auth)).status_code == 200  # cached kid: fine
    assert gotrue.hits[JWKS] == before + 1
