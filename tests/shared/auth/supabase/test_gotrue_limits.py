"""GoTrue's limits reach the operator and the user: its project mail quota is a 503 the user
understands (for every address alike, so it reveals nobody), logged at warning and counted."""

from __future__ import annotations

import logging
import uuid

from shared.observability.metrics import exposition

VERSIONED = {"X-Supabase-Api-Version": "2024-01-01"}  # the header GoTrue's versioned errors come with


def quota_refusals() -> float:
    for line in exposition()[0].decode().splitlines():
        if line.startswith('auth_provider_limited_total{kind="email_quota"}'):
            return float(line.split()[-1])
    return 0.0


async def test_exhausted_mail_quota_is_a_503_for_everyone_logged_and_counted(client, make_user, gotrue, caplog):
    user = await make_user()
    gotrue.mail_quota_left = 0
    before = quota_refusals()
    try:
        with caplog.at_level(logging.WARNING, logger="tridmo"):
            answers = [
                await client.post("/api/auth/sendResetPasswordEmail", json={"email": email})
                for email in (user["email"], f"ghost-{uuid.uuid4().hex[:8]}@example.com")
            ]
    finally:
        gotrue.mail_quota_left = None
    for r in answers:
        assert r.status_code == 503, r.text
        assert r.json()["reason"] == "unavailable" and int(r.headers["Retry-After"]) > 0
    assert answers[0].json()["message"] == answers[1].json()["message"]
    assert any("email quota exhausted" in rec.getMessage() for rec in caplog.records)
    assert quota_refusals() == before + 2


async def test_gotrue_rate_limit_is_logged_at_warning(client, make_user, gotrue, caplog):
    user = await make_user()
    gotrue.fail("/token", 429, {"code": "over_request_rate_limit", "message": "Request rate limit reached"},
                VERSIONED)
    with caplog.at_level(logging.WARNING, logger="tridmo"):
        r = await client.post("/api/auth/signin", json={"email": user["email"], "password": user["password"]})
    assert r.status_code == 429
    assert any("gotrue rate limited" in rec.getMessage() for rec in caplog.records)
