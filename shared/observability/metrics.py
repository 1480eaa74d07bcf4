"""Prometheus metrics for every function (Grafana scrapes `/metrics`).

Label values are route templates (`/api/models/{identifier}`), never raw paths, so cardinality
stays bounded whatever clients send. Import this module only where metrics are recorded or served:
prometheus-client costs ~50 ms of import, and on Lambda (where nothing scrapes a process) the
request middleware skips it; see `shared.observability.recording`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "http_requests_total", "HTTP requests by route template and status",
    ["method", "route", "status"], registry=REGISTRY,
)
LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency by route template",
    ["method", "route"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
)
DB_POOL_IN_USE = Gauge("db_pool_connections_in_use", "DB connections checked out", registry=REGISTRY)
DB_POOL_WAITING = Gauge("db_pool_requests_waiting", "Requests waiting for a DB connection", registry=REGISTRY)
DB_POOL_SIZE = Gauge("db_pool_connections", "DB connections open", registry=REGISTRY)
DB_ERRORS = Counter("db_errors_total", "Database connection or query failures", ["kind"], registry=REGISTRY)
STORAGE_ERRORS = Counter("storage_errors_total", "Object storage failures", ["operation"], registry=REGISTRY)


def observe_request(method: str, route: str, status: int, duration_s: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(duration_s)
RATE_LIMITED = Counter(
    "rate_limit_rejections_total", "Requests refused with 429 by the API's own limits", ["route_class"],
    registry=REGISTRY,
)
AUTH_PROVIDER_LIMITED = Counter(
    "auth_provider_limited_total", "Supabase Auth (GoTrue) rate-limit and email-quota refusals", ["kind"],
    registry=REGISTRY,
)
for _kind in ("rate_limit", "email_quota", "email_frequency"):  # series exist at 0, so the first one counts
    AUTH_PROVIDER_LIMITED.labels(_kind)
for _class in ("auth", "write", "read", "signin_failures"):
    RATE_LIMITED.labels(_class)
