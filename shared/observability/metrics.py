"""Prometheus metrics for every function (Grafana scrapes `/metrics`).

Label values are route templates (`/api/models/{identifier}`), never raw paths, so cardinality
stays bounded whatever clients send. prometheus-client costs ~50 ms of import, so the instruments
are built on first use (`instruments()`), not when this module is imported; on Lambda (where
nothing scrapes a process) the request middleware never asks for them, see
`shared.observability.recording`.
"""

from __future__ import annotations

from functools import lru_cache


class Instruments:
    """The process's registry and every instrument on it (a plain class: a dataclass would cost
    every cold start its generated methods, while these are made only on first use)."""

    def __init__(self) -> None:
        # heavy: prometheus-client is ~50 ms of import, paid by the first recorded or scraped request
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests_total", "HTTP requests by route template and status",
            ["method", "route", "status"], registry=registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds", "HTTP request latency by route template",
            ["method", "route"], registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
        )
        self.db_pool_in_use = Gauge("db_pool_connections_in_use", "DB connections checked out", registry=registry)
        self.db_pool_waiting = Gauge(
            "db_pool_requests_waiting", "Requests waiting for a DB connection", registry=registry
        )
        self.db_pool_size = Gauge("db_pool_connections", "DB connections open", registry=registry)
        self.db_errors = Counter(
            "db_errors_total", "Database connection or query failures", ["kind"], registry=registry
        )
        self.storage_errors = Counter(
            "storage_errors_total", "Object storage failures", ["operation"], registry=registry
        )
        self.rate_limited = Counter(
            "rate_limit_rejections_total", "Requests refused with 429 by the API's own limits", ["route_class"],
            registry=registry,
        )
        self.auth_provider_limited = Counter(
            "auth_provider_limited_total", "Supabase Auth (GoTrue) rate-limit and email-quota refusals", ["kind"],
            registry=registry,
        )
        # labelled series exist at 0 from the start, so the first refusal is an increase Prometheus sees
        for kind in ("rate_limit", "email_quota", "email_frequency"):
            self.auth_provider_limited.labels(kind)
        for route_class in ("auth", "write", "read", "signin_failures"):
            self.rate_limited.labels(route_class)


@lru_cache(maxsize=1)
def instruments() -> Instruments:
    """The process's instruments, made once."""
    return Instruments()


def observe_request(method: str, route: str, status: int, duration_s: float) -> None:
    m = instruments()
    m.requests.labels(method, route, str(status)).inc()
    m.latency.labels(method, route).observe(duration_s)


def exposition() -> tuple[bytes, str]:
    """Every metric in Prometheus' text format, and the content type to serve it with."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest  # heavy: as in `instruments`

    return generate_latest(instruments().registry), CONTENT_TYPE_LATEST
