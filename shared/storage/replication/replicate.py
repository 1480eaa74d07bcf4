"""Reconcile the primary storage with its replica. `python -m shared.storage.replication.replicate [--full]`.

Default mode drains `replication_queue`: every row names an object that may exist on one side only (a
completed direct upload, a mirrored write that lost a side; noted by `journal.py`, the drain's statements
are in `queue.py`). Rows are claimed with a lease (`next_attempt_at` pushed forward, `FOR UPDATE SKIP
LOCKED`, so concurrent runs never copy the same row), copied with `ReplicatedStorage.sync_object` (streamed
GET → equal-part multipart PUT, one part in memory; skipped when the other side already has the same
size/ETag), and deleted only after the copy is verified. A failure increments `attempts`, keeps
`last_error` and backs off exponentially; after several consecutive failures the run stops early (an
endpoint is down) and hands its unstarted rows back. Nothing is lost by a crash:
an expired lease makes the row due again.

Deletion wins (see `replica.py`). A row is op `copy` or op `delete` (a delete missed a side);
queueing a delete turns a pending copy row into it, and no copy note turns it back (keys are never
reused). Delete rows are carried out on both sides (`purge`), never by copying the leftover back; a row
re-queued while a worker holds it (new `enqueued_at`) outlives that worker's success, so a delete queued
during a copy still runs after it, and the copy itself is undone by `sync_object`'s re-check.

`--full` repairs after an outage without the queue: it lists both sides (by bucket and prefix, merged in
key order, so memory does not grow with the bucket) and copies what the replica lacks or holds with a
different size; `--to-primary` also copies objects only the replica has (written while the primary was
down). Failed copies are queued so the default mode retries them. It does not read the queue: what it
copies back while a delete of it is queued, the next drain deletes on both sides.

Without a replica configured both modes do nothing and say so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

import anyio

from shared.db.pool import close_pools
from shared.storage.base import ListedObject, Storage
from shared.storage.errors import StorageError
from shared.storage.factory import get_storage
from shared.storage.keys import BUCKETS, Bucket
from shared.storage.replication.journal import record_divergence
from shared.storage.replication.queue import (
    LEASE_S,
    claim_due,
    mark_done,
    mark_failed,
    pending_row,
    queue_stats,
    release,
)
from shared.storage.replication.replica import ReplicatedStorage, SyncResult, is_replicated

log = logging.getLogger("tridmo.replicate")

# draining ------------------------------------------------------------------------------------------
@dataclass
class DrainReport:
    mode: str = "queue"
    skipped: str = ""
    claimed: int = 0
    copied: int = 0
    in_sync: int = 0
    gone: int = 0
    deleted: int = 0
    failed: int = 0
    released: int = 0
    bytes_copied: int = 0
    stopped: str = ""
    queued: int = 0
    failing: int = 0
    oldest_s: float = 0.0
    errors: list[str] = field(default_factory=list)


def tally(report: DrainReport | FullReport, result: SyncResult) -> None:
    """Count one outcome (`copied`, `in_sync`, `gone`, `deleted`) in either report."""
    setattr(report, result.outcome, getattr(report, result.outcome) + 1)
    report.bytes_copied += result.size if result.outcome == "copied" else 0


async def sync_with_retries(
    storage: ReplicatedStorage, bucket: Bucket, key: str, *, tries: int, backoff_s: float, op: str = "copy"
) -> SyncResult | BaseException:
    """The result of carrying out one row (a delete on both sides, or a copy to the side that lacks the
    object), or the last error after `tries` attempts (exponential sleep between them)."""
    error: BaseException = RuntimeError("no attempt made")
    for attempt in range(max(tries, 1)):
        try:
            return await (storage.purge if op == "delete" else storage.sync_object)(bucket, key)
        except (StorageError, OSError) as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - an unexpected failure must not lose the row either
            log.exception("replicating %s/%s failed unexpectedly", bucket, key)
            error = exc
        if attempt + 1 < tries:
            await anyio.sleep(backoff_s * 2**attempt)
    return error


async def drain(
    storage: Storage,
    *,
    batch: int = 50,
    concurrency: int = 4,
    tries: int = 3,
    backoff_s: float = 1.0,
    lease_s: float = LEASE_S,
    budget_s: float | None = None,
    trip_after: int = 5,
) -> DrainReport:
    """Carry out every due queued row (copy or delete); see the module docstring for the guarantees."""
    report = DrainReport()
    if not is_replicated(storage):
        report.skipped = "no replica configured"
        return report
    assert isinstance(storage, ReplicatedStorage)
    started = time.monotonic()
    streak = 0  # consecutive failed rows: an endpoint is probably down

    async def process(row: dict[str, Any]) -> None:
        nonlocal streak
        bucket, key = row["bucket"], row["object_key"]
        outcome = await sync_with_retries(storage, bucket, key, tries=tries, backoff_s=backoff_s, op=row["op"])
        if isinstance(outcome, SyncResult):
            await mark_done(bucket, key, row["enqueued_at"])
            tally(report, outcome)
            streak = 0
            if outcome.outcome in ("copied", "deleted"):
                log.info("replication %s %s/%s (%s → %s, %d bytes)", outcome.outcome, bucket, key, outcome.source,
                         outcome.target, outcome.size)  # fmt: skip
            return
        message = f"{type(outcome).__name__}: {outcome}"
        await mark_failed(bucket, key, message)
        report.failed += 1
        streak += 1
        if len(report.errors) < 20:
            report.errors.append(f"{bucket}/{key}: {message}")
        log.warning("replication of %s/%s failed (attempt %d): %s", bucket, key, row["attempts"] + 1, message)

    while not report.stopped:
        if budget_s is not None and time.monotonic() - started > budget_s:
            report.stopped = "time budget spent"
            break
        rows = await claim_due(lease_s, batch)
        if not rows:
            break
        report.claimed += len(rows)
        waiting = list(rows)

        async def worker(waiting: list[dict[str, Any]]) -> None:
            while waiting and not report.stopped:
                if budget_s is not None and time.monotonic() - started > budget_s:
                    report.stopped = "time budget spent"
                    return
                await process(waiting.pop(0))
                if streak >= trip_after:
                    report.stopped = f"{streak} consecutive failures; storage looks down"

        async with anyio.create_task_group() as group:
            for _ in range(min(max(concurrency, 1), len(rows))):
                group.start_soon(worker, waiting)
        if waiting:  # stopped early: hand the unstarted rows back instead of leaving them leased
            await release(waiting)
            report.released += len(waiting)
    stats = await queue_stats()
    report.queued, report.failing, report.oldest_s = stats["queued"], stats["failing"], round(stats["oldest_s"], 1)
    return report


async def mirror_soon(storage: Storage, bucket: Bucket, key: str) -> None:
    """The fast path after a direct upload completes (a background task on long-lived servers): copy
    now and drop the queue row (a delete queued meanwhile is carried out instead). Any failure only
    logs: the row stays and the scheduled drain copies it."""
    if not is_replicated(storage):
        return
    assert isinstance(storage, ReplicatedStorage)
    try:
        row = await pending_row(bucket, key)
        if row is None:
            return  # already done by a drain
        await (storage.purge if row["op"] == "delete" else storage.sync_object)(bucket, key)
        await mark_done(bucket, key, row["enqueued_at"])
    except Exception as exc:  # noqa: BLE001 - best effort by design
        log.warning("mirroring %s/%s after upload failed, left for the replicate job: %s", bucket, key, exc)


# full comparison -----------------------------------------------------------------------------------
@dataclass
class FullReport:
    mode: str = "full"
    skipped: str = ""
    prefix: str = ""
    listed_primary: int = 0
    listed_replica: int = 0
    missing_on_replica: int = 0
    size_differs: int = 0
    replica_only: int = 0
    copied: int = 0
    in_sync: int = 0
    gone: int = 0
    deleted: int = 0
    failed: int = 0
    queued_for_retry: int = 0
    bytes_copied: int = 0
    errors: list[str] = field(default_factory=list)


async def _sorted(items: AsyncIterator[ListedObject], side: str) -> AsyncIterator[ListedObject]:
    previous: bytes | None = None
    async for item in items:
        current = item.key.encode()
        if previous is not None and current <= previous:
            raise RuntimeError(f"{side} listing is not in key order; cannot compare by merging")
        previous = current
        yield item


async def paired(
    primary: AsyncIterator[ListedObject], replica: AsyncIterator[ListedObject]
) -> AsyncIterator[tuple[ListedObject | None, ListedObject | None]]:
    """Merge two listings sorted by key (S3 lists in UTF-8 byte order): (p, r), (p, None) or (None, r)."""
    left, right = _sorted(primary, "primary"), _sorted(replica, "replica")
    p = await anext(left, None)
    r = await anext(right, None)
    while p is not None or r is not None:
        if r is None or (p is not None and p.key.encode() < r.key.encode()):
            yield p, None
            p = await anext(left, None)
        elif p is None or r.key.encode() < p.key.encode():
            yield None, r
            r = await anext(right, None)
        else:
            yield p, r
            p, r = await anext(left, None), await anext(right, None)


async def full(
    storage: Storage,
    *,
    buckets: tuple[Bucket, ...] = BUCKETS,  # type: ignore[assignment]
    prefix: str = "",
    to_primary: bool = False,
    concurrency: int = 4,
    tries: int = 3,
    backoff_s: float = 1.0,
) -> FullReport:
    report = FullReport(prefix=prefix)
    if not is_replicated(storage):
        report.skipped = "no replica configured"
        return report
    assert isinstance(storage, ReplicatedStorage)
    limiter = anyio.Semaphore(max(concurrency, 1))

    async def copy(bucket: Bucket, key: str) -> None:
        try:
            outcome = await sync_with_retries(storage, bucket, key, tries=tries, backoff_s=backoff_s)
        finally:
            limiter.release()
        if isinstance(outcome, SyncResult):
            tally(report, outcome)
            return
        report.failed += 1
        if len(report.errors) < 20:
            report.errors.append(f"{bucket}/{key}: {type(outcome).__name__}: {outcome}")
        try:
            await record_divergence(bucket, key, f"--full copy failed: {outcome}")
            report.queued_for_retry += 1
        except Exception as exc:  # noqa: BLE001 - the next --full run finds it again
            log.error("could not queue %s/%s: %s", bucket, key, exc)

    for bucket in buckets:
        async with anyio.create_task_group() as group:
            listing = paired(storage.primary.list(bucket, prefix), storage.replica.list(bucket, prefix))
            async for on_primary, on_replica in listing:
                report.listed_primary += on_primary is not None
                report.listed_replica += on_replica is not None
                if on_primary is not None and on_replica is None:
                    report.missing_on_replica += 1
                elif on_primary is not None and on_replica is not None:
                    if on_primary.size == on_replica.size:
                        continue
                    report.size_differs += 1
                else:
                    report.replica_only += 1
                    if not to_primary:
                        continue
                key = (on_primary or on_replica).key  # type: ignore[union-attr]
                await limiter.acquire()  # back-pressure: at most `concurrency` copies, the listing waits
                group.start_soon(copy, bucket, key)
    return report


# entry points --------------------------------------------------------------------------------------
def _budget(context: object) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return max(remaining() / 1000 - 30, 10) if callable(remaining) else None


async def _main(args: argparse.Namespace) -> DrainReport | FullReport:
    storage = get_storage()
    try:
        if args.full:
            buckets = (args.bucket,) if args.bucket else BUCKETS
            return await full(
                storage, buckets=buckets, prefix=args.prefix, to_primary=args.to_primary, concurrency=args.concurrency
            )
        return await drain(storage, batch=args.batch, concurrency=args.concurrency, budget_s=args.max_seconds)
    finally:
        await close_pools()


def handler(event: dict, context: object) -> dict:
    """Scheduled Lambda entry point. The event may carry `{"full": true, "prefix": "...", "to_primary": true}`."""
    event = event if isinstance(event, dict) else {}
    args = argparse.Namespace(
        full=bool(event.get("full")),
        prefix=str(event.get("prefix") or ""),
        bucket=event.get("bucket"),
        to_primary=bool(event.get("to_primary")),
        batch=int(event.get("batch") or 50),
        concurrency=int(event.get("concurrency") or 4),
        max_seconds=_budget(context),
    )
    return asdict(asyncio.run(_main(args)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Copy objects the storage replica is missing")
    parser.add_argument("--full", action="store_true", help="compare both sides by listing, not the queue")
    parser.add_argument("--prefix", default="", help="with --full: only keys starting with this")
    parser.add_argument("--bucket", choices=BUCKETS, default=None, help="with --full: only this bucket")
    parser.add_argument("--to-primary", action="store_true", help="with --full: also copy replica-only objects")
    parser.add_argument("--batch", type=int, default=50, help="queue rows claimed at a time")
    parser.add_argument("--concurrency", type=int, default=4, help="copies in flight (each holds one part)")
    parser.add_argument("--max-seconds", type=float, default=None, help="stop claiming rows after this long")
    report = asyncio.run(_main(parser.parse_args(argv)))
    print(json.dumps(asdict(report)))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
