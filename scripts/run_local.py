"""`make run`: the platform on embedded defaults, as one command.

Starts (or reuses) the embedded PostgreSQL, applies migrations, seeds the demo world, then runs
two API workers (`python -m functions`) behind the edge router (`python -m router`) on
HTTP_PORT, prints the URLs and demo logins, and stops the router and workers on Ctrl-C (the embedded database
stays up for the next start; `make db-stop` stops it).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from shared.config import PROJECT_ROOT, get_settings
from shared.db.pool import database_url
from shared.migrate import apply_migrations

WORKER_PORTS = (4101, 4102)
DEMO_PASSWORD = "tridmo-demo-2026"
DEMO_ACCOUNTS = (
    ("admin@tridmo.local", "Demo Administrator", "admin"),
    ("brand@tridmo.local", "Demo Brand Manager", "brand"),
    ("designer@tridmo.local", "Demo Designer", "designer"),
)


async def _seed() -> list[tuple[str, str]]:
    """The catalogue seed when installed (demo brand, models, interiors), else demo accounts only."""
    try:
        from scripts.seed import seed_demo
    except ImportError:
        seed_demo = None
    if seed_demo is not None:
        result = await seed_demo()
        logins = result.get("logins") if isinstance(result, dict) else None
        if logins:
            return [(str(login["email"]), str(login["password"])) for login in logins]
    from shared.auth.bootstrap import ensure_account

    for email, name, role in DEMO_ACCOUNTS:
        await ensure_account(email, DEMO_PASSWORD, name, role)
    return [(email, DEMO_PASSWORD) for email, _, _ in DEMO_ACCOUNTS]


def _wait_healthy(url: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback URL we built)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not become healthy in {timeout_s:.0f}s")


def main() -> int:
    settings = get_settings()
    url = database_url(settings)
    print("database ready, applying migrations...", flush=True)
    apply_migrations(url)
    logins = asyncio.run(_seed())
    env = {**os.environ, "DB_URL": url}
    python = sys.executable
    procs: list[subprocess.Popen] = []
    for port in WORKER_PORTS:
        procs.append(subprocess.Popen([python, "-m", "functions", "--host", "127.0.0.1", "--port", str(port)],
                                      cwd=PROJECT_ROOT, env=env))
    for port in WORKER_PORTS:
        _wait_healthy(f"http://127.0.0.1:{port}/health")
    router_cmd = [python, "-m", "router", "--listen", f"0.0.0.0:{settings.http_port}"]
    for port in WORKER_PORTS:
        router_cmd += ["--upstream", f"http://127.0.0.1:{port}"]
    config = PROJECT_ROOT / "router.local.toml"
    if Path(config).exists():
        router_cmd += ["--config", str(config)]
    procs.append(subprocess.Popen(router_cmd, cwd=PROJECT_ROOT, env=env))
    base = f"http://localhost:{settings.http_port}"
    _wait_healthy(f"{base}/health")
    print(
        "\nTridmo is running (router -> 2 workers, embedded PostgreSQL, local storage)\n"
        f"  API            {base}/api\n"
        f"  health         {base}/health   readiness {base}/api/health/ready\n"
        f"  metrics        {base}/metrics\n"
        f"  router status  {base}/__router/status\n"
        "  demo logins    " + "\n                 ".join(f"{email} / {password}" for email, password in logins) + "\n"
        "Ctrl-C stops the router and the workers; the embedded PostgreSQL stays up for the next start\n"
        "(data under .data/pg; stop it with `make db-stop`).",
        flush=True,
    )
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            if any(p.poll() is not None for p in procs):
                print("a process exited; stopping", file=sys.stderr)
                break
            time.sleep(0.5)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
