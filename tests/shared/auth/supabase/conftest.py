"""Supabase mode under test: the API's auth provider talks to a GoTrue stand-in over real HTTP.

Every module here gets a fresh stand-in (HS256 unless the module sets `GOTRUE_ALGS`; a module
listing several algorithms runs once per algorithm), `SUPABASE_*` pointing at it, and fresh
settings and provider caches; all are restored afterwards so other modules keep the built-in
provider.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from shared.auth.provider import get_provider
from shared.config import reset_settings
from tests.shared.auth.supabase.gotrue_standin import GoTrueStandin

JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"
ENV_NAMES = ("SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_ANON_KEY", "SUPABASE_JWT_SECRET")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "gotrue" in metafunc.fixturenames:
        algs = getattr(metafunc.module, "GOTRUE_ALGS", ("HS256",))
        metafunc.parametrize("gotrue", algs, indirect=True, scope="module")


def _reset_caches() -> None:
    reset_settings()
    get_provider.cache_clear()


@pytest_asyncio.fixture(scope="module", loop_scope="session", autouse=True)
async def gotrue(request: pytest.FixtureRequest, database: str) -> AsyncIterator[GoTrueStandin]:
    """After `database` (which resets the caches too), so the provider made here is the one used."""
    server = GoTrueStandin(jwt_secret=JWT_SECRET, alg=request.param).start()
    previous = {name: os.environ.get(name) for name in ENV_NAMES}
    os.environ.update(
        SUPABASE_URL=server.url, SUPABASE_SERVICE_ROLE_KEY=server.service_role_key,
        SUPABASE_ANON_KEY=server.anon_key, SUPABASE_JWT_SECRET=JWT_SECRET,
    )
    _reset_caches()
    provider = get_provider()
    assert provider.name == "supabase"
    try:
        yield server
    finally:
        await provider.aclose()  # type: ignore[attr-defined]
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _reset_caches()
        server.stop()


@pytest.fixture
def standin_settings(gotrue: GoTrueStandin) -> Any:
    from shared.config import get_settings

    return get_settings()
