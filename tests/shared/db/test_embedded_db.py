"""`make db-stop`: the embedded PostgreSQL that `make run` leaves up for the next start can be stopped."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest

from shared.db.embedded import start_embedded, stop_embedded


def test_stop_embedded_stops_the_server_and_only_once(tmp_path: Path) -> None:
    uri = start_embedded(tmp_path)
    with psycopg.connect(uri) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)

    assert stop_embedded(tmp_path) is True
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(uri, connect_timeout=2)
    assert stop_embedded(tmp_path) is False  # nothing left to stop


def test_a_stale_pid_file_signals_nothing(tmp_path: Path) -> None:
    """After a crash the pid file stays behind, and its pid may belong to another process by now."""
    bystander = subprocess.Popen(["sleep", "30"])
    try:
        pgdata = tmp_path / "pg"
        pgdata.mkdir()
        (pgdata / "postmaster.pid").write_text(f"{bystander.pid}\n{pgdata}\n")
        assert stop_embedded(tmp_path) is False
        assert bystander.poll() is None  # still running: it was not signalled
    finally:
        bystander.kill()
        bystander.wait()
