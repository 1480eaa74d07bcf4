"""Outlier ejection and slow start, POST safety, hedging."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.support.ports import free_port

pytestmark = pytest.mark.timeout(60)

OUTLIER = """
[health]
interval = 0.2
timeout = 0.3
rise = 1
fall = 1
[outlier]
consecutive_failures = 3
base_ejection = 1.0
max_ejection_percent = 50
[slow_start]
window = 3.0
min_factor = 0.05
"""
RR = '[balancing]\npolicy = "round_robin"\n'  # deterministic spread for counting


async def test_503_upstream_is_ejected_then_recovers_with_slow_start(start_backend, start_router) -> None:
    a, b = start_backend("a"), start_backend("b")
    r = start_router([a.url, b.url], OUTLIER + RR)
    b.get("/fail?on=1&health=0")  # traffic fails, health checks still pass: passive detection only
    async with httpx.AsyncClient(base_url=r.url, timeout=5) as c:
        for _ in range(40):
            resp = await c.get("/hello")
            assert resp.status_code == 200  # GET answered 503 is retried on the other host
        info = r.upstream(b.url)
        assert info["ejections"] >= 1 and info["ejected"]
        assert r.status()["ejections"] >= 1
        b.get("/fail?on=0")
        # wait for the ejection to end, then watch the ramp
        for _ in range(100):
            if not r.upstream(b.url)["ejected"]:
                break
            await asyncio.sleep(0.05)
        info = r.upstream(b.url)
        assert info["available"] and 0 < info["slow_start_factor"] < 1
        early_b = b.stats()["requests"]
        for _ in range(100):
            await c.get("/hello")
        early = b.stats()["requests"] - early_b
        for _ in range(50):
            if r.upstream(b.url)["slow_start_factor"] == 1.0:
                break
            await asyncio.sleep(0.1)
        assert r.upstream(b.url)["slow_start_factor"] == 1.0
        late_b = b.stats()["requests"]
        for _ in range(100):
            await c.get("/hello")
        late = b.stats()["requests"] - late_b
    assert early < late, (early, late)
    assert late > 25


async def test_unhealthy_by_active_check_and_back(start_backend, start_router) -> None:
    a, b = start_backend("a"), start_backend("b")
    r = start_router([a.url, b.url])
    b.get("/fail?on=1")
    await asyncio.sleep(0.8)
    assert not r.upstream(b.url)["healthy"]
    b.get("/fail?on=0")
    await asyncio.sleep(0.8)
    assert r.upstream(b.url)["healthy"]


def _count(log) -> int:
    return sum(1 for line in log.read_text().splitlines() if line.startswith("COUNT"))


def test_post_never_sent_twice_when_upstream_dies(start_backend, start_router) -> None:
    a, b = start_backend("a"), start_backend("b")
    r = start_router([a.url, b.url], OUTLIER + "[retry]\nattempts = 3\n")
    resp = httpx.post(r.url + "/count?die=1", content=b"payload", timeout=10)
    assert resp.status_code == 502 and resp.json()["reason"] == "bad_gateway"
    time.sleep(0.2)
    assert _count(a.log) + _count(b.log) == 1  # received once, by the host that then died
    # a POST that could not connect is retried on another host (nothing was sent): exactly once
    dead = a if a.proc.poll() is not None else b
    alive = b if dead is a else a
    before = _count(alive.log)
    for _ in range(5):
        assert httpx.post(r.url + "/count", content=b"x", timeout=10).status_code == 200
    assert _count(alive.log) - before == 5
    assert _count(dead.log) == 1


async def test_hedged_get_races_a_slow_upstream(start_backend, start_router) -> None:
    slow = start_backend("slow", "--delay-ms", "1500")
    fast = start_backend("fast")
    cfg = OUTLIER + RR + "[retry]\nhedge = true\nper_try_timeout = 0.1\n"
    r = start_router([slow.url, fast.url], cfg)
    async with httpx.AsyncClient(base_url=r.url, timeout=5) as c:
        for _ in range(4):
            t0 = time.monotonic()
            resp = await c.get("/hello")
            assert resp.status_code == 200 and resp.text == "hello from fast"
            assert time.monotonic() - t0 < 0.8
    assert r.status()["hedges"] >= 1


async def test_hedge_slower_than_the_per_try_timeout_still_wins(start_backend, start_router) -> None:
    """The hedge is not cut off by its own per-try timeout while the original still runs: both race
    and the first answer wins. The late host's timeouts count, so balancing and ejection see it."""
    slow = start_backend("slow", "--delay-ms", "1500")
    medium = start_backend("medium", "--delay-ms", "300")
    cfg = OUTLIER + RR + "[retry]\nhedge = true\nper_try_timeout = 0.2\n"
    r = start_router([slow.url, medium.url], cfg)
    async with httpx.AsyncClient(base_url=r.url, timeout=5) as c:
        for _ in range(4):  # round robin: each host goes first twice
            t0 = time.monotonic()
            resp = await c.get("/hello")
            assert resp.status_code == 200 and resp.text == "hello from medium"
            assert time.monotonic() - t0 < 1.0
    assert r.upstream(slow.url)["timeouts"] >= 2


def test_single_upstream_failure_reaches_the_client(start_backend, start_router) -> None:
    """With no other host to retry on, the client gets the upstream's own answer or the router's
    502, not a 503 "no upstream", and no retry is spent."""
    b = start_backend("a")
    b.get("/fail?on=1&health=0")  # 503 for requests, healthy for probes
    r = start_router([b.url], OUTLIER.replace("consecutive_failures = 3", "consecutive_failures = 100"))
    resp = httpx.get(r.url + "/hello", timeout=5)
    assert resp.status_code == 503 and resp.text == "failing" and resp.headers["x-backend"] == "a"
    assert r.status()["retries"] == 0
    dead = start_router([f"http://127.0.0.1:{free_port()}"])  # nothing listens there
    for method in ("GET", "POST"):
        resp = httpx.request(method, dead.url + "/hello", timeout=5)
        assert resp.status_code == 502 and resp.json()["reason"] == "bad_gateway", resp.text


async def test_hedge_goes_on_when_a_racing_try_fails(start_backend, start_router) -> None:
    """A hedge that answers 503 while the slow original still races is dropped, and the next host
    joins the race at once (the original's per-try timer has fired already: nothing else would)."""
    slow = start_backend("slow", "--delay-ms", "8000")
    failing = start_backend("failing")
    failing.get("/fail?on=1&health=0")
    good = start_backend("good")
    cfg = (OUTLIER.replace("consecutive_failures = 3", "consecutive_failures = 100") + RR
           + "[retry]\nhedge = true\nper_try_timeout = 0.3\nattempts = 3\n[timeouts]\nrequest = 5.0\n")
    r = start_router([slow.url, failing.url, good.url], cfg)
    async with httpx.AsyncClient(base_url=r.url, timeout=10) as c:
        for _ in range(3):  # round robin: each host goes first once
            t0 = time.monotonic()
            resp = await c.get("/hello")
            assert resp.status_code == 200 and resp.text == "hello from good"
            assert time.monotonic() - t0 < 2.0
