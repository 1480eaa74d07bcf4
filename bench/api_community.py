"""Benchmark: community reads through one uvicorn worker, on the seeded data set.

    .venv/bin/python bench/api_community.py [--duration 8] [--concurrency 16] [--interiors 20000]

Uses the embedded PostgreSQL under `.data/bench-pg` (DATA_DIR), the same one `bench/api.py` seeds with
100,000 models; adds the community seed (`scripts/seed/community.py`: 200 designers, 20,000
interiors, pins, likes, 100,000 downloads over a year) when it is missing. Starts
`python -m functions` as one worker, signs up an account and promotes it to admin (statistics need
one), then measures each scenario with wrk (`-H` for the token): req/s, p50, p99.

The statistics route caches each answer for STATS_CACHE_TTL_S (10 s) per process; it is measured
both ways: with the cache (what a dashboard poll costs) and with STATS_CACHE_TTL_S=0 (every request
runs the SQL).

Server start-up and the wrk runner are bench/api.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.api import free_port, http_wrk, start_server  # noqa: E402  (needs ROOT on sys.path)

os.environ.setdefault("DATA_DIR", str(ROOT / ".data" / "bench-pg"))
os.environ.setdefault("LOG_LEVEL", "WARNING")

SCENARIOS: list[tuple[str, str, str | None]] = [  # (name, path, token: None, "admin" or "user")
    ("interiors first page", "/api/interiors?limit=16", None),
    ("interiors by likes", "/api/interiors?limit=16&orderBy=likes", None),
    ("interiors deep cursor", "/api/interiors?limit=16&cursor={deep_cursor}", None),
    ("interiors signed-in", "/api/interiors?limit=16", "user"),
    ("interiors signed-in by likes", "/api/interiors?limit=16&orderBy=likes", "user"),
    ("interiors signed-in asc views", "/api/interiors?limit=16&orderBy=views&order=asc", "user"),
    ("interiors admin", "/api/interiors?limit=16", "admin"),
    ("interiors admin by saves", "/api/interiors?limit=16&orderBy=saves", "admin"),
    ("interior detail", "/api/interiors/{slug}", None),
    ("statistics/models", "/api/statistics/models", "admin"),
]


def call(url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={  # noqa: S310 - loopback
        "content-type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def admin_token(base: str, db_url: str) -> str:
    import psycopg

    email = f"bench-admin-{uuid.uuid4().hex[:8]}@example.com"
    signup = call(f"{base}/api/auth/signup", "POST",
                  {"full_name": "Bench Admin", "email": email, "password": "bench-password-1"})
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("UPDATE profiles SET role_id = 1 WHERE id = %s", (signup["data"]["user"]["id"],))
    return signup["data"]["token"]["accessToken"]


def author_token(base: str, db_url: str) -> tuple[str, str]:
    """A signed-in non-admin with 30 pending and 10 rejected interiors of their own (the signed-in list
    shows them merged with the approved ones). Returns (token, user id); `drop_author` removes the rows."""
    import psycopg

    email = f"bench-author-{uuid.uuid4().hex[:8]}@example.com"
    signup = call(f"{base}/api/auth/signup", "POST",
                  {"full_name": "Bench Author", "email": email, "password": "bench-password-1"})
    user_id = signup["data"]["user"]["id"]
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO interiors (slug, name, author_id, status, views_count, likes_count, saves_count, created_at)"
            " SELECT 'bench-own-' || %s || '-' || g, 'Bench own ' || g, %s, CASE WHEN g <= 30 THEN 0 ELSE 2 END,"
            " g * 7, g %% 5, g %% 3, now() - g * interval '1 hour' FROM generate_series(1, 40) g",
            (uuid.uuid4().hex[:8], user_id),
        )
    return signup["data"]["token"]["accessToken"], user_id


def drop_author(db_url: str, user_id: str) -> None:
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DELETE FROM interiors WHERE author_id = %s", (user_id,))


def context(base: str) -> dict[str, str]:
    page = call(f"{base}/api/interiors?limit=16&page=900")["data"]
    cursor = page["pagination"]["next_cursor"]
    return {"deep_cursor": cursor, "slug": page["interiors"][0]["slug"]}


async def seed(interiors: int) -> None:
    from scripts.seed.community import seed_community
    from shared.db.pool import close_pools

    try:
        await seed_community(designers=200, interiors=interiors)
    finally:
        await close_pools()


def run_scenarios(base: str, tokens: dict[str, str], names: list[str], duration: float, concurrency: int,
                  values: dict[str, str]) -> list[tuple[str, dict[str, float]]]:
    out = []
    for name, template, token in SCENARIOS:
        if name not in names:
            continue
        path = template.format(**values)
        headers = {"Authorization": f"Bearer {tokens[token]}"} if token else {}
        call(base + path, headers=headers)  # warm: plans, caches, pool
        out.append((name, http_wrk(base + path, duration, concurrency, headers, threads=2)))
        print(f"  done: {name}", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interiors", type=int, default=20_000)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--only", default="", help="run only scenarios whose name contains this text")
    args = parser.parse_args()

    from shared.config import get_settings
    from shared.db.pool import database_url
    from shared.migrate import apply_migrations

    db_url = database_url(get_settings())
    apply_migrations(db_url)
    asyncio.run(seed(args.interiors))
    with __import__("psycopg").connect(db_url, autocommit=True) as conn:
        counts = conn.execute("SELECT (SELECT count(*) FROM models), (SELECT count(*) FROM interiors),"
                              " (SELECT count(*) FROM downloads)").fetchone()

    rows: list[tuple[str, dict[str, float]]] = []
    for label, env, names in (
        ("", {}, [s[0] for s in SCENARIOS]),
        (" (no cache)", {"STATS_CACHE_TTL_S": "0"}, ["statistics/models"]),
    ):
        names = [n for n in names if args.only in n]
        if not names:
            continue
        port = free_port()
        server = start_server(port, db_url, **env)
        base = f"http://127.0.0.1:{port}"
        author_id = None
        try:
            tokens = {"admin": admin_token(base, db_url)}
            if any(token == "user" for name, _, token in SCENARIOS if name in names):
                tokens["user"], author_id = author_token(base, db_url)
            values = context(base)
            rows += [(name + label, r) for name, r in
                     run_scenarios(base, tokens, names, args.duration, args.concurrency, values)]
        finally:
            if author_id:
                drop_author(db_url, author_id)
            server.terminate()
            server.wait(10)

    print(f"\n{counts[0]:,} models, {counts[1]:,} interiors, {counts[2]:,} downloads; concurrency "
          f"{args.concurrency}, {args.duration:.0f}s each, one uvicorn worker, {os.cpu_count()} CPUs")
    print(f"{'scenario':<32} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, r in rows:
        print(f"{name:<32} {r['rps']:>8.0f} {r['p50']:>8.2f} {r['p99']:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
