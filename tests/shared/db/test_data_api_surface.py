"""Supabase's Data API sees nothing of ours: as `anon` and as `authenticated` (`SET ROLE`, the way
PostgREST runs a request), no project table can be read or written and no project function run.

The database is set up the way a fresh Supabase project is (its API roles, and default privileges
that grant them everything new in `public`) before the migrations run. Tables, sequences and
functions are found by walking the catalogue, so an object a later migration adds is covered too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from shared.migrate import apply_migrations

API_ROLES = ("anon", "authenticated")
PROJECT_SCHEMAS = ("public", "builtin_auth")
NOT_EXTENSION = """NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{catalog}'::regclass
                                AND d.objid = {oid} AND d.deptype = 'e')"""
SUPABASE_PROJECT = """
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN NOINHERIT; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        CREATE ROLE authenticated NOLOGIN NOINHERIT; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS; END IF;
END $$;
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
"""


@pytest.fixture(scope="module")
def supabase_db(databases: Any) -> Iterator[str]:
    """A database prepared as a new Supabase project, then migrated by our migrations."""
    name = "supabase_surface"
    databases.drop(name)
    with psycopg.connect(databases.admin_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    uri = databases.uri(name)
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(SUPABASE_PROJECT)
    apply_migrations(uri)
    with psycopg.connect(uri, autocommit=True) as conn:  # a row in every table, so "no rows" is not vacuous
        conn.execute("INSERT INTO countries (name) VALUES ('Uzbekistan')")
    yield uri
    databases.drop(name)


def project_tables(conn: psycopg.Connection) -> list[tuple[str, str, bool, str]]:
    """(schema, table, row security on, first column) for every table the migrations created."""
    return conn.execute(
        f"""SELECT n.nspname, c.relname, c.relrowsecurity, a.attname
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = 1
             WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%s)
               AND {NOT_EXTENSION.format(catalog='pg_class', oid='c.oid')}
             ORDER BY 1, 2""",
        (list(PROJECT_SCHEMAS),),
    ).fetchall()


def project_functions(conn: psycopg.Connection) -> list[tuple[str, str, list[str], bool]]:
    """(schema, name, argument types, is a trigger function) for every function the migrations created."""
    return conn.execute(
        f"""SELECT n.nspname, p.proname,
                   ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) t),
                   p.prorettype = 'trigger'::regtype
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = ANY(%s) AND {NOT_EXTENSION.format(catalog='pg_proc', oid='p.oid')}
             ORDER BY 1, 2""",
        (list(PROJECT_SCHEMAS),),
    ).fetchall()


def denied(conn: psycopg.Connection, role: str, statement: sql.Composable) -> bool:
    """Run `statement` as `role` inside a savepoint; True when PostgreSQL refused it for privileges."""
    try:
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
            conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def test_every_project_table_has_row_level_security(supabase_db: str) -> None:
    with psycopg.connect(supabase_db) as conn:
        tables = project_tables(conn)
    assert len(tables) > 30
    assert [f"{s}.{t}" for s, t, rls, _ in tables if not rls] == []


@pytest.mark.parametrize("role", API_ROLES)
def test_api_roles_can_neither_read_nor_write_any_table(supabase_db: str, role: str) -> None:
    with psycopg.connect(supabase_db) as conn:
        allowed = []
        for schema, table, _, column in project_tables(conn):
            name, col = sql.Identifier(schema, table), sql.Identifier(column)
            for verb, statement in (
                ("select", sql.SQL("SELECT * FROM {} LIMIT 1").format(name)),
                ("insert", sql.SQL("INSERT INTO {} DEFAULT VALUES").format(name)),
                ("update", sql.SQL("UPDATE {} SET {} = {}").format(name, col, col)),
                ("delete", sql.SQL("DELETE FROM {}").format(name)),
            ):
                if not denied(conn, role, statement):
                    allowed.append(f"{verb} {schema}.{table}")
    assert allowed == []


@pytest.mark.parametrize("role", API_ROLES)
def test_api_roles_can_run_no_project_function_and_use_no_sequence(supabase_db: str, role: str) -> None:
    with psycopg.connect(supabase_db) as conn:
        functions = project_functions(conn)
        assert len(functions) > 20
        runnable = [
            f"{schema}.{name}({', '.join(args)})" for schema, name, args, _ in functions
            if conn.execute("SELECT has_function_privilege(%s, %s, 'EXECUTE')",
                            (role, f"{schema}.{name}({', '.join(args)})")).fetchone()[0]
        ]
        called = [  # what /rest/v1/rpc/<name> would do: call it (trigger functions cannot be called)
            f"{schema}.{name}" for schema, name, args, trigger in functions if not trigger and not denied(
                conn, role, sql.SQL("SELECT {}({})").format(
                    sql.Identifier(schema, name),
                    sql.SQL(", ").join(sql.SQL("NULL::{}").format(sql.SQL(a)) for a in args)))
        ]
        sequences = [r[0] for r in conn.execute(
            """SELECT name FROM (SELECT c.oid, c.oid::regclass::text AS name
                                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                  WHERE c.relkind = 'S' AND n.nspname = ANY(%s) OFFSET 0) s
                WHERE has_sequence_privilege(%s, s.oid, 'USAGE,SELECT,UPDATE')""",
            (list(PROJECT_SCHEMAS), role))]
    assert (runnable, called, sequences) == ([], [], [])


def test_objects_a_later_migration_creates_are_not_granted_to_api_roles(supabase_db: str) -> None:
    """Default privileges changed too: a new table or function in `public` is not exposed either."""
    with psycopg.connect(supabase_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE later_table (id bigint GENERATED ALWAYS AS IDENTITY, note text)")
        conn.execute("CREATE FUNCTION later_function() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        for role in API_ROLES:
            assert denied(conn, role, sql.SQL("SELECT * FROM later_table"))
            assert denied(conn, role, sql.SQL("SELECT later_function()"))
        assert denied(conn, "authenticated", sql.SQL("INSERT INTO later_table (note) VALUES ('x')"))


def test_the_api_still_works_as_owner_on_plain_postgresql(client: Any, database: str) -> None:
    """The embedded default (no Supabase roles in its template) migrates, and the owner sees its rows."""
    with psycopg.connect(database) as conn:
        assert all(rls for _, _, rls, _ in project_tables(conn))
        conn.execute("INSERT INTO countries (name) VALUES ('Kazakhstan')")
        assert conn.execute("SELECT count(*) FROM countries").fetchone()[0] >= 1
