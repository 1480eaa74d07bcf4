"""Cheap entry points for recording metrics, building the Prometheus instruments only when useful.

Under Lambda no scraper can reach the process, so Prometheus recording is skipped there (the
Datadog extension collects invocation metrics instead); everywhere else the instruments (and
prometheus-client) are made on the first recorded request rather than at import time.
"""

from __future__ import annotations

import os
from functools import lru_cache

from shared.observability import metrics


@lru_cache(maxsize=1)
def _instruments() -> metrics.Instruments | None:
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return None
    return metrics.instruments()


def observe_request(method: str, route: str, status: int, duration_s: float) -> None:
    if _instruments() is not None:
        metrics.observe_request(method, route, status, duration_s)


def count_db_error(kind: str) -> None:
    m = _instruments()
    if m is not None:
        m.db_errors.labels(kind).inc()


def publish_pool_stats(size: int, available: int, waiting: int) -> None:
    m = _instruments()
    if m is not None:
        m.db_pool_size.set(size)
        m.db_pool_in_use.set(size - available)
        m.db_pool_waiting.set(waiting)


def count_storage_error(operation: str) -> None:
    m = _instruments()
    if m is not None:
        m.storage_errors.labels(operation).inc()


def count_rate_limited(route_class: str) -> None:
    m = _instruments()
    if m is not None:
        m.rate_limited.labels(route_class).inc()


def count_auth_provider_limited(kind: str) -> None:
    m = _instruments()
    if m is not None:
        m.auth_provider_limited.labels(kind).inc()
