"""Rate limits as a client meets them: 429 in the envelope with Retry-After and the IETF draft's
headers, counted per client address across every instance (PostgreSQL), on uvicorn and Lambda."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.config import reset_settings
from shared.http.limits import get_limiter
from tests.support.ports import free_port
from tests.support.servers import start_api, stop

ATTACKER, OWNER = "203.0.113.66", "198.51.100.77"


@pytest.fixture
def limits() -> Iterator[Any]:
    """Set real limits (env names without the RATE_LIMIT_ prefix); restored afterwards."""
    saved: dict[str, str | None] = {}

    def apply(**values: int) -> None:
        for name, value in values.items():
            key = f"RATE_LIMIT_{name.upper()}_PER_MIN"
            saved.setdefault(key, os.environ.get(key))
            os.environ[key] = str(value)
        reset_settings()

    yield apply
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reset_settings()


def client_at(app: Any, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                             base_url="http://testserver")


async def test_thirty_wrong_passwords_are_stopped_early_while_the_owner_signs_in(api_app, make_user):
    owner = await make_user()
    wrong = {"email": owner["email"], "password": "not the password"}
    statuses, retry_after = [], None
    async with client_at(api_app, ATTACKER) as attacker, client_at(api_app, OWNER) as home:
        for _ in range(30):
            r = await attacker.post("/api/auth/signin", json=wrong)
            statuses.append(r.status_code)
            if r.status_code == 429 and retry_after is None:
                retry_after = int(r.headers["Retry-After"])
                assert r.json()["reason"] == "rate_limited"
        r = await home.post("/api/auth/signin", json={"email": owner["email"], "password": owner["password"]})
        assert r.status_code == 200, r.text
        # the owner's success does not unlock the guesser's address
        assert (await attacker.post("/api/auth/signin", json=wrong)).status_code == 429
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}, statuses
    assert 60 <= retry_after <= 900


async def test_route_class_limit_answers_429_with_the_draft_headers(database, limits):
    limits(auth=3, read=1000)
    from functions.__main__ import create_app

    app = create_app()  # built after the settings changed, as a deploy would be
    async with client_at(app, ATTACKER) as one, client_at(app, OWNER) as other:
        answers = [await one.post("/api/auth/signup", json={}) for _ in range(4)]
        assert [r.status_code for r in answers] == [400, 400, 400, 429]
        refused = answers[-1]
        assert refused.json()["reason"] == "rate_limited" and refused.json()["error"]["status"] == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 20
        assert refused.headers["RateLimit-Policy"] == '"auth";q=3;w=60'
        assert refused.headers["RateLimit"].startswith('"auth";r=0;t=')
        assert (await other.post("/api/auth/signup", json={})).status_code == 400  # another address
        read = await one.get("/api/categories")
        assert read.headers["RateLimit-Policy"] == '"read";q=1000;w=60'
        assert (await one.get("/health")).headers.get("RateLimit") is None


def test_limits_are_shared_by_two_server_processes(database):
    env = {"RATE_LIMIT_READ_PER_MIN": "10", "RATE_LIMIT_AUTH_PER_MIN": "1000", "RATE_LIMIT_WRITE_PER_MIN": "1000",
           "TRUSTED_PROXIES": "127.0.0.1"}
    ports = [free_port(), free_port()]
    procs = [start_api(port, database, **env) for port in ports]
    try:
        who = {"X-Forwarded-For": f"203.0.113.{uuid.uuid4().int % 200 + 1}"}
        statuses = [httpx.get(f"http://127.0.0.1:{ports[i % 2]}/api/categories", headers=who).status_code
                    for i in range(14)]
    finally:
        stop(*procs)
    assert statuses == [200] * 10 + [429] * 4, statuses


def test_the_same_limit_holds_through_a_lambda_event(database, limits):
    limits(auth=2)
    from functions.auth import routes
    from shared.http.app import build_app, lambda_handler
    from tests.support.lambda_events import FakeContext, make_event

    handler = lambda_handler(build_app(routes))
    event = make_event("v2", "POST", "/api/auth/signin", body={"email": "x@example.com", "password": "y"})
    statuses = [handler(event, FakeContext())["statusCode"] for _ in range(3)]
    assert statuses == [401, 401, 429], statuses


async def test_reads_far_from_their_limit_cost_no_round_trip(database, limits):
    limits(read=1200)
    from functions.__main__ import create_app

    app = create_app()
    limiter = get_limiter()
    async with client_at(app, "192.0.2.44") as client:
        await client.get("/api/categories")
        before = limiter.statements
        for _ in range(50):
            assert (await client.get("/api/categories")).status_code == 200
    assert limiter.statements - before <= 1  # one lease of 60 covers them (a second if it ran out)


async def test_concurrent_requests_of_one_client_share_its_buckets_without_errors(api_app):
    """Auth buckets (a lease of 1) and read buckets (leases) under concurrency: never a 500."""
    import asyncio

    async with client_at(api_app, "192.0.2.91") as client:
        answers = await asyncio.gather(
            *(client.post("/api/auth/signin", json={"email": f"c{i}@example.com", "password": "x"}) for i in range(8)),
            *(client.get("/api/categories") for _ in range(16)),
        )
    assert sorted({r.status_code for r in answers}) == [200, 401], [r.text for r in answers if r.status_code >= 500]
