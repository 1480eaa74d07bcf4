"""The drain's side of `replication_queue`: claiming due rows with a lease, closing or backing them off.

Rows are noted by `journal.py`; `replicate.py` carries them out. Every statement on the table the drain
runs is here, named for what it does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.db import execute, fetch_all, fetch_one

LEASE_S = 900.0  # longer than the biggest copy takes; a dead worker's rows are due again after it
BACKOFF_BASE_S = 30.0  # between runs: 30 s, 1 min, 2 min, ... capped
BACKOFF_MAX_S = 6 * 3600.0

_CLAIM = """
UPDATE replication_queue q SET next_attempt_at = now() + make_interval(secs => %s), last_attempt_at = now()
FROM (
    SELECT bucket, object_key FROM replication_queue WHERE next_attempt_at <= now()
    ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED
) due
WHERE q.bucket = due.bucket AND q.object_key = due.object_key
RETURNING q.bucket, q.object_key, q.enqueued_at, q.attempts, q.op
"""
_PENDING = "SELECT enqueued_at, op FROM replication_queue WHERE bucket = %s AND object_key = %s"
# Only the claimed generation: a row re-queued while it was being copied (the object was written
# again) stays for the next run.
_DONE = "DELETE FROM replication_queue WHERE bucket = %s AND object_key = %s AND enqueued_at = %s"
_FAILED = """
UPDATE replication_queue SET attempts = attempts + 1, last_error = left(%s, 1000), last_attempt_at = now(),
       next_attempt_at = now() + make_interval(secs => least(%s * power(2, least(attempts, 20)), %s))
WHERE bucket = %s AND object_key = %s
"""
_RELEASE = """
UPDATE replication_queue SET next_attempt_at = now()
WHERE (bucket, object_key) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
"""
_STATS = """
SELECT count(*) AS queued, count(*) FILTER (WHERE attempts > 0) AS failing,
       coalesce(extract(epoch FROM now() - min(enqueued_at)), 0)::float AS oldest_s
FROM replication_queue
"""


async def claim_due(lease_s: float, batch: int) -> list[dict[str, Any]]:
    """Up to `batch` due rows, leased for `lease_s` (concurrent drains skip each other's rows)."""
    return await fetch_all(_CLAIM, (lease_s, batch))


async def pending_row(bucket: str, key: str) -> dict[str, Any] | None:
    """The queued row of one object (`enqueued_at`, `op`), or None when a drain already closed it."""
    return await fetch_one(_PENDING, (bucket, key))


async def mark_done(bucket: str, key: str, enqueued_at: datetime) -> None:
    await execute(_DONE, (bucket, key, enqueued_at))


async def mark_failed(bucket: str, key: str, message: str) -> None:
    """Count the failure, keep its message and push the row back exponentially."""
    await execute(_FAILED, (message, BACKOFF_BASE_S, BACKOFF_MAX_S, bucket, key))


async def release(rows: Sequence[dict[str, Any]]) -> None:
    """Hand leased rows back, due at once (a drain that stopped early did not start them)."""
    await execute(_RELEASE, ([r["bucket"] for r in rows], [r["object_key"] for r in rows]))


async def queue_stats() -> dict[str, Any]:
    row = await fetch_one(_STATS)
    return dict(row or {})
