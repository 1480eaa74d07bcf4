"""The API's rate limiter on against off: `GET /api/models` throughput, and DB statements it adds.

    .venv/bin/python bench/api_limits.py [--models 100000] [--duration 8] [--rounds 2]

Same set-up as bench/api.py (one uvicorn worker, 16 keep-alive clients, the seeded catalogue
under DATA_DIR); one worker with `RATE_LIMIT_ENABLED=false`, then one with the limiter on and a
read limit the load stays far under (6,000,000 a minute), alternated `--rounds` times (this machine is
shared: the median of each side is compared). The statements the limiter made are read from
PostgreSQL's counters of the `rate_limits` table (rows inserted or updated), per request served.
Target: on/off ≥ 0.95, and 0 statements on the fast path (one per lease, not per request).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import api  # bench/api.py: bench/ is first on sys.path when this file runs as a script
import psycopg

READ_LIMIT = 6_000_000  # far above what one worker serves: the fast path is what is measured
PATH = "/api/models?limit=16"


def limiter_writes(db_url: str) -> int:
    time.sleep(1.5)  # cumulative statistics are flushed about once a second
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT coalesce(n_tup_ins + n_tup_upd, 0) FROM pg_stat_user_tables WHERE relname = 'rate_limits'"
        ).fetchone()
    return int(row[0]) if row else 0


def measure(db_url: str, duration: float, concurrency: int, **env: str) -> tuple[dict[str, float], int]:
    port = api.free_port()
    server = api.start_server(port, db_url, **env)
    base = f"http://127.0.0.1:{port}"
    try:
        api.get_json(base + PATH)  # warm: plans, caches, pool
        before = limiter_writes(db_url)
        result = api.http_load(base, PATH, duration, concurrency)
        return result, limiter_writes(db_url) - before
    finally:
        server.terminate()
        server.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from shared.config import get_settings
    from shared.db.pool import database_url
    from shared.migrate import apply_migrations

    db_url = database_url(get_settings())
    apply_migrations(db_url)
    asyncio.run(api.seed(args.models))
    sides: dict[str, list[float]] = {"off": [], "on": []}
    statements, served = 0, 0
    for _ in range(args.rounds):
        off, _ = measure(db_url, args.duration, args.concurrency, RATE_LIMIT_ENABLED="false")
        on, writes = measure(db_url, args.duration, args.concurrency, RATE_LIMIT_ENABLED="true",
                             RATE_LIMIT_READ_PER_MIN=str(READ_LIMIT))
        sides["off"].append(off["rps"])
        sides["on"].append(on["rps"])
        statements += writes
        served += int(on["rps"] * args.duration)
        print(f"  round: off {off['rps']:.0f} req/s (p99 {off['p99']:.1f} ms), "
              f"on {on['rps']:.0f} req/s (p99 {on['p99']:.1f} ms), limiter statements {writes}", flush=True)
    off_rps, on_rps = statistics.median(sides["off"]), statistics.median(sides["on"])
    print(f"\nGET {PATH}, concurrency {args.concurrency}, {args.duration:.0f}s x {args.rounds} rounds, one worker")
    print(f"limiter off {off_rps:.0f} req/s, on {on_rps:.0f} req/s: on/off {on_rps / off_rps:.3f} (target >= 0.95)")
    print(f"limiter statements per request: {statements / max(served, 1):.5f} ({statements} for ~{served} requests; "
          f"a lease covers {READ_LIMIT // 20} requests)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
