"""Unit tests: selection policies, priorities/panic, retry rules and budget, config parsing, limits."""

from __future__ import annotations

import time
import tomllib
from collections import Counter

import pytest

from router.config import ConfigError, build_config
from router.headers import RequestIds, sane_request_id
from router.limits import RateLimiter
from router.outlier import OutlierDetector
from router.policies import ConsistentHash, P2CEwma, WeightedRoundRobin
from router.pools import Balancer
from router.retry import RetryBudget, backoff, is_idempotent, may_retry
from router.upstream import Upstream

pytestmark = pytest.mark.timeout(20)


def ups(n: int, prio: int = 0) -> list[Upstream]:
    return [Upstream(f"http://127.0.0.1:{5000 + i + 100 * prio}", "127.0.0.1", 5000 + i, 1.0, "p", prio)
            for i in range(n)]


def test_p2c_prefers_less_loaded_and_faster() -> None:
    a, b = ups(2)
    a.ewma, b.ewma = 0.001, 0.001
    a.inflight, b.inflight = 10, 0
    pol = P2CEwma()
    assert all(pol.choose([a, b], [1.0, 1.0], None, 0.0) is b for _ in range(50))
    a.inflight = b.inflight = 0
    a.ewma, b.ewma = 0.010, 0.001
    assert all(pol.choose([a, b], [1.0, 1.0], None, 0.0) is b for _ in range(50))
    # weights scale the score: a 20x weight beats a 10x latency handicap
    assert all(pol.choose([a, b], [20.0, 1.0], None, 0.0) is a for _ in range(50))


def test_p2c_spreads_over_many_hosts() -> None:
    hosts = ups(5)
    for h in hosts:
        h.ewma = 0.001
    pol = P2CEwma()
    seen = Counter(pol.choose(hosts, [1.0] * 5, None, 0.0).url for _ in range(2000))
    assert len(seen) == 5


def test_p2c_samples_every_pair_equally() -> None:
    """Hosts ranked by latency: each pick is the better of a uniformly drawn pair, so host k of
    5 wins the 4 - k pairs with a worse host, out of 10, and the worst never wins."""
    hosts = ups(5)
    for k, h in enumerate(hosts):
        h.ewma = 0.001 * (k + 1)
    pol = P2CEwma()
    draws = 20000
    seen = Counter(pol.choose(hosts, [1.0] * 5, None, 0.0).url for _ in range(draws))
    for k, h in enumerate(hosts):
        assert abs(seen[h.url] / draws - (4 - k) / 10) < 0.02, (k, seen)


def test_p2c_tries_again_a_host_whose_latency_is_old() -> None:
    """One slow answer must not idle a host for good: it gets no new sample while it loses every
    comparison, so its old latency decays (time constant ``decay``) until it wins one again."""
    fast, slow = ups(2)
    fast.ewma, slow.ewma = 0.0001, 0.004  # a cold first answer, 40x a warm one
    pol = P2CEwma(decay=10.0)
    fast.ewma_stamp = slow.ewma_stamp = 0.0
    assert all(pol.choose([fast, slow], [1.0, 1.0], None, 0.0) is fast for _ in range(50))
    fast.ewma_stamp = 60.0  # fast is busy and measured all the time; slow last answered 60 s ago
    assert pol.choose([fast, slow], [1.0, 1.0], None, 60.0) is slow
    slow.observe_latency(0.0001, 60.0, 10.0)  # the new sample replaces most of the old one
    assert slow.ewma < 0.0002


def test_weighted_round_robin_follows_weights_smoothly() -> None:
    a, b, c = ups(3)
    pol = WeightedRoundRobin()
    picks = [pol.choose([a, b, c], [5.0, 1.0, 1.0], None, 0.0).url for _ in range(70)]
    counts = Counter(picks)
    assert counts[a.url] == 50 and counts[b.url] == 10 and counts[c.url] == 10
    assert "".join("a" if p == a.url else "x" for p in picks[:7]).count("aaaaaa") == 0  # interleaved


def test_consistent_hash_is_sticky_and_moves_few_keys() -> None:
    hosts = ups(4)
    pol = ConsistentHash()
    keys = [f"user-{i}".encode() for i in range(2000)]
    before = {k: pol.choose(hosts, [1.0] * 4, k, 0.0).url for k in keys}
    assert before == {k: pol.choose(hosts, [1.0] * 4, k, 0.0).url for k in keys}
    assert len(set(before.values())) == 4
    after = {k: pol.choose(hosts[:3], [1.0] * 3, k, 0.0).url for k in keys}
    moved = sum(1 for k in keys if before[k] != after[k])
    gone = sum(1 for k in keys if before[k] == hosts[3].url)
    assert moved == gone  # only keys of the removed host move


def test_consistent_hash_follows_a_lowered_weight() -> None:
    hosts = ups(3)
    pol = ConsistentHash()
    keys = [f"user-{i}".encode() for i in range(3000)]
    hosts[0].weight = 2.0
    share = sum(pol.choose(hosts, [1.0] * 3, k, 0.0) is hosts[0] for k in keys) / len(keys)
    assert 0.4 < share < 0.6  # 2 of 4 weight units
    hosts[0].weight = 0.1
    share = sum(pol.choose(hosts, [1.0] * 3, k, 0.0) is hosts[0] for k in keys) / len(keys)
    assert share < 0.1  # 0.1 of 2.1: its old, heavier points are gone from the ring


def _balancer(text: str) -> Balancer:
    cfg = build_config(tomllib.loads(text))
    b = Balancer(cfg)
    b.configure(cfg, {})
    return b


PRIO = """
[outlier]
panic_threshold = 50
[[pools]]
name = "primary"
priority = 0
upstreams = ["http://127.0.0.1:5001", "http://127.0.0.1:5002", "http://127.0.0.1:5003", "http://127.0.0.1:5004",
             "http://127.0.0.1:5005"]
[[pools]]
name = "backup"
priority = 1
upstreams = ["http://127.0.0.1:6001", "http://127.0.0.1:6002"]
"""


def test_priority_spillover_is_gradual_and_returns() -> None:
    b = _balancer(PRIO)
    now = time.monotonic()
    assert b.priority_loads(now) == [1.0, 0.0]
    prim = [u for u in b.upstreams.values() if u.priority == 0]
    prim[0].active_healthy = False  # 80% healthy x 1.4 overprovisioning >= 100%: no spill
    b._loads_at = 0
    assert b.priority_loads(now) == [1.0, 0.0]
    prim[1].active_healthy = prim[2].active_healthy = False  # 40% x 1.4 = 56%
    b._loads_at = 0
    loads = b.priority_loads(now)
    assert loads[0] == pytest.approx(0.56) and loads[1] == pytest.approx(0.44)
    picks = Counter(b.select(None, None, 100).priority for _ in range(3000))
    assert 0.45 < picks[0] / 3000 < 0.67
    for u in prim:
        u.active_healthy = True
    b._loads_at = 0
    assert b.priority_loads(time.monotonic()) == [1.0, 0.0]


def test_panic_mode_uses_all_hosts() -> None:
    b = _balancer(PRIO.replace('priority = 1', 'priority = 0'))
    hosts = list(b.upstreams.values())
    for u in hosts[:5]:
        u.active_healthy = False  # 2 of 7 healthy < 50%: panic
    chosen = {b.select(None, None, 100).url for _ in range(500)}
    assert len(chosen) == 7
    hosts[0].active_healthy = hosts[1].active_healthy = True  # 4 of 7 healthy: no panic
    chosen = {b.select(None, None, 100).url for _ in range(500)}
    assert chosen == {u.url for u in hosts if u.active_healthy}


def test_retry_excludes_tried_hosts_and_skips_draining() -> None:
    b = _balancer(PRIO)
    hosts = [u for u in b.upstreams.values() if u.priority == 0]
    hosts[0].draining = True
    for _ in range(200):
        u = b.select(None, hosts[1:3], 100)
        assert u not in hosts[:3]


def test_outlier_ejection_grows_and_is_capped_by_share() -> None:
    hosts = ups(4)
    from router.config import OutlierCfg

    det = OutlierDetector(OutlierCfg(consecutive_failures=2, base_ejection=1.0, max_ejection_percent=50),
                          lambda u: hosts, lambda u: None)
    now = 100.0
    assert not det.failure(hosts[0], now)
    assert det.failure(hosts[0], now)
    assert hosts[0].ejected_until == pytest.approx(101.0)
    det.failure(hosts[0], 102.0)
    assert det.failure(hosts[0], 102.0)
    assert hosts[0].ejected_until == pytest.approx(104.0)  # second ejection lasts twice as long
    det.failure(hosts[1], 102.0)
    assert det.failure(hosts[1], 102.0)  # 2 of 4 = 50%: allowed
    det.failure(hosts[2], 102.0)
    assert not det.failure(hosts[2], 102.0)  # a third would exceed 50%
    det.success(hosts[3])
    assert hosts[3].consecutive_failures == 0
    # long after, an ejection starts again from the base time; the all-time count goes on
    det.failure(hosts[0], 5000.0)
    assert det.failure(hosts[0], 5000.0)
    assert hosts[0].ejected_until == pytest.approx(5001.0)
    assert hosts[0].ejections == 3  # router_upstream_ejections_total is a counter: it never goes down


def test_slow_start_factor_ramps() -> None:
    (u,) = ups(1)
    u.slow_start_at = 10.0
    assert u.slow_start_factor(10.0, 10.0, 0.1) == 0.1
    assert u.slow_start_factor(15.0, 10.0, 0.1) == pytest.approx(0.5)
    assert u.slow_start_factor(21.0, 10.0, 0.1) == 1.0


def test_retry_rules() -> None:
    assert is_idempotent(b"GET", False) and is_idempotent(b"DELETE", False) and is_idempotent(b"POST", True)
    assert not is_idempotent(b"POST", False) and not is_idempotent(b"PATCH", False)
    assert may_retry("connect", False, True)  # nothing was sent
    assert not may_retry("reset", False, True)  # a POST that may have been received
    assert may_retry("reset", True, True) and may_retry("timeout", True, True) and may_retry("5xx", True, True)
    assert not may_retry("reset", True, False)  # body too big to replay
    assert not may_retry("protocol", True, True)
    for n in range(1, 6):
        assert 0 <= backoff(n, 0.025, 0.25) <= min(0.25, 0.025 * 2 ** (n - 1))


def test_retry_budget() -> None:
    b = RetryBudget(0.2, 3)
    assert [b.acquire() for _ in range(4)] == [True, True, True, False]
    b.active = 100
    assert b.limit() == 20
    assert sum(b.acquire() for _ in range(30)) == 17
    b.release(20)
    assert b.retrying == 0 and b.denied == 14
    b.active = 16  # a limit of 3.2 allows 3 retries in flight, not 4
    assert [b.acquire() for _ in range(4)] == [True, True, True, False]


def test_rate_limiter() -> None:
    rl = RateLimiter(rate=10, burst=3)
    assert [rl.check("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = rl.check("a", 0.0)
    assert wait == pytest.approx(0.1)
    assert rl.check("a", 0.1) == 0.0
    assert rl.check("b", 0.0) == 0.0  # independent per client


def test_request_ids_stay_unique_when_the_low_byte_rolls_over() -> None:
    """Ids formatted in two parts (high digits once per 256): unique, increasing, well formed."""
    start = 2**32 - 300  # the low byte rolls over three times below
    ids = RequestIds(start)
    got = [ids.next() for _ in range(600)]
    assert len(set(got)) == 600 and got == sorted(got)
    assert all(len(i) == 22 and sane_request_id(i) and i[:12] == got[0][:12] for i in got)
    assert [int(i[12:], 16) for i in got] == list(range(start, start + 600))


def test_config_parsing_and_errors() -> None:
    cfg = build_config({}, listen="127.0.0.1:4000", upstreams=["http://127.0.0.1:4101", "127.0.0.1:4102"])
    assert [u.url for u in cfg.pools[0].upstreams] == ["http://127.0.0.1:4101", "http://127.0.0.1:4102"]
    assert cfg.listen_port == 4000 and cfg.retry.max_replay_body == 65536
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "docs" / "router.md"
    text = example.read_text()
    toml = text.split("```toml", 1)[1].split("```", 1)[0]
    full = build_config(tomllib.loads(toml))
    assert full.pools[0].name == "primary" and full.pools[1].priority == 1
    assert full.pools[0].upstreams[0].weight == 2.0
    bad = [
        ({"health": {"intervall": 1}}, "unknown key"),
        ({"retry": {"attempts": "3"}}, "number"),
        ({"balancing": {"policy": "magic"}}, "policy"),
        ({"balancing": {"policy": "hash"}}, "hash_header"),
        ({"pools": [{"name": "x", "upstreams": ["ftp://h:1"]}]}, "http"),
        ({"pools": [{"name": "x", "upstreams": ["http://h:1", "http://h:1"]}]}, "twice"),
        ({}, "no upstream"),
        ({"pools": [{"upstreams": ["http://h:1"]}], "trusted_proxies": ["nope"]}, "trusted_proxies"),
        ({"pools": [{"upstreams": ["http://h:1"]}], "bogus": 1}, "unknown top-level"),
        ({"pools": [{"upstreams": ["http://h:1"]}], "retry": {"retry_on": ["503"]}}, "retry_on"),
        ({"pools": [{"upstreams": ["http://h:1"]}], "retry": {"retry_on": [429]}}, "retry_on"),
        ({"pools": [{"upstreams": ["http://h:1"]}], "slow_start": {"min_factor": 0}}, "min_factor"),
        ({"pools": [{"upstreams": ["http://h:1"]}], "balancing": {"ewma_decay": 0}}, "ewma_decay"),
    ]
    for data, msg in bad:
        with pytest.raises(ConfigError, match=msg):
            build_config(data)
