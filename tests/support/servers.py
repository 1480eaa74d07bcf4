"""Real `python -m functions` worker processes for tests that need more than one instance."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_api(port: int, db_url: str, **env: str) -> subprocess.Popen[bytes]:
    """One worker on 127.0.0.1:`port` against `db_url`, returned once `/health` answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "functions", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
        env={**os.environ, "DB_URL": db_url, "LOG_LEVEL": "WARNING", **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):  # noqa: S310 - loopback
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((proc.stderr.read() if proc.stderr else b"").decode()[-2000:]) from None
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"worker on :{port} did not start")


def stop(*procs: subprocess.Popen[bytes]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
