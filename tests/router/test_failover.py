"""Failover under load with real processes: SIGKILL one backend, later SIGSTOP another."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import httpx
import pytest

pytestmark = pytest.mark.timeout(60)

CONFIG = """
[health]
interval = 0.2
timeout = 0.3
rise = 1
fall = 1
[retry]
attempts = 3
per_try_timeout = 0.5
# one retry in flight per client at most (no hedging): with the budget at the client count, every
# try stuck on the frozen host may be retried. At 10, all 12 clients stuck there at once (their
# per-try timeouts expire in the same sweep) had 2 retries refused, and 504s (~1 run in 7).
budget_min = 12
[outlier]
consecutive_failures = 3
base_ejection = 1.0
panic_threshold = 30
[log]
sample = 0.1
"""


async def _load(url: str, stop: float, results: list[int], errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=5) as c:
        while time.monotonic() < stop:
            try:
                r = await c.get("/hello")
                results.append(r.status_code)
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:200]}")
            except httpx.HTTPError as exc:
                errors.append(repr(exc))


async def test_sigkill_then_sigstop_no_failed_get(start_backend, start_router) -> None:
    backends = [start_backend(n) for n in ("a", "b", "c")]
    r = start_router([b.url for b in backends], CONFIG)
    results: list[int] = []
    errors: list[str] = []
    t0 = time.monotonic()
    stop = t0 + 5.0
    load = asyncio.gather(*[_load(r.url, stop, results, errors) for _ in range(12)])
    await asyncio.sleep(1.2)
    backends[0].proc.send_signal(signal.SIGKILL)
    await asyncio.sleep(1.5)
    os.kill(backends[1].proc.pid, signal.SIGSTOP)
    await load
    os.kill(backends[1].proc.pid, signal.SIGCONT)
    st = r.status()
    assert not errors, (errors[:5], st["retry_budget"])
    assert len(results) > 50  # load really ran across both failures (hundreds when the machine is idle)
    assert r.alive()
    ups = {u["url"]: u for p in st["pools"] for u in p["upstreams"]}
    assert ups[backends[2].url]["available"]
    assert not ups[backends[0].url]["healthy"]


async def test_workers_share_port_and_survive_kill(start_backend, start_router) -> None:
    backends = [start_backend(n) for n in ("a", "b")]
    r = start_router([b.url for b in backends], CONFIG, workers=2)
    results: list[int] = []
    errors: list[str] = []
    stop = time.monotonic() + 2.5
    load = asyncio.gather(*[_load(r.url, stop, results, errors) for _ in range(6)])
    await asyncio.sleep(1.0)
    backends[0].proc.send_signal(signal.SIGKILL)
    await load
    assert not errors, errors[:5]
    pids = set()
    for _ in range(30):
        async with httpx.AsyncClient() as c:  # a new connection each time: lands on either worker
            pids.add((await c.get(r.url + "/__router/status?format=json")).json()["pid"])
    assert len(pids) == 2  # SO_REUSEPORT spread connections over both workers
    r.proc.send_signal(signal.SIGTERM)
    assert r.proc.wait(timeout=10) == 0


async def test_respawned_worker_runs_the_reloaded_config(start_backend, start_router) -> None:
    """With --workers, a worker that dies after a reload comes back with the reloaded file, and
    without runtime changes the reload ended."""
    a, b, c = start_backend("a"), start_backend("b"), start_backend("c")
    pools = '[[pools]]\nname = "p"\nupstreams = ["{}"]\n'
    r = start_router([], pools.format(a.url), workers=2)
    async with httpx.AsyncClient(base_url=r.url) as client:
        assert (await client.post("/__router/admin/upstreams", json={"url": c.url})).status_code == 200
    assert r.config is not None
    r.config.write_text(pools.format(b.url))
    r.proc.send_signal(signal.SIGHUP)

    async def upstreams_by_worker() -> dict[int, list[str]]:
        seen: dict[int, list[str]] = {}
        for _ in range(40):
            async with httpx.AsyncClient() as client:  # a new connection each: either worker
                st = (await client.get(r.url + "/__router/status?format=json")).json()
            seen[st["pid"]] = sorted(u["url"] + (" draining" if u["draining"] else "")
                                     for p in st["pools"] for u in p["upstreams"])
        return seen

    deadline = time.monotonic() + 5
    while set(map(tuple, (await upstreams_by_worker()).values())) != {(b.url,)}:
        assert time.monotonic() < deadline, "workers did not reload"
        await asyncio.sleep(0.1)
    killed = next(iter(await upstreams_by_worker()))
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while True:
        seen = await upstreams_by_worker()
        if killed not in seen and len(seen) == 2:
            break
        assert time.monotonic() < deadline, f"no worker respawned: {seen}"
        await asyncio.sleep(0.2)
    assert set(map(tuple, seen.values())) == {(b.url,)}, seen  # the new worker too, and without c
    # a reload of a broken file changes nothing, and runtime changes still reach every worker
    async with httpx.AsyncClient(base_url=r.url) as client:
        assert (await client.post("/__router/admin/weight", json={"url": b.url, "weight": 2})).status_code == 200
        r.config.write_text("[[pools]\n")  # not TOML
        r.proc.send_signal(signal.SIGHUP)
        await asyncio.sleep(0.5)
        assert (await client.post("/__router/admin/drain", json={"url": b.url})).status_code == 200
    deadline = time.monotonic() + 5
    while set(map(tuple, (seen := await upstreams_by_worker()).values())) != {(b.url + " draining",)}:
        assert time.monotonic() < deadline, f"the drain did not reach every worker: {seen}"
        await asyncio.sleep(0.2)
