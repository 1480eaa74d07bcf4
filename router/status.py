"""Status page (HTML and JSON) and Prometheus metrics, rendered on demand from plain counters.

The hot path only bumps integers (``stats.Stats.observe``); all formatting happens here, at scrape
time, so metrics cost nothing per request beyond a dict increment and a bisect.
"""

from __future__ import annotations

import html
import os
import time
from typing import TYPE_CHECKING, Any

from . import COMPILED
from .stats import BUCKETS

if TYPE_CHECKING:
    from .core import RouterCore


def snapshot(router: RouterCore) -> dict[str, Any]:
    now = time.monotonic()
    ss = router.cfg.slow_start
    b = router.budget
    pools: dict[str, Any] = {}
    for up in router.balancer.upstreams.values():
        pool = pools.setdefault(up.pool_name, {"name": up.pool_name, "priority": up.priority, "upstreams": []})
        pool["upstreams"].append(up.snapshot(now, ss.window, ss.min_factor))
    return {
        "pid": os.getpid(),
        "uptime_s": round(time.time() - router.started, 3),
        "policy": router.cfg.balancing.policy,
        "shutting_down": router.shutting_down,
        "inflight": b.active,
        "connections": len(router.conns),
        "reloads": router.reloads,
        "busy_polling": router.spinning,
        "build": "compiled" if COMPILED else "python",
        "retry_budget": {"in_flight": b.retrying, "limit": round(b.limit(), 2), "granted": b.granted,
                         "denied": b.denied},
        "retries": router.stats.retries,
        "hedges": router.stats.hedges,
        "ejections": router.outlier.total_ejections,
        "rate_limited": router.ratelimiter.limited,
        "priorities": router.balancer.snapshot_levels(now),
        "pools": sorted(pools.values(), key=lambda p: (p["priority"], p["name"])),
        "responses": {str(k): v for k, v in sorted(router.stats.codes.items())},
    }


def render_html(snap: dict[str, Any]) -> bytes:
    rows = []
    for pool in snap["pools"]:
        for u in pool["upstreams"]:
            state = "draining" if u["draining"] else "ejected" if u["ejected"] else (
                "up" if u["healthy"] else "down")
            rows.append(
                "<tr class='{cls}'><td>{pool}</td><td>{prio}</td><td>{url}</td><td>{state}</td><td>{w}</td>"
                "<td>{ss}</td><td>{inf}</td><td>{ewma}</td><td>{req}</td><td>{r5}</td><td>{ej}</td></tr>".format(
                    cls=state, pool=html.escape(pool["name"]), prio=pool["priority"], url=html.escape(u["url"]),
                    state=state, w=u["weight"], ss=u["slow_start_factor"], inf=u["inflight"], ewma=u["ewma_ms"],
                    req=u["requests"], r5=u["responses"]["5xx"], ej=u["ejections"],
                )
            )
    b = snap["retry_budget"]
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Tridmo router</title>
<meta http-equiv="refresh" content="5"><style>body{{font:14px system-ui,sans-serif;margin:2em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
tr.up td{{background:#eaffea}}tr.down td,tr.ejected td{{background:#ffecec}}tr.draining td{{background:#fff7e0}}
</style></head><body><h1>Tridmo router</h1>
<p>pid {snap['pid']} &middot; up {snap['uptime_s']} s &middot; policy {html.escape(snap['policy'])} &middot;
in flight {snap['inflight']} &middot; connections {snap['connections']} &middot; ejections {snap['ejections']}
&middot; retries {snap['retries']} (budget {b['in_flight']}/{b['limit']}, denied {b['denied']})
&middot; {snap['build']} build {'&middot; busy polling' if snap['busy_polling'] else ''}</p>
<table><tr><th>pool</th><th>prio</th><th>upstream</th><th>state</th><th>weight</th><th>slow start</th>
<th>in flight</th><th>EWMA ms</th><th>requests</th><th>5xx</th><th>ejections</th></tr>
{''.join(rows)}</table><p>JSON: <a href="?format=json">?format=json</a> &middot;
<a href="/__router/metrics">metrics</a></p></body></html>"""
    return page.encode()


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_metrics(router: RouterCore) -> bytes:
    now = time.monotonic()
    st = router.stats
    out = [
        "# HELP router_requests_total Requests answered, by status code.",
        "# TYPE router_requests_total counter",
    ]
    out += [f'router_requests_total{{code="{c}"}} {n}' for c, n in sorted(st.codes.items())]
    out += ["# HELP router_request_duration_seconds Time from request headers to response end.",
            "# TYPE router_request_duration_seconds histogram"]
    acc = 0
    for le, n in zip((*BUCKETS, float("inf")), st.hist, strict=True):
        acc += n
        out.append(f'router_request_duration_seconds_bucket{{le="{"+Inf" if le == float("inf") else le}"}} {acc}')
    out += [f"router_request_duration_seconds_sum {st.dur_sum:.6f}",
            f"router_request_duration_seconds_count {st.count}"]
    b = router.budget
    scalars = [
        ("router_inflight_requests", "gauge", "Requests in flight.", b.active),
        ("router_client_connections", "gauge", "Open client connections.", len(router.conns)),
        ("router_retries_total", "counter", "Retries sent.", st.retries),
        ("router_hedges_total", "counter", "Hedged tries sent.", st.hedges),
        ("router_retry_budget_denied_total", "counter", "Retries refused by the budget.", b.denied),
        ("router_retry_budget_in_flight", "gauge", "Retries in flight.", b.retrying),
        ("router_ejections_total", "counter", "Outlier ejections.", router.outlier.total_ejections),
        ("router_rate_limited_total", "counter", "Requests refused by rate limit.", router.ratelimiter.limited),
        ("router_reloads_total", "counter", "Successful config reloads.", router.reloads),
        ("router_busy_polling", "gauge", "1 while the event loop busy-polls ([busy_poll]).", int(router.spinning)),
        ("router_compiled", "gauge", "1 if the compiled build of the data path is loaded.", int(COMPILED)),
    ]
    for name, kind, help_, val in scalars:
        out += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}", f"{name} {val}"]
    per_up = [
        ("router_upstream_healthy", "gauge", "1 if active checks pass.", lambda u: int(u.active_healthy)),
        ("router_upstream_ejected", "gauge", "1 if ejected by outlier detection.",
         lambda u: int(u.ejected_until > now)),
        ("router_upstream_draining", "gauge", "1 if draining.", lambda u: int(u.draining)),
        ("router_upstream_inflight", "gauge", "Requests in flight.", lambda u: u.inflight),
        ("router_upstream_ewma_seconds", "gauge", "Latency EWMA.", lambda u: round(u.ewma, 6)),
        ("router_upstream_weight", "gauge", "Configured weight.", lambda u: u.weight),
        ("router_upstream_requests_total", "counter", "Tries sent.", lambda u: u.requests),
        ("router_upstream_connect_errors_total", "counter", "Connect failures.", lambda u: u.connect_errors),
        ("router_upstream_timeouts_total", "counter", "Per-try timeouts.", lambda u: u.timeouts),
        ("router_upstream_resets_total", "counter", "Connection resets.", lambda u: u.resets),
        ("router_upstream_ejections_total", "counter", "Times ejected.", lambda u: u.ejections),
        ("router_upstream_5xx_total", "counter", "5xx responses.", lambda u: u.responses_5xx),
        ("router_upstream_idle_connections", "gauge", "Idle pooled connections.", lambda u: len(u.conns.idle)),
    ]
    ups = list(router.balancer.upstreams.values())
    for name, kind, help_, fn in per_up:
        out += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}"]
        out += [f'{name}{{upstream="{_esc(u.url)}",pool="{_esc(u.pool_name)}"}} {fn(u)}' for u in ups]
    return ("\n".join(out) + "\n").encode()
