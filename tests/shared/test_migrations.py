"""Migrations apply once, in order, even when two deploys race."""

from __future__ import annotations

import threading

import psycopg

from shared.migrate import apply_migrations, migration_files


def test_template_is_fully_migrated_and_reapplying_is_a_no_op(databases):
    name = databases.create("migrations_noop")
    try:
        uri = databases.uri(name)
        assert apply_migrations(uri) == []
        with psycopg.connect(uri) as conn:
            versions = [r[0] for r in conn.execute("SELECT version FROM supabase_migrations.schema_migrations")]
        assert sorted(versions) == [v for v, _, _ in migration_files()]
    finally:
        databases.drop(name)


def test_concurrent_deploys_apply_each_file_once(databases, tmp_path):
    name = f"race_{threading.get_ident() % 100000}"
    databases.drop(name)
    with psycopg.connect(databases.admin_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    uri = databases.uri(name)
    (tmp_path / "20260101000000_counter.sql").write_text(
        "CREATE TABLE applied_counter (n int); INSERT INTO applied_counter VALUES (1); SELECT pg_sleep(0.2);"
    )
    (tmp_path / "20260101000001_second.sql").write_text("INSERT INTO applied_counter VALUES (2);")
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def deploy() -> None:
        try:
            results.append(apply_migrations(uri, tmp_path))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=deploy) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert not errors
        assert sorted(v for r in results for v in r) == ["20260101000000", "20260101000001"]
        with psycopg.connect(uri) as conn:
            assert [r[0] for r in conn.execute("SELECT n FROM applied_counter ORDER BY n")] == [1, 2]
    finally:
        databases.drop(name)
