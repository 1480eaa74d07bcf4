"""A token signed with the project's key is accepted only when this project's GoTrue issued it.

Supabase projects can share a JWT secret (copied between staging and production, or reused by
another service); `iss` (`<SUPABASE_URL>/auth/v1`) is what tells them apart.
"""

from __future__ import annotations

import uuid

import jwt

from tests.shared.auth.supabase.conftest import JWT_SECRET


async def test_token_from_another_issuer_is_refused(client, gotrue):
    email = f"iss-{uuid.uuid4().hex[:10]}@example.com"
    body = {"full_name": "Issuer Test", "email": email, "password": "s3cret-pass"}
    r = await client.post("/api/auth/signup", json=body)
    assert r.status_code == 201, r.text
    token = r.json()["data"]["token"]["accessToken"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == f"{gotrue.url}/auth/v1"
    assert (await client.get("/api/auth/verify", headers={"Authorization": f"Bearer {token}"})).status_code == 200

    for iss in ("https://another-project.supabase.co/auth/v1", None):
        forged = {k: v for k, v in claims.items() if k != "iss"} | ({"iss": iss} if iss else {})
        other = jwt.encode(forged, JWT_SECRET, algorithm="HS256")
        r = await client.get("/api/auth/verify", headers={"Authorization": f"Bearer {other}"})
        assert r.status_code == 401, (iss, r.text)
        assert r.json()["reason"] == "unauthorized"
