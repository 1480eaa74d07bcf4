"""Retry safety rules and the retry budget.

Rules (see docs/router.md): a try that failed to connect sent nothing and is always retryable.
Otherwise only idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE, TRACE, or any request with an
``Idempotency-Key``) are retried, on a configured 5xx, a reset or a per-try timeout, and only while
the request body is still replayable (fully buffered, <= ``max_replay_body``). Nothing is retried
once the client has seen response bytes.

The budget caps retries in flight at ``max(budget_min, budget_ratio x active requests)`` (Envoy's
retry budget): during an outage every request fails, and without a cap each would turn into
``attempts`` requests and triple the load on whatever is still alive.
"""

from __future__ import annotations

import random

IDEMPOTENT = frozenset({b"GET", b"HEAD", b"OPTIONS", b"PUT", b"DELETE", b"TRACE"})


def is_idempotent(method: bytes, has_idempotency_key: bool) -> bool:
    return has_idempotency_key or method in IDEMPOTENT


def may_retry(kind: str, idempotent: bool, body_replayable: bool) -> bool:
    """Whether a failed try of this kind may be sent again (budget and attempts aside)."""
    if not body_replayable:
        return False
    if kind == "connect":
        return True
    return idempotent and kind in ("reset", "timeout", "5xx")


def backoff(retry_number: int, base: float, cap: float) -> float:
    """Full-jitter exponential backoff (AWS architecture blog): spreads retries of many clients."""
    return random.uniform(0.0, min(cap, base * (2 ** max(0, retry_number - 1))))


class RetryBudget:
    __slots__ = ("ratio", "minimum", "active", "retrying", "granted", "denied")

    def __init__(self, ratio: float, minimum: int) -> None:
        self.ratio = ratio
        self.minimum = minimum
        self.active = 0  # requests in flight
        self.retrying = 0  # retries (and hedges) in flight
        self.granted = 0
        self.denied = 0

    def limit(self) -> float:
        return max(float(self.minimum), self.ratio * self.active)

    def acquire(self) -> bool:
        if self.retrying + 1 <= self.limit():  # a limit of 3.2 allows 3
            self.retrying += 1
            self.granted += 1
            return True
        self.denied += 1
        return False

    def release(self, n: int) -> None:
        self.retrying -= n
