"""Noting an object that one storage side lacks, as a row of `replication_queue` (the drain is `replicate.py`).

Two writers note rows: completing a direct upload (`enqueue`, inside the caller's transaction) and the
replicated backend when a write or delete reached one side only (`record_divergence`, its own statement).
A `delete` note wins over a pending `copy` note for the same object and is never turned back (keys are
never reused).

`shared.db` loads psycopg only when a pool is first made, so the files function, which imports this module
through the replicated backend but never queries, still does not load the driver at cold start.
"""

from __future__ import annotations

import logging
from typing import Any

from shared.config import get_settings
from shared.db import execute
from shared.storage.keys import Bucket

log = logging.getLogger("tridmo.replicate")

_ENQUEUE = """
INSERT INTO replication_queue (bucket, object_key, last_error, op) VALUES (%s, %s, %s, %s)
ON CONFLICT (bucket, object_key) DO UPDATE
SET enqueued_at = clock_timestamp(), next_attempt_at = now(),
    last_error = coalesce(EXCLUDED.last_error, replication_queue.last_error),
    op = CASE WHEN EXCLUDED.op = 'delete' THEN 'delete' ELSE replication_queue.op END
"""


async def enqueue(conn: Any, bucket: Bucket, key: str, why: str | None = None, op: str = "copy") -> None:
    """Queue an object for copying (or deleting), inside the caller's transaction (commits with it)."""
    await execute(_ENQUEUE, (bucket, key, why, op), conn=conn)


async def record_divergence(bucket: Bucket, key: str, why: str, op: str = "copy") -> None:
    """The `ReplicatedStorage` journal: queue an object whose write or delete reached one side only (own
    statement). With no `DB_URL` (embedded development setups) there is no shared queue; `--full` and
    the sweep repair instead."""
    if not get_settings().db_url:
        log.warning("storage sides diverged on %s/%s (%s); no DB_URL to queue it: run --full", bucket, key, why)
        return
    await enqueue(None, bucket, key, why, op)
