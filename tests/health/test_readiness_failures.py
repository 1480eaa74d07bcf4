"""Readiness names the failing part; liveness keeps answering while the database is down."""

from __future__ import annotations

import os

import pytest_asyncio

from shared.config import reset_settings
from shared.db.pool import close_pools


@pytest_asyncio.fixture(loop_scope="session")
async def database_down(database):
    await close_pools()
    os.environ["DB_URL"] = "postgresql://postgres@127.0.0.1:9/none?connect_timeout=1"
    os.environ["DB_CONNECT_TIMEOUT_S"] = "1"
    reset_settings()
    yield
    await close_pools()
    os.environ["DB_URL"] = database
    os.environ.pop("DB_CONNECT_TIMEOUT_S")
    reset_settings()


async def test_database_down_is_503_naming_it_and_liveness_still_ok(client, database_down):
    r = await client.get("/api/health/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["reason"] == "unavailable" and "database" in body["message"]
    assert body["checks"]["database"] == "failing" and r.headers["retry-after"]
    assert (await client.get("/health")).status_code == 200
    # a route that needs the database answers 503, not 500
    r = await client.get("/api/users/check/someone")
    assert r.status_code == 503 and r.json()["reason"] == "unavailable"
