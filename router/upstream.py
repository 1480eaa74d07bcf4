"""State of one upstream host: health flags, load, latency, slow start, counters.

Everything the selection policies read is a plain attribute on this object so that choosing a host
is a handful of attribute loads, not method calls. Health (active checks) and outlier ejection
(passive) are tracked separately because they heal differently: active health follows the probe,
ejection follows a timer.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .connpool import ConnPool
    from .limits import WaitQueue


class Upstream:
    __slots__ = (
        "url", "host", "port", "weight", "pool_name", "priority",
        "active_healthy", "ejected_until", "ejections", "ejection_streak", "last_ejection", "consecutive_failures",
        "draining", "removed", "inflight", "ewma", "ewma_stamp", "slow_start_at",
        "requests", "responses_2xx", "responses_3xx", "responses_4xx", "responses_5xx",
        "connect_errors", "timeouts", "resets", "retries", "conns", "health_fails", "health_oks",
        "queue", "last_probe", "last_probe_error",
    )

    def __init__(self, url: str, host: str, port: int, weight: float, pool_name: str, priority: int) -> None:
        self.url = url
        self.host = host
        self.port = port
        self.weight = weight
        self.pool_name = pool_name
        self.priority = priority
        # A new host is trusted until its first probe says otherwise: refusing traffic until a probe
        # round completes would make a cold start return 503s.
        self.active_healthy = True
        self.ejected_until = 0.0
        self.ejections = 0  # all time, for status and metrics
        self.ejection_streak = 0  # ejections in a row: how long the next one lasts
        self.last_ejection = 0.0
        self.consecutive_failures = 0
        self.draining = False
        self.removed = False
        self.inflight = 0
        self.ewma = 0.0  # seconds; 0 means "no sample yet"
        self.ewma_stamp = 0.0
        self.slow_start_at = 0.0
        self.requests = 0
        self.responses_2xx = self.responses_3xx = self.responses_4xx = self.responses_5xx = 0
        self.connect_errors = self.timeouts = self.resets = self.retries = 0
        self.health_fails = self.health_oks = 0
        self.conns: ConnPool = None  # type: ignore[assignment]  # set by the router
        self.queue: WaitQueue = None  # type: ignore[assignment]  # set by the router
        self.last_probe = 0.0
        self.last_probe_error = ""

    def available(self, now: float) -> bool:
        """Whether this host may receive new requests (healthy, not ejected, not draining)."""
        return self.active_healthy and self.ejected_until <= now and not self.draining and not self.removed

    def slow_start_factor(self, now: float, window: float, min_factor: float) -> float:
        """Share multiplier in (0, 1]: a freshly (re)admitted host ramps up linearly over the window
        so that a cold cache or JIT is not hit with a full share at once."""
        if not self.slow_start_at or window <= 0:
            return 1.0
        elapsed = now - self.slow_start_at
        if elapsed >= window:
            self.slow_start_at = 0.0
            return 1.0
        return max(min_factor, elapsed / window)

    def observe_latency(self, seconds: float, now: float, decay: float) -> None:
        """Time-decayed EWMA (as in Finagle/Linkerd): sparse samples weigh more, so a host that was
        slow a minute ago is not punished for ever."""
        if self.ewma == 0.0:
            self.ewma = seconds
        else:
            w = math.exp(-(now - self.ewma_stamp) / decay) if decay > 0 else 0.0
            self.ewma = self.ewma * w + seconds * (1.0 - w) if w < 0.9 else self.ewma * 0.9 + seconds * 0.1
        self.ewma_stamp = now

    def count_status(self, status: int) -> None:
        if status < 300:
            self.responses_2xx += 1
        elif status < 400:
            self.responses_3xx += 1
        elif status < 500:
            self.responses_4xx += 1
        else:
            self.responses_5xx += 1

    def snapshot(self, now: float, window: float, min_factor: float) -> dict[str, object]:
        return {
            "url": self.url,
            "pool": self.pool_name,
            "priority": self.priority,
            "weight": self.weight,
            "healthy": self.active_healthy,
            "available": self.available(now),
            "ejected": self.ejected_until > now,
            "ejected_for": round(max(0.0, self.ejected_until - now), 3),
            "ejections": self.ejections,
            "consecutive_failures": self.consecutive_failures,
            "draining": self.draining,
            "inflight": self.inflight,
            "ewma_ms": round(self.ewma * 1000, 3),
            "slow_start_factor": round(self.slow_start_factor(now, window, min_factor), 3),
            "requests": self.requests,
            "responses": {
                "2xx": self.responses_2xx, "3xx": self.responses_3xx,
                "4xx": self.responses_4xx, "5xx": self.responses_5xx,
            },
            "connect_errors": self.connect_errors,
            "timeouts": self.timeouts,
            "resets": self.resets,
            "retries": self.retries,
            "idle_connections": len(self.conns.idle) if self.conns is not None else 0,
            "queued": len(self.queue.waiters) if self.queue is not None else 0,
            "last_probe_age": round(time.monotonic() - self.last_probe, 3) if self.last_probe else None,
            "last_probe_error": self.last_probe_error,
        }
