"""The panels of the Grafana dashboards (scripts/gen_dashboards.py renders them to ops/grafana/).

Three dashboards: the API (rate, errors, latency by route, DB pool and query time, storage
operations, process resources), the router (per-upstream health, retries, ejections, traffic share
and weights, which is what a canary looks like), operations (backup age, replication backlog, rate
limiting, scraping, firing alerts). Thresholds are the operations plan's, the same numbers as
ops/prometheus/alerts.yml; a panel with a threshold draws it as a red line.

Queries use fixed windows ([5m]) rather than Grafana's `$__rate_interval` so each one also runs
unchanged against Prometheus's HTTP API (the live drill does that).
"""

from __future__ import annotations

from typing import Any

API = 'job="tridmo-api"'
REAL = 'job="tridmo-api", route!~"/metrics|/health|/api/health|/api/health/ready"'  # traffic, not probes
ROUTER = 'job="tridmo-router"'

# The plan's thresholds, shared with the alert rules (ops/prometheus/alerts.yml).
ERROR_RATE = 0.05
SLOW_S = 2
BACKUP_MAX_AGE_S = 26 * 3600
REPLICATION_MAX_AGE_S = 3600
RATE_LIMITED_PER_S = 1
EJECTIONS_PER_15M = 3


def q(expr: str, legend: str = "") -> dict[str, str]:
    return {"expr": expr, "legend": legend}


def panel(
    title: str,
    targets: list[dict[str, str]],
    unit: str = "short",
    threshold: float | None = None,
    kind: str = "timeseries",
    description: str = "",
) -> dict[str, Any]:
    return {
        "title": title,
        "targets": targets,
        "unit": unit,
        "threshold": threshold,
        "kind": kind,
        "description": description,
    }


def share(counter: str, selector: str, bad: str) -> str:
    """The share of `counter`'s rate whose samples also match `bad`."""
    return f"sum(rate({counter}{{{selector}, {bad}}}[5m])) / sum(rate({counter}{{{selector}}}[5m]))"


def p95(metric: str, selector: str, by: str) -> str:
    return f"histogram_quantile(0.95, sum by (le, {by}) (rate({metric}_bucket{{{selector}}}[5m])))"


API_PANELS = [
    panel(
        "Requests per second by status",
        [q(f"sum by (status) (rate(http_requests_total{{{REAL}}}[5m]))", "{{status}}")],
        "reqps",
        description="Probes (/health, /api/health, /metrics) left out, as in the alert rules.",
    ),
    panel(
        "5xx share (alert above 5 % with at least 100 requests in 5 min)",
        [
            q(
                share("http_requests_total", REAL, 'status=~"5.."'),
                "5xx share",
            )
        ],
        "percentunit",
        ERROR_RATE,
    ),
    panel(
        "Latency p50 / p95 / p99 (alert: p95 of a route above 2 s)",
        [
            q(
                f"histogram_quantile({p}, sum by (le) (rate(http_request_duration_seconds_bucket{{{REAL}}}[5m])))",
                f"p{int(p * 100)}",
            )
            for p in (0.5, 0.95, 0.99)
        ],
        "s",
        SLOW_S,
    ),
    panel(
        "p95 latency by route (10 slowest)",
        [q(f"topk(10, {p95('http_request_duration_seconds', REAL, 'method, route')})", "{{method}} {{route}}")],
        "s",
        SLOW_S,
    ),
    panel(
        "Requests per second by route (10 busiest)",
        [q(f"topk(10, sum by (method, route) (rate(http_requests_total{{{REAL}}}[5m])))", "{{method}} {{route}}")],
        "reqps",
    ),
    panel(
        "Errors by route and status (4xx and 5xx)",
        [
            q(
                f'topk(10, sum by (route, status) (rate(http_requests_total{{{REAL}, status=~"[45].."}}[5m])))',
                "{{status}} {{route}}",
            )
        ],
        "reqps",
    ),
    panel(
        "DB pool (per worker)",
        [
            q(f"sum by (instance) (db_pool_connections_in_use{{{API}}})", "in use {{instance}}"),
            q(f"sum by (instance) (db_pool_requests_waiting{{{API}}})", "waiting {{instance}}"),
            q(f"sum by (instance) (db_pool_connections{{{API}}})", "open {{instance}}"),
        ],
        "short",
        description="Waiting above 0 for 5 minutes raises TridmoDatabasePoolSaturated.",
    ),
    panel(
        "DB errors in 5 min (alert on the first connection error)",
        [q(f"sum by (kind) (increase(db_errors_total{{{API}}}[5m]))", "{{kind}}")],
        "short",
        1,
    ),
    panel(
        "DB query time p95 by query (10 slowest)",
        [q(f"topk(10, {p95('db_query_duration_seconds', API, 'query')})", "{{query}}")],
        "s",
        SLOW_S,
    ),
    panel(
        "DB queries per second by query (10 busiest)",
        [q(f"topk(10, sum by (query) (rate(db_query_duration_seconds_count{{{API}}}[5m])))", "{{query}}")],
        "ops",
    ),
    panel(
        "Storage operations per second",
        [
            q(
                f"sum by (operation, backend) (rate(storage_operation_duration_seconds_count{{{API}}}[5m]))",
                "{{operation}} {{backend}}",
            )
        ],
        "ops",
    ),
    panel(
        "Storage operation time p95",
        [q(p95("storage_operation_duration_seconds", API, "operation, backend"), "{{operation}} {{backend}}")],
        "s",
        SLOW_S,
    ),
    panel(
        "Storage errors in 5 min (alert on the first)",
        [q(f"sum by (operation, backend) (increase(storage_errors_total{{{API}}}[5m]))", "{{operation}} {{backend}}")],
        "short",
        1,
    ),
    panel(
        "Storage bytes per second (uploaded / downloaded)",
        [q(f"sum by (direction, backend) (rate(storage_bytes_total{{{API}}}[5m]))", "{{direction}} {{backend}}")],
        "Bps",
    ),
    panel(
        "CPU per worker",
        [q(f"sum by (instance) (rate(process_cpu_seconds_total{{{API}}}[5m]))", "{{instance}}")],
        "percentunit",
        description="1.0 is one core busy.",
    ),
    panel(
        "Memory and open files per worker",
        [
            q(f"sum by (instance) (process_resident_memory_bytes{{{API}}})", "RSS {{instance}}"),
            q(f"sum by (instance) (process_open_fds{{{API}}})", "fds {{instance}}"),
        ],
        "short",
    ),
]

ROUTER_PANELS = [
    panel(
        "Router requests per second by status",
        [q(f"sum by (code) (rate(router_requests_total{{{ROUTER}}}[5m]))", "{{code}}")],
        "reqps",
    ),
    panel(
        "Router 5xx share (what clients see)",
        [
            q(
                share("router_requests_total", ROUTER, 'code=~"5.."'),
                "5xx share",
            )
        ],
        "percentunit",
        ERROR_RATE,
    ),
    panel(
        "Router latency p50 / p95 / p99",
        [
            q(
                f"histogram_quantile({p}, sum by (le) (rate(router_request_duration_seconds_bucket{{{ROUTER}}}[5m])))",
                f"p{int(p * 100)}",
            )
            for p in (0.5, 0.95, 0.99)
        ],
        "s",
        SLOW_S,
    ),
    panel(
        "Upstream health (1 healthy, 0 failing checks)",
        [q(f"max by (pool, upstream) (router_upstream_healthy{{{ROUTER}}})", "{{pool}} {{upstream}}")],
        "short",
        kind="stat",
    ),
    panel(
        "Upstreams ejected or draining",
        [
            q(f"max by (pool, upstream) (router_upstream_ejected{{{ROUTER}}})", "ejected {{upstream}}"),
            q(f"max by (pool, upstream) (router_upstream_draining{{{ROUTER}}})", "draining {{upstream}}"),
        ],
        "short",
    ),
    panel(
        "Ejections per upstream in 15 min (alert at 3)",
        [q(f"sum by (pool, upstream) (increase(router_upstream_ejections_total{{{ROUTER}}}[15m]))", "{{upstream}}")],
        "short",
        EJECTIONS_PER_15M,
    ),
    panel(
        "Retries, hedges and budget refusals per second",
        [
            q(f"sum(rate(router_retries_total{{{ROUTER}}}[5m]))", "retries"),
            q(f"sum(rate(router_hedges_total{{{ROUTER}}}[5m]))", "hedges"),
            q(f"sum(rate(router_retry_budget_denied_total{{{ROUTER}}}[5m]))", "budget denied"),
        ],
        "ops",
    ),
    panel(
        "Upstream failures per second",
        [
            q(f"sum by (upstream) (rate(router_upstream_5xx_total{{{ROUTER}}}[5m]))", "5xx {{upstream}}"),
            q(
                f"sum by (upstream) (rate(router_upstream_connect_errors_total{{{ROUTER}}}[5m]))",
                "connect {{upstream}}",
            ),
            q(f"sum by (upstream) (rate(router_upstream_timeouts_total{{{ROUTER}}}[5m]))", "timeout {{upstream}}"),
        ],
        "ops",
    ),
    panel(
        "Traffic share per upstream (canary: a small weight's share)",
        [
            q(
                f"sum by (pool, upstream) (rate(router_upstream_requests_total{{{ROUTER}}}[5m])) / scalar(sum(rate("
                f"router_upstream_requests_total{{{ROUTER}}}[5m])))",
                "{{pool}} {{upstream}}",
            )
        ],
        "percentunit",
        description="Shift traffic with POST /__router/admin/weight; the share should follow the weights below.",
    ),
    panel(
        "Configured weight per upstream",
        [q(f"max by (pool, upstream) (router_upstream_weight{{{ROUTER}}})", "{{pool}} {{upstream}}")],
        "short",
        kind="stat",
    ),
    panel(
        "Upstream latency EWMA and in flight",
        [
            q(f"max by (upstream) (router_upstream_ewma_seconds{{{ROUTER}}})", "ewma {{upstream}}"),
            q(f"sum by (upstream) (router_upstream_inflight{{{ROUTER}}})", "in flight {{upstream}}"),
        ],
        "short",
    ),
    panel(
        "Requests in flight and ejections (all upstreams)",
        [
            q(f"sum(router_inflight_requests{{{ROUTER}}})", "in flight"),
            q(f"sum(increase(router_ejections_total{{{ROUTER}}}[5m]))", "ejections in 5 min"),
        ],
        "short",
    ),
]

OPERATIONS_PANELS = [
    panel(
        "Age of the newest verified backup (alert above 26 h)",
        [q(f"time() - max(backup_last_success_timestamp_seconds{{{API}}})", "backup age")],
        "s",
        BACKUP_MAX_AGE_S,
        kind="stat",
    ),
    panel(
        "Backup age over time",
        [q(f"time() - max(backup_last_success_timestamp_seconds{{{API}}})", "backup age")],
        "s",
        BACKUP_MAX_AGE_S,
    ),
    panel(
        "Replication backlog: oldest queued item (alert above 1 h)",
        [q(f"max(replication_queue_oldest_seconds{{{API}}})", "oldest")],
        "s",
        REPLICATION_MAX_AGE_S,
    ),
    panel(
        "Replication queue: items queued and failing",
        [
            q(f"max(replication_queue_items{{{API}}})", "queued"),
            q(f"max(replication_queue_failing_items{{{API}}})", "failing"),
        ],
        "short",
        1,
    ),
    panel(
        "Rate-limit refusals per second (alert above 1/s for 10 min)",
        [
            q(f"sum(rate(router_rate_limited_total{{{ROUTER}}}[5m]))", "router per-IP limit"),
            q(f'sum(rate(http_requests_total{{{API}, status="429"}}[5m]))', "API 429s"),
        ],
        "reqps",
        RATE_LIMITED_PER_S,
    ),
    panel(
        "API 429s by route",
        [q(f'sum by (route) (rate(http_requests_total{{{API}, status="429"}}[5m]))', "{{route}}")],
        "reqps",
    ),
    panel(
        "Scrape targets up", [q('up{job=~"tridmo-api|tridmo-router"}', "{{job}} {{instance}}")], "short", kind="stat"
    ),
    panel(
        "Firing alerts",
        [q('sum by (alertname, severity) (ALERTS{alertstate="firing"})', "{{alertname}} ({{severity}})")],
        "short",
        description="TridmoWatchdog always fires: an empty panel means the rules are not evaluated.",
    ),
]

DASHBOARDS = {
    "tridmo-api": ("Tridmo API", API_PANELS),
    "tridmo-router": ("Tridmo router", ROUTER_PANELS),
    "tridmo-operations": ("Tridmo operations", OPERATIONS_PANELS),
}
