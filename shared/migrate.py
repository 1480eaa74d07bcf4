"""Forward-only SQL migrations from `supabase/migrations/`, safe for concurrent deploys.

Files are named as the Supabase CLI expects (`<timestamp>_<name>.sql`) and recorded in the CLI's
own table (`supabase_migrations.schema_migrations`), so `supabase db push` and this command agree
on what is applied. Each file runs in one transaction that first takes a transaction-level
advisory lock and re-checks the record: two deploys racing apply each file exactly once, and no
lock outlives a transaction (Supavisor's transaction mode allows nothing else).

Usage: `python -m shared.migrate [--url URL]` (also ensures the ADMIN_EMAIL account when set).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from pathlib import Path

import psycopg

from shared.auth.bootstrap import ensure_admin
from shared.config import PROJECT_ROOT, get_settings
from shared.db.pool import database_url
from shared.observability.logging import configure_logging

MIGRATIONS_DIR = PROJECT_ROOT / "supabase" / "migrations"
_NAME = re.compile(r"^(?P<version>\d{14})_(?P<name>[a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x7472_6964  # "trid"
log = logging.getLogger("tridmo.migrate")

_BOOKKEEPING = """
CREATE SCHEMA IF NOT EXISTS supabase_migrations;
CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (
    version text PRIMARY KEY,
    statements text[],
    name text
);
"""


def migration_files(directory: Path = MIGRATIONS_DIR) -> list[tuple[str, str, Path]]:
    files = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise SystemExit(f"migration file {path.name} is not named <14-digit timestamp>_<name>.sql")
        files.append((match["version"], match["name"], path))
    return files


def apply_migrations(url: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending files in order; return the versions applied by this call."""
    applied: list[str] = []
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            conn.execute(_BOOKKEEPING)
        for version, name, path in migration_files(directory):
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                done = conn.execute(
                    "SELECT 1 FROM supabase_migrations.schema_migrations WHERE version = %s", (version,)
                ).fetchone()
                if done:
                    continue
                sql = path.read_text(encoding="utf-8")
                conn.execute(sql)  # type: ignore[arg-type]  # trusted file from the repo
                conn.execute(
                    "INSERT INTO supabase_migrations.schema_migrations (version, statements, name)"
                    " VALUES (%s, %s, %s)",
                    (version, [sql], name),
                )
                applied.append(version)
                log.info("migration applied", extra={"version": version, "migration": name})
    return applied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: DB_URL or the embedded server)")
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    url = args.url or database_url(settings)
    applied = apply_migrations(url)
    log.info("migrations up to date", extra={"applied": len(applied)})
    if settings.admin_email and settings.admin_password:
        asyncio.run(ensure_admin(settings.admin_email, settings.admin_password))
    return 0


if __name__ == "__main__":
    sys.exit(main())
