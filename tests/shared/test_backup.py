"""A backup can be restored: dump a database to storage, load it into an empty one, compare."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from shared import backup


async def test_backup_round_trip_and_retention(databases):
    source = databases.create("backup_source")
    target = databases.create("backup_target")
    try:
        with psycopg.connect(databases.uri(source), autocommit=True) as conn:
            conn.execute("INSERT INTO countries (name) VALUES ('Uzbekistan'), ('Kazakhstan')")
        with psycopg.connect(databases.uri(target), autocommit=True) as conn:
            conn.execute("DELETE FROM roles WHERE id = 3")  # a target that differs before the restore
        old = await backup.run_backup(databases.uri(source), now=datetime.now(UTC) - timedelta(days=40))
        key = await backup.run_backup(databases.uri(source))
        assert key.startswith("backups/db/") and key != old
        await backup.restore(key, databases.uri(target))
        with psycopg.connect(databases.uri(target)) as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM countries ORDER BY name")]
            roles = conn.execute("SELECT count(*) FROM roles").fetchone()[0]
        assert names == ["Kazakhstan", "Uzbekistan"] and roles == 3
        keys = [o.key for o in await backup.list_backups()]
        assert key in keys
    finally:
        databases.drop(source)
        databases.drop(target)
