"""The world under test: an embedded PostgreSQL, a fresh database per test module, the API as
an ASGI app and as a Lambda handler, and users of every role.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

# Settings are read from the environment on first use: fix them before any project import.
_TMP = tempfile.mkdtemp(prefix="tridmo-tests-")
os.environ.setdefault("APP_ENV", "test")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("STORAGE_DIR", os.path.join(_TMP, "storage"))
os.environ.setdefault("PUBLIC_API_URL", "http://testserver")
os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "10000")
os.environ.setdefault("DB_POOL_MAX", "5")
# The whole suite signs up hundreds of users from one address: limits high enough never to refuse it, so
# the limiter still runs on every request (tests/shared/http/test_rate_limits.py sets real ones).
os.environ.setdefault("RATE_LIMIT_AUTH_PER_MIN", "1000000")
os.environ.setdefault("RATE_LIMIT_WRITE_PER_MIN", "1000000")
os.environ.setdefault("RATE_LIMIT_READ_PER_MIN", "1000000")

import httpx  # noqa: E402
import psycopg  # noqa: E402
import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402
from psycopg.rows import dict_row  # noqa: E402

from shared.auth.provider import get_provider  # noqa: E402
from shared.config import reset_settings  # noqa: E402
from shared.db.pool import close_pools  # noqa: E402
from tests.support.accounts import ROLE_IDS, Account  # noqa: E402
from tests.support.database import TestDatabases  # noqa: E402


@pytest.fixture(scope="session")
def databases() -> Iterator[TestDatabases]:
    dbs = TestDatabases()
    yield dbs
    dbs.close()


def _point_at(uri: str | None) -> None:
    if uri is None:
        os.environ.pop("DB_URL", None)
    else:
        os.environ["DB_URL"] = uri
    reset_settings()
    get_provider.cache_clear()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def database(databases: TestDatabases, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A fresh, migrated database for this module; the app's pool points at it."""
    name = databases.create(request.module.__name__)
    uri = databases.uri(name)
    previous = os.environ.get("DB_URL")
    await close_pools()
    _point_at(uri)
    yield uri
    await close_pools()
    _point_at(previous)
    databases.drop(name)


@pytest.fixture
def sql(database: str) -> Iterator[Any]:
    """Run SQL directly against the module's database (to arrange or inspect state)."""
    with psycopg.connect(database, autocommit=True, row_factory=dict_row) as conn:

        def run(query: str, params: Any = None) -> list[dict[str, Any]]:
            cur = conn.execute(query, params)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

        yield run


@pytest.fixture(scope="session")
def api_app() -> Any:
    from functions.__main__ import create_app

    return create_app()


@pytest_asyncio.fixture(loop_scope="session")
async def client(database: str, api_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=api_app, client=("198.51.100.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def make_user(client: httpx.AsyncClient, database: str) -> Any:
    async def create(role: str = "designer", *, full_name: str = "Test Person", **extra: Any) -> Account:
        email = f"user-{uuid.uuid4().hex[:12]}@example.com"
        password = "correct horse battery"
        response = await client.post(
            "/api/auth/signup", json={"full_name": full_name, "email": email, "password": password, **extra}
        )
        assert response.status_code == 201, response.text
        data = response.json()["data"]
        account = Account(
            id=data["user"]["id"], email=email, password=password, username=data["user"]["username"],
            token=data["token"]["accessToken"], refresh=data["token"]["refreshToken"], role=role,
        )
        if role != "designer":
            with psycopg.connect(database, autocommit=True) as conn:
                conn.execute("UPDATE profiles SET role_id = %s WHERE id = %s", (ROLE_IDS[role], account["id"]))
        return account

    return create


@pytest_asyncio.fixture(loop_scope="session")
async def admin(make_user: Any) -> Account:
    return await make_user("admin", full_name="Admin Person")


@pytest_asyncio.fixture(loop_scope="session")
async def designer(make_user: Any) -> Account:
    return await make_user("designer", full_name="Designer Person")
