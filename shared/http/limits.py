"""Rate limits shared by every instance and Lambda: GCRA buckets in PostgreSQL, leased in batches.

Each bucket is one row of the UNLOGGED table `rate_limits`: its theoretical arrival time (`tat`,
the generic cell rate algorithm). A bucket of `count` requests per `period_s` admits a request when
`max(tat, now) + period/count <= now + period`, and one atomic `INSERT ... ON CONFLICT DO UPDATE
... WHERE` both checks and takes: concurrent instances serialise on the row, never over-admit.

Generous limits (reads) would cost a round trip per request. Instead a process takes a *lease* of
`lease` requests in that one statement and spends it locally for as long as the lease covers
(`lease × period/count` seconds), so a client far from its limit costs no round trip; near the limit
the lease shrinks to what is left, so the shared count stays exact. Unspent lease is discarded,
never returned: a limit can only be undershot, never exceeded.

When the database cannot be reached (or its table is missing) the limiter falls back to the same
algorithm in process memory (per instance) for a few seconds, so an outage neither lifts the limits
nor turns every request into an error.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from dataclasses import dataclass

from shared.config import Settings
from shared.db import connection
from shared.http.errors import ApiError
from shared.observability.recording import count_rate_limited

log = logging.getLogger("tridmo.http.limits")

_TAKE = """
WITH taken AS (
    INSERT INTO rate_limits AS r (key, tat) VALUES (%(key)s, now() + make_interval(secs => %(cost)s))
    ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, now()) + make_interval(secs => %(cost)s)
     WHERE GREATEST(r.tat, now()) + make_interval(secs => %(cost)s) <= now() + make_interval(secs => %(period)s)
    RETURNING tat
)
SELECT EXTRACT(EPOCH FROM (SELECT tat FROM taken) - now())::float8 AS granted_ahead,
       EXTRACT(EPOCH FROM (SELECT tat FROM rate_limits WHERE key = %(key)s) - now())::float8 AS current_ahead
"""
_FORGET = "DELETE FROM rate_limits WHERE key = %(key)s"
_FORGET_PREFIX = "DELETE FROM rate_limits WHERE key LIKE %(prefix)s"
_EXPIRE = "DELETE FROM rate_limits WHERE tat < now() - interval '1 minute'"
_EXPIRE_EVERY_S = 60.0
_FALLBACK_S = 5.0


@dataclass(frozen=True)
class Limit:
    """`count` requests per `period_s` seconds; `lease` of them taken per round trip."""

    name: str
    count: int
    period_s: float
    lease: int = 1

    @property
    def interval_s(self) -> float:
        return self.period_s / self.count

    def policy_header(self) -> str:
        """The IETF httpapi draft's `RateLimit-Policy` item: quota `q` per window `w` seconds."""
        return f'"{self.name}";q={self.count};w={math.ceil(self.period_s)}'


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: Limit
    remaining: int
    reset_s: float  # until the bucket is full again
    retry_after_s: float = 0.0  # when refused: until one request is admitted

    def header(self) -> str:
        """The draft's `RateLimit` item: remaining `r` and seconds `t` until the quota resets."""
        return f'"{self.limit.name}";r={self.remaining};t={math.ceil(self.reset_s)}'

    def retry_after(self) -> str:
        return str(max(1, math.ceil(self.retry_after_s)))


@dataclass
class _Lease:
    tokens: int
    taken_at: float  # monotonic
    expires: float
    ahead_s: float  # how far the shared bucket's tat was ahead when the lease was taken


class Limiter:
    """`await limiter.hit(key, limit)` → Decision. One per process; keys name who and what."""

    def __init__(self) -> None:
        self._leases: dict[str, _Lease] = {}
        self._taking: dict[str, asyncio.Future[None]] = {}
        self._local_tat: dict[str, float] = {}  # the in-memory fallback's buckets (monotonic)
        self._next_expiry = 0.0
        self._database_retry_at = 0.0  # after a database error, limits stay in process until then
        self.statements = 0  # round trips made, for the bench and tests

    async def hit(self, key: str, limit: Limit) -> Decision:
        while True:
            now = time.monotonic()
            lease = self._leases.get(key)
            if lease is not None and lease.tokens > 0 and now < lease.expires:
                lease.tokens -= 1
                return self._admitted(limit, lease.ahead_s - (now - lease.taken_at), lease.tokens)
            pending = self._taking.get(key)
            if pending is None or limit.lease == 1:
                break
            # One round trip per key at a time: requests arriving while a lease is being taken
            # wait for it instead of each taking one (which would over-lease and waste the limit).
            await asyncio.shield(pending)
        if now < self._database_retry_at:
            return self._take_locally(key, limit, now)
        single_flight = limit.lease > 1  # a lease of 1 is never shared: each request takes its own
        done = asyncio.get_running_loop().create_future()
        if single_flight:
            self._taking[key] = done
        try:
            return await self._take(key, limit, now)
        except Exception as exc:
            if not _database_unreachable(exc):
                raise
            log.warning("rate limits fall back to this process for %.0f s: %s", _FALLBACK_S, type(exc).__name__)
            self._database_retry_at = now + _FALLBACK_S
            return self._take_locally(key, limit, now)
        finally:
            if single_flight:
                self._taking.pop(key, None)
            done.set_result(None)

    async def peek(self, key: str, limit: Limit) -> float:
        """Seconds until `key` admits one more request under `limit` (0: it would now)."""
        async with connection() as conn:
            self.statements += 1
            row = await (await conn.execute(
                "SELECT EXTRACT(EPOCH FROM tat - now())::float8 AS ahead FROM rate_limits WHERE key = %s", (key,)
            )).fetchone()
        ahead = max(0.0, (row or {}).get("ahead") or 0.0)
        return max(0.0, ahead + limit.interval_s - limit.period_s)

    async def forget(self, key: str, *, prefix: bool = False) -> None:
        """Drop a bucket (or every bucket whose key starts with `key`): an admin clearing a lock."""
        self._leases = {k: v for k, v in self._leases.items() if not (k.startswith(key) if prefix else k == key)}
        async with connection() as conn:
            self.statements += 1
            if prefix:
                await conn.execute(_FORGET_PREFIX, {"prefix": key.replace("%", r"\%").replace("_", r"\_") + "%"})
            else:
                await conn.execute(_FORGET, {"key": key})

    async def _take(self, key: str, limit: Limit, now: float) -> Decision:
        want = max(1, min(limit.lease, limit.count))
        async with connection() as conn:
            while True:
                self.statements += 1
                row = await (await conn.execute(_TAKE, {
                    "key": key, "cost": want * limit.interval_s, "period": limit.period_s,
                })).fetchone()
                assert row is not None
                if row["granted_ahead"] is not None:
                    break
                ahead = max(0.0, row["current_ahead"] or 0.0)
                available = math.floor((limit.period_s - ahead) / limit.interval_s + 1e-9)
                if available < 1 or want == 1:
                    return Decision(False, limit, 0, ahead, ahead + limit.interval_s - limit.period_s)
                want = min(want - 1, available)
            if now >= self._next_expiry:
                self._next_expiry = now + _EXPIRE_EVERY_S
                self.statements += 1
                await conn.execute(_EXPIRE)
        ahead = float(row["granted_ahead"])
        if want > 1:
            self._leases[key] = _Lease(want - 1, now, now + want * limit.interval_s, ahead)
        else:
            self._leases.pop(key, None)
        return self._admitted(limit, ahead, want - 1)

    def _take_locally(self, key: str, limit: Limit, now: float) -> Decision:
        tat = max(self._local_tat.get(key, now), now) + limit.interval_s
        if tat - now > limit.period_s:
            ahead = tat - limit.interval_s - now
            return Decision(False, limit, 0, ahead, ahead + limit.interval_s - limit.period_s)
        self._local_tat[key] = tat
        return self._admitted(limit, tat - now, 0)

    @staticmethod
    def _admitted(limit: Limit, ahead_s: float, spare: int) -> Decision:
        ahead_s = max(0.0, ahead_s)
        remaining = max(0, math.floor((limit.period_s - ahead_s) / limit.interval_s + 1e-9)) + spare
        return Decision(True, limit, min(remaining, limit.count), ahead_s)


def _database_unreachable(exc: Exception) -> bool:
    # heavy: psycopg (~100 ms) is imported by the pool on first use; here only once a query failed
    import psycopg
    from psycopg_pool import PoolTimeout

    return isinstance(exc, psycopg.Error | PoolTimeout)  # down, or not migrated yet: never fail the request


_limiter: Limiter | None = None


def get_limiter() -> Limiter:
    """The process's limiter (its leases are per process, like the DB pool)."""
    global _limiter
    if _limiter is None:
        _limiter = Limiter()
    return _limiter


@dataclass(frozen=True)
class RouteLimits:
    """The limit of each route class, from settings; per client address, and per user for writes."""

    auth: Limit
    write: Limit
    read: Limit

    @classmethod
    def from_settings(cls, settings: Settings) -> RouteLimits:
        return cls(
            auth=Limit("auth", settings.rate_limit_auth_per_min, 60.0),
            # leases: a twentieth of the limit per round trip (at least 1), so only every 20th
            # request of a busy client reaches the database, and the count stays exact near the limit
            write=Limit("write", settings.rate_limit_write_per_min, 60.0, _lease(settings.rate_limit_write_per_min)),
            read=Limit("read", settings.rate_limit_read_per_min, 60.0, _lease(settings.rate_limit_read_per_min)),
        )


@functools.lru_cache(maxsize=4)
def route_limits(settings: Settings) -> RouteLimits:
    return RouteLimits.from_settings(settings)


def _lease(count: int) -> int:
    return max(1, count // 20)


def refusal(decision: Decision) -> ApiError:
    """The 429 for a refused decision, in the envelope, with `Retry-After` and the draft's headers."""
    count_rate_limited(decision.limit.name)
    return ApiError("rate_limited", headers={
        "Retry-After": decision.retry_after(),
        "RateLimit-Policy": decision.limit.policy_header(),
        "RateLimit": decision.header(),
    })


async def enforce(key: str, limit: Limit) -> Decision:
    """`hit`, raising the 429 when refused."""
    decision = await get_limiter().hit(key, limit)
    if not decision.allowed:
        raise refusal(decision)
    return decision
