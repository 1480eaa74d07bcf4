"""The counters each answered request bumps: responses by status and a latency histogram.

The hot path only bumps integers (``Stats.observe``); ``status.py`` formats them at scrape time, so
metrics cost nothing per request beyond a dict increment and a bisect.
"""

from __future__ import annotations

from bisect import bisect_left

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Stats:
    __slots__ = ("codes", "hist", "dur_sum", "count", "retries", "hedges")

    def __init__(self) -> None:
        self.codes: dict[int, int] = {}
        self.hist = [0] * (len(BUCKETS) + 1)
        self.dur_sum = 0.0
        self.count = 0
        self.retries = 0
        self.hedges = 0

    def observe(self, status: int, seconds: float) -> None:
        codes = self.codes
        codes[status] = codes.get(status, 0) + 1
        self.hist[bisect_left(BUCKETS, seconds)] += 1
        self.dur_sum += seconds
        self.count += 1
