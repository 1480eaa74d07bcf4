"""Cheap entry points for recording metrics, loading prometheus-client only when it is useful.

Under Lambda no scraper can reach the process, so Prometheus recording is skipped there (the
Datadog extension collects invocation metrics instead); everywhere else the metrics module is
imported on the first recorded request rather than at import time.
"""

from __future__ import annotations

import os
from functools import lru_cache
from types import ModuleType


@lru_cache(maxsize=1)
def _metrics() -> ModuleType | None:
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return None
    from shared.observability import metrics

    return metrics


def observe_request(method: str, route: str, status: int, duration_s: float) -> None:
    m = _metrics()
    if m is not None:
        m.observe_request(method, route, status, duration_s)


def count_db_error(kind: str) -> None:
    m = _metrics()
    if m is not None:
        m.DB_ERRORS.labels(kind).inc()


def publish_pool_stats(size: int, available: int, waiting: int) -> None:
    m = _metrics()
    if m is not None:
        m.DB_POOL_SIZE.set(size)
        m.DB_POOL_IN_USE.set(size - available)
        m.DB_POOL_WAITING.set(waiting)


def count_storage_error(operation: str) -> None:
    m = _metrics()
    if m is not None:
        m.STORAGE_ERRORS.labels(operation).inc()


def count_rate_limited(route_class: str) -> None:
    m = _metrics()
    if m is not None:
        m.RATE_LIMITED.labels(route_class).inc()


def count_auth_provider_limited(kind: str) -> None:
    m = _metrics()
    if m is not None:
        m.AUTH_PROVIDER_LIMITED.labels(kind).inc()
