"""psycopg 3 async pool, pooler-aware, created lazily on first use.

Chosen over asyncpg because psycopg works unchanged through Supavisor's transaction mode with
`prepare_threshold=None` and has a maintained pool with health checks; see the README for figures.
A pool belongs to the event loop that made it: Lambda (Mangum) and tests may run several loops in
one process, so pools are kept per loop, never in lifespan (Mangum runs lifespan per invocation).

psycopg and psycopg_pool (~100 ms of import) load when the first pool is made, not when this module
is imported: a function imports `shared.db` at its top, and a cold start that answers without
the database (liveness, validation errors, files) never pays for the driver.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from shared.config import Settings, get_settings
from shared.db.embedded import start_embedded
from shared.observability.recording import publish_pool_stats

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncConnectionPool] = (
    weakref.WeakKeyDictionary()
)
_url_lock = threading.Lock()
_resolved_url: str | None = None
# Counts statements per request; tests use it to prove list endpoints do not run N+1 queries.
statement_counter: ContextVar[list[int] | None] = ContextVar("statement_counter", default=None)


def database_url(settings: Settings | None = None) -> str:
    """`DB_URL` when set, else the embedded server's URI (started on first call)."""
    global _resolved_url
    settings = settings or get_settings()
    if settings.db_url:
        return settings.db_url
    with _url_lock:
        if _resolved_url is None:
            _resolved_url = start_embedded(settings.data_dir)
        return _resolved_url


def connection_kwargs(settings: Settings) -> dict[str, Any]:
    from psycopg.rows import dict_row  # heavy: psycopg is ~100 ms of import; see the module docstring

    kwargs: dict[str, Any] = {
        "autocommit": True,
        "row_factory": dict_row,
        "connect_timeout": int(settings.db_connect_timeout_s),
        "options": f"-c statement_timeout={settings.db_statement_timeout_ms}",
        "application_name": os.environ.get("PGAPPNAME") or "tridmo-api",  # libpq's variable: name an instance
    }
    if settings.db_pool_mode == "transaction":
        # Supavisor transaction mode hands each transaction to any server connection:
        # a prepared statement made on one is unknown on the next.
        kwargs["prepare_threshold"] = None
    return kwargs


async def get_pool() -> AsyncConnectionPool:
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None:
        from psycopg_pool import AsyncConnectionPool  # heavy: loads psycopg, ~100 ms; see the module docstring

        settings = get_settings()
        url = await asyncio.to_thread(database_url, settings)
        pool = AsyncConnectionPool(
            url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            kwargs=connection_kwargs(settings),
            open=False,
            timeout=settings.db_connect_timeout_s,
            name="tridmo",
        )
        _pools[loop] = pool
        await pool.open(wait=False)
    return pool


def _publish_pool_stats(pool: AsyncConnectionPool) -> None:
    stats = pool.get_stats()
    publish_pool_stats(stats.get("pool_size", 0), stats.get("pool_available", 0), stats.get("requests_waiting", 0))


@asynccontextmanager
async def connection() -> AsyncIterator[AsyncConnection[dict[str, Any]]]:
    """A pooled connection in autocommit mode: each statement is its own transaction."""
    pool = await get_pool()
    async with pool.connection() as conn:
        _publish_pool_stats(pool)
        yield conn


# (scope, key) of the Idempotency-Key request being served, set by the idempotency middleware
current_idempotency_record: ContextVar[tuple[str, str] | None] = ContextVar("idempotency_record", default=None)
_MARK_COMMITTED = "UPDATE idempotency_keys SET committed = true WHERE scope = %s AND key = %s"


@asynccontextmanager
async def transaction() -> AsyncIterator[AsyncConnection[dict[str, Any]]]:
    """A pooled connection inside one transaction: committed on success, rolled back on error.

    Inside an `Idempotency-Key` request the transaction also marks the key's record committed, so
    the record and the work commit together (a replay after a crash between commit and answer
    knows the work is done)."""
    async with connection() as conn, conn.transaction():
        yield conn
        record = current_idempotency_record.get()
        if record is not None:
            await conn.execute(_MARK_COMMITTED, record)


def _count() -> None:
    counter = statement_counter.get()
    if counter is not None:
        counter[0] += 1


Params = Sequence[Any] | dict[str, Any] | None


async def fetch_all(sql: str, params: Params = None, conn: AsyncConnection | None = None) -> list[dict]:
    _count()
    if conn is not None:
        cur = await conn.execute(sql, params)
        return await cur.fetchall()
    async with connection() as c:
        cur = await c.execute(sql, params)
        return await cur.fetchall()


async def fetch_one(sql: str, params: Params = None, conn: AsyncConnection | None = None) -> dict | None:
    _count()
    if conn is not None:
        cur = await conn.execute(sql, params)
        return await cur.fetchone()
    async with connection() as c:
        cur = await c.execute(sql, params)
        return await cur.fetchone()


async def fetch_val(sql: str, params: Params = None, conn: AsyncConnection | None = None) -> Any:
    row = await fetch_one(sql, params, conn)
    if row is None:
        return None
    return next(iter(row.values()))


async def execute(sql: str, params: Params = None, conn: AsyncConnection | None = None) -> int:
    _count()
    if conn is not None:
        cur = await conn.execute(sql, params)
        return cur.rowcount
    async with connection() as c:
        cur = await c.execute(sql, params)
        return cur.rowcount


async def close_pools() -> None:
    """Close this loop's pool; pools of other loops (a Lambda handler's, in tests) are dropped:
    their loop is not running, so they cannot be awaited from here."""
    running = asyncio.get_running_loop()
    for loop, pool in list(_pools.items()):
        if loop is running:
            await pool.close()
    _pools.clear()


def reset_database_url() -> None:
    """Forget the resolved URL (tests point modules at fresh databases)."""
    global _resolved_url
    _resolved_url = None
