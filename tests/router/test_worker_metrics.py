"""With --workers, any worker's /__router/metrics answers for all of them, one series per worker."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from router.workermetrics import merge

pytestmark = pytest.mark.timeout(60)


def test_merge_labels_every_sample_and_keeps_one_header_per_family() -> None:
    one = (b"# HELP a_total A.\n# TYPE a_total counter\na_total 3\n"
           b"# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 0.5\nh_count 2\n")
    two = b"# HELP a_total A.\n# TYPE a_total counter\na_total 4\n"
    assert merge([("0", one), ("1", two)]).decode().splitlines() == [
        "# HELP a_total A.", "# TYPE a_total counter", 'a_total{worker="0"} 3', 'a_total{worker="1"} 4',
        "# HELP h H.", "# TYPE h histogram", 'h_bucket{worker="0",le="1"} 2', 'h_sum{worker="0"} 0.5',
        'h_count{worker="0"} 2',
    ]


def _tries(metrics: str, upstream: str) -> dict[str, int]:
    pattern = rf'^router_upstream_requests_total{{worker="(\d+)",upstream="{re.escape(upstream)}"[^}}]*}} (\d+)$'
    return {w: int(n) for w, n in re.findall(pattern, metrics, re.M)}


def test_any_worker_reports_every_workers_counters(start_backend, start_router) -> None:
    b = start_backend("a")
    r = start_router([b.url], workers=2)
    for _ in range(40):  # a new connection each: the kernel spreads them over both workers
        assert httpx.get(r.url + "/hello", timeout=5).status_code == 200
    time.sleep(1.5)  # each worker publishes once a second
    seen = []
    for _ in range(10):
        metrics = httpx.get(r.url + "/__router/metrics", timeout=5).text
        seen.append(_tries(metrics, b.url))
    for per_worker in seen:
        assert set(per_worker) == {"0", "1"}, per_worker  # both workers, whichever answered
        assert sum(per_worker.values()) == 40, per_worker
    assert all(n > 0 for n in seen[0].values())  # the load really was spread
