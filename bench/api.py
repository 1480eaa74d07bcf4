"""Benchmark: `GET /api/models` through one uvicorn worker vs the same SQL straight through psycopg.

    .venv/bin/python bench/api.py [--models 100000] [--duration 8] [--concurrency 16]

Seeds N models into an embedded PostgreSQL under `.data/bench-pg` (DATA_DIR; reused on the next run),
starts `python -m functions --port P` as a subprocess (one worker), and for every scenario measures
req/s and p50/p99 at the given concurrency: over HTTP with wrk (keep-alive, `--latency`), or a small
asyncio client when wrk is missing; then the statement(s) the API runs for that request, executed
directly by the driver with the same concurrency (the limit the API could reach).

Scenarios are `(name, path)` pairs; `{placeholders}` are filled from `context()` (a deep cursor, a
category id, ...). Other groups add theirs to SCENARIOS (or pass `--only NAME`); a scenario whose path
does not start with /api/models runs over HTTP only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", str(ROOT / ".data" / "bench-pg"))
os.environ.setdefault("LOG_LEVEL", "WARNING")

DEEP_PAGE = 3000  # rows 47,985 .. 48,000 of 100,000 with limit 16

SCENARIOS: list[tuple[str, str]] = [
    ("first page", "/api/models?limit=16"),
    ("deep page by offset", f"/api/models?limit=16&page={DEEP_PAGE}"),
    ("deep page by cursor", "/api/models?limit=16&cursor={deep_cursor}"),
    ("filtered", "/api/models?limit=16&categories=[{category}]&styles=[{style}]&orderBy=views"),
]
# Community (needs `python -m scripts.seed.community --designers 200 --interiors 20000` on the same DATA_DIR;
# statistics need an admin token, so GET /api/statistics/models is measured by bench/api_community.py).
SCENARIOS += [
    ("interiors list", "/api/interiors?limit=16"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def start_server(port: int, db_url: str, **extra_env: str) -> subprocess.Popen:
    """One `python -m functions` worker on `port`, returned once /health answers."""
    # one client address sends everything: read/write limits far above the load (the limiter still runs)
    env = {**os.environ, "DB_URL": db_url, "DB_POOL_MAX": "16", "DB_POOL_MIN": "16", "LOG_LEVEL": "WARNING",
           "RATE_LIMIT_READ_PER_MIN": "100000000", "RATE_LIMIT_WRITE_PER_MIN": "100000000",
           **extra_env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "functions", "--port", str(port)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            get_json(f"http://127.0.0.1:{port}/health")
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(proc.stderr.read().decode() if proc.stderr else "server exited") from None
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def context(base: str) -> dict[str, str]:
    """Values the scenario paths need, read through the API itself."""
    previous = get_json(f"{base}/api/models?limit=16&page={DEEP_PAGE - 1}")
    cursor = previous["data"]["pagination"]["next_cursor"]
    categories = get_json(f"{base}/api/categories?type=model")["data"]
    child = next(c for c in categories if c["parent_id"] is not None)
    style = get_json(f"{base}/api/styles?type=1")["data"][0]
    return {"deep_cursor": cursor, "category": str(child["id"]), "style": str(style["id"])}


# HTTP load ------------------------------------------------------------------------------------------
_WRK_LAT = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def http_wrk(
    url: str, duration: float, concurrency: int, headers: dict[str, str] | None = None, threads: int = 1
) -> dict[str, float]:
    args = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(duration))}s", "--latency"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    lat = {m.group(1): float(m.group(2)) * _UNITS[m.group(3)] for m in _WRK_LAT.finditer(out)}
    if "Non-2xx" in out:
        raise SystemExit(f"non-2xx answers from {url}:\n{out}")
    return {"rps": float(_WRK_RPS.search(out).group(1)), "p50": lat["50"], "p99": lat["99"]}


async def _http_asyncio(host: str, port: int, path: str, duration: float, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n".encode()
    stop = time.perf_counter() + duration

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - t0) * 1000)
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return summarise(latencies, time.perf_counter() - t0)


def summarise(latencies: list[float], elapsed: float) -> dict[str, float]:
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed, "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def http_load(base: str, path: str, duration: float, concurrency: int) -> dict[str, float]:
    if shutil.which("wrk"):
        return http_wrk(base + path, duration, concurrency)
    host, port = base.removeprefix("http://").split(":")
    return asyncio.run(_http_asyncio(host, int(port), path, duration, concurrency))


# Raw SQL load ---------------------------------------------------------------------------------------
def api_statement(path: str) -> tuple[str, dict[str, Any]]:
    """The statement the list route runs for `path` (built by the same code)."""
    from urllib.parse import urlsplit

    from starlette.requests import Request

    from functions.models.inputs import list_filters
    from functions.models.queries import lists as ml
    from shared.http.pagination import page_request

    parts = urlsplit(path)
    request = Request({"type": "http", "method": "GET", "path": parts.path, "query_string": parts.query.encode(),
                       "headers": []})
    filters = ml.model_filters(list_filters(request.query_params))
    # what the API runs once its process has the big total cached (see functions/models/listing.py)
    page = page_request(request, ml.ORDER_COLUMNS)
    query = ml.list_models_query(filters, page, with_count=counted_in_statement(filters))
    return query.sql, query.params


def counted_in_statement(filters: Any) -> bool:
    """Whether the API's statement counts: only while the total is within COUNT_CAP (else it is cached)."""
    import psycopg

    from functions.models.queries import lists as ml
    from shared.db.pool import database_url

    with psycopg.connect(database_url()) as conn:
        sql = f"SELECT count(*) FROM (SELECT 1 FROM models m WHERE {filters.sql} LIMIT %(cap)s) x"
        total = conn.execute(sql, {**filters.params, "cap": ml.COUNT_CAP + 1}).fetchone()[0]
    return total <= ml.COUNT_CAP


async def _sql_load(db_url: str, sql: str, params: dict[str, Any], duration: float, concurrency: int) -> dict:
    import psycopg
    from psycopg.rows import dict_row

    from shared.config import get_settings
    from shared.db.pool import connection_kwargs

    kwargs = connection_kwargs(get_settings())
    conns = [await psycopg.AsyncConnection.connect(db_url, **{**kwargs, "row_factory": dict_row})
             for _ in range(concurrency)]
    latencies: list[float] = []
    stop = time.perf_counter() + duration

    async def worker(conn: Any) -> None:
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            cur = await conn.execute(sql, params)
            await cur.fetchall()
            latencies.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - t0
    for conn in conns:
        await conn.close()
    return summarise(latencies, elapsed)


# Main -----------------------------------------------------------------------------------------------
async def seed(models: int) -> None:
    from scripts.seed.bulk import seed_models
    from shared.db.pool import close_pools

    try:
        result = await seed_models(models)
    finally:
        await close_pools()
    print(f"seed: {result.get('existing', 0)} models were there, {result['models']} added", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--only", action="append", help="run only scenarios with this name (repeatable)")
    args = parser.parse_args()

    from shared.config import get_settings
    from shared.db.pool import database_url
    from shared.migrate import apply_migrations

    db_url = database_url(get_settings())
    apply_migrations(db_url)
    asyncio.run(seed(args.models))

    port = free_port()
    server = start_server(port, db_url)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        values = context(base)
        for name, template in SCENARIOS:
            if args.only and name not in args.only:
                continue
            path = template.format(**values)
            get_json(base + path)  # warm: plans, caches, pool
            api = http_load(base, path, args.duration, args.concurrency)
            raw = None
            if path.startswith("/api/models?"):
                sql, params = api_statement(path)
                raw = asyncio.run(_sql_load(db_url, sql, params, args.duration, args.concurrency))
            rows.append((name, path, api, raw))
            print(f"  done: {name}", flush=True)
    finally:
        server.terminate()
        server.wait(10)

    print(f"\nGET /api/models, {args.models:,} models, concurrency {args.concurrency}, {args.duration:.0f}s each, "
          f"one uvicorn worker, {os.cpu_count()} CPUs")
    print(f"{'scenario':<22} {'API req/s':>10} {'p50 ms':>8} {'p99 ms':>8} | {'SQL q/s':>9} {'p50 ms':>8} "
          f"{'p99 ms':>8} | {'API/SQL':>7}")
    for name, _path, api, raw in rows:
        line = f"{name:<22} {api['rps']:>10.0f} {api['p50']:>8.2f} {api['p99']:>8.2f} |"
        if raw:
            line += f" {raw['rps']:>9.0f} {raw['p50']:>8.2f} {raw['p99']:>8.2f} | {api['rps'] / raw['rps']:>7.2f}"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
