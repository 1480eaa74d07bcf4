"""Admission limits: per-client token buckets and per-upstream concurrency queues.

Both reject early with a ``Retry-After`` so well-behaved clients back off instead of hammering.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class Bucket:
    """One client's tokens and when they were counted (two C doubles in the compiled build, where
    a ``[tokens, stamp]`` list would box a new float for every update)."""

    __slots__ = ("tokens", "stamp")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class RateLimiter:
    """Token bucket per client ip. When the dict of buckets grows past ``max_keys`` the
    oldest-touched half is dropped (a full bucket is the default)."""

    __slots__ = ("rate", "burst", "buckets", "max_keys", "limited")

    def __init__(self, rate: float, burst: float, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.buckets: dict[str, Bucket] = {}
        self.max_keys = max_keys
        self.limited = 0

    def check(self, key: str, now: float) -> float:
        """0.0 if admitted, else seconds until a token is available."""
        if self.rate <= 0:
            return 0.0
        b = self.buckets.get(key)
        if b is None:
            if len(self.buckets) >= self.max_keys:
                self._evict()
            self.buckets[key] = Bucket(self.burst - 1.0, now)
            return 0.0
        tokens = min(self.burst, b.tokens + (now - b.stamp) * self.rate)
        b.stamp = now
        if tokens >= 1.0:
            b.tokens = tokens - 1.0
            return 0.0
        b.tokens = tokens
        self.limited += 1
        return (1.0 - tokens) / self.rate

    def _evict(self) -> None:
        items = sorted(self.buckets.items(), key=lambda kv: kv[1].stamp)
        for k, _ in items[: len(items) // 2]:
            del self.buckets[k]


class WaitQueue:
    """Requests waiting for a slot on one upstream (bounded, with a deadline per waiter)."""

    __slots__ = ("waiters", "size", "timeout", "rejected", "timed_out")

    def __init__(self, size: int, timeout: float) -> None:
        self.waiters: deque[tuple[float, Callable[[], None], Callable[[], None]]] = deque()
        self.size = size
        self.timeout = timeout
        self.rejected = 0
        self.timed_out = 0

    def push(self, start: Callable[[], None], expire: Callable[[], None]) -> bool:
        if len(self.waiters) >= self.size:
            self.rejected += 1
            return False
        self.waiters.append((time.monotonic() + self.timeout, start, expire))
        return True

    def pop(self) -> Callable[[], None] | None:
        if self.waiters:
            return self.waiters.popleft()[1]
        return None

    def expire(self, now: float) -> None:
        w = self.waiters
        while w and w[0][0] <= now:
            _, _, on_expire = w.popleft()
            self.timed_out += 1
            on_expire()
