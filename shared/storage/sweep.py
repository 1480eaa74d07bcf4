"""Sweep: remove expired uploads and orphan objects. `python -m shared.storage.sweep [--dry-run]`.

An object is an orphan when no row references it and it is older than the grace period (default
`ORPHAN_GRACE_S`, 24 h, so objects of requests still in flight are never touched). References come from
`storage_references` (table, column, bucket, match), which other migrations extend; a registered table
that does not exist yet is skipped. If references cannot be read, nothing is deleted.

With a replica, both sides are listed (merged in key order, each key once): an object can live on the
replica alone, written while the primary was down (kept while referenced, like any object) or left behind
by a delete that missed the replica (an orphan, removed here even if its queued delete note was lost).
An object's age is that of its newest copy, so a fresh copy is never taken for an old orphan. Orphans
are removed with `storage.delete`, which queues the delete for a side that is down; a side that cannot
be listed fails the run (judging orphans from one side's listing would miss the other's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

from psycopg import sql

from shared.config import get_settings
from shared.db import connection, transaction
from shared.db.pool import close_pools
from shared.storage.base import ListedObject, Storage
from shared.storage.factory import get_storage
from shared.storage.keys import BUCKETS, Bucket
from shared.storage.replication.replica import ReplicatedStorage
from shared.storage.replication.replicate import paired
from shared.storage.uploads import discard_upload, expired_uploads

log = logging.getLogger("tridmo.sweep")


@dataclass
class SweepReport:
    expired_uploads: int = 0
    orphans: dict[str, int] = field(default_factory=lambda: {b: 0 for b in BUCKETS})
    replica_only: int = 0  # of the orphans, those only the replica held
    scratch: int = 0
    kept_young: int = 0
    dry_run: bool = False


def _image_dir(key: str) -> str:
    return key.rsplit("/", 1)[0] + "/" if "/" in key else key


async def referenced_keys(conn: Any) -> dict[str, tuple[set[str], set[str]]]:
    """Per bucket: (exact keys, image directories) referenced by any registered column."""
    refs = {bucket: (set(), set()) for bucket in BUCKETS}
    cur = await conn.execute(
        "SELECT r.table_name, r.column_name, r.bucket, r.match FROM storage_references r"
        " JOIN information_schema.columns c ON c.table_schema = current_schema()"
        " AND c.table_name = r.table_name AND c.column_name = r.column_name"
    )
    for row in await cur.fetchall():
        query = sql.SQL("SELECT DISTINCT {col} AS k FROM {tbl} WHERE {col} IS NOT NULL").format(
            col=sql.Identifier(row["column_name"]), tbl=sql.Identifier(row["table_name"])
        )
        keys, dirs = refs[row["bucket"]]
        for item in await (await conn.execute(query)).fetchall():
            keys.add(item["k"])
            if row["match"] == "image":
                dirs.add(_image_dir(item["k"]))
    return refs


def is_referenced(key: str, keys: set[str], dirs: set[str]) -> bool:
    return key in keys or ("/" in key and _image_dir(key) in dirs)


async def listed(storage: Storage, bucket: Bucket) -> AsyncIterator[tuple[ListedObject, bool]]:
    """Every object once, with whether only the replica holds it; with a replica, from both sides."""
    if not isinstance(storage, ReplicatedStorage):
        async for item in storage.list(bucket):
            yield item, False
        return
    async for on_primary, on_replica in paired(storage.primary.list(bucket), storage.replica.list(bucket)):
        copies = [item for item in (on_primary, on_replica) if item is not None]
        yield max(copies, key=lambda item: item.last_modified), on_primary is None


async def sweep(storage: Storage, *, grace_s: float, dry_run: bool = False) -> SweepReport:
    report = SweepReport(dry_run=dry_run)
    async with transaction() as conn:
        for row in await expired_uploads(conn):
            report.expired_uploads += 1
            if not dry_run:
                await discard_upload(storage, conn, row)
    async with connection() as conn:
        refs = await referenced_keys(conn)
    cutoff = time.time() - grace_s
    for bucket in BUCKETS:
        keys, dirs = refs[bucket]
        async for item, replica_only in listed(storage, bucket):
            if is_referenced(item.key, keys, dirs):
                continue
            if item.last_modified.timestamp() > cutoff:
                report.kept_young += 1
                continue
            report.orphans[bucket] += 1
            report.replica_only += replica_only
            where = " (replica only)" if replica_only else ""
            log.info("orphan %s/%s%s (%d bytes)%s", bucket, item.key, where, item.size, " [dry run]" if dry_run else "")
            if not dry_run:
                await storage.delete(bucket, item.key)
    scratch = getattr(storage, "sweep_scratch", None)
    if scratch is not None and not dry_run:
        report.scratch = await scratch(grace_s)
    return report


async def _main(args: argparse.Namespace) -> SweepReport:
    grace = args.grace if args.grace is not None else get_settings().orphan_grace_s
    try:
        return await sweep(get_storage(), grace_s=grace, dry_run=args.dry_run)
    finally:
        await close_pools()


def handler(event: dict, context: object) -> dict:
    """Scheduled Lambda entry point (serverless.yml `sweep`)."""
    report = asyncio.run(_main(argparse.Namespace(grace=None, dry_run=False)))
    return asdict(report)


def main() -> None:
    parser = argparse.ArgumentParser(description="Remove expired uploads and orphan stored objects")
    parser.add_argument("--dry-run", action="store_true", help="report what would be removed, remove nothing")
    parser.add_argument("--grace", type=float, default=None, help="seconds an unreferenced object is kept")
    report = asyncio.run(_main(parser.parse_args()))
    print(json.dumps(asdict(report)))


if __name__ == "__main__":
    main()
