"""The router as the data path sees it: its settings and shared objects, and the calls a request
makes on it (``dispatch``, ``log_exchange``, ``log_local``, ``slot_freed``).

``app.Router`` derives from ``RouterCore``: it sets every attribute from the configuration (hot
settings are copied into plain attributes, so the data path reads ``router.max_conc`` rather than
``router.cfg.limits.upstream_max_concurrency``) and adds reload, runtime changes, serving and
shutdown. Keeping this part apart keeps the module graph acyclic: the data path (``server``,
``attempt``, ``response``, ``exchange``) and the router's own pages (``status``, ``admin``) import
this module, and only ``app``, at the top, imports them; it hands in what a request creates
(``new_exchange``: ``exchange.Exchange``, ``new_internal``: ``admin.InternalRequest``). In the
compiled build ``RouterCore`` is the C type of those modules' ``router`` (``core.pxd``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from .accesslog import AccessLog
    from .config import Config
    from .headers import TrustedProxies
    from .limits import RateLimiter
    from .outlier import OutlierDetector
    from .pools import Balancer
    from .request import Request
    from .retry import RetryBudget
    from .stats import Stats
    from .workermetrics import WorkerMetrics


class RouterCore:
    """What the data path and the router's own pages read; ``app.Router`` sets all of it."""

    cfg: Config
    loop: asyncio.AbstractEventLoop
    clock: Callable[[], float]  # time.monotonic
    _rand: Callable[[], float]  # random.random
    now: float  # time.monotonic(), moved on by the sweeper every 100 ms
    started: float  # time.time() at start
    conns: set[Any]  # the open client connections (server.Downstream)
    shutting_down: bool
    spinning: bool  # busy polling
    reloads: int
    ops_path: str | None  # the op log shared by --workers
    worker_metrics: WorkerMetrics | None
    new_exchange: Callable[..., Any]  # exchange.Exchange(router, down, req)
    new_internal: Callable[..., Any]  # admin.InternalRequest(router, down, req)
    balancer: Balancer
    budget: RetryBudget
    outlier: OutlierDetector
    stats: Stats
    access: AccessLog
    trusted: TrustedProxies
    ratelimiter: RateLimiter
    # settings copied from cfg on apply
    max_header_bytes: int
    max_body_bytes: int
    max_replay: int
    max_conc: int
    per_try_timeout: float
    try_timer: bool  # a timer per try (hedging); else the sweeper checks per-try timeouts
    retry_on: frozenset[int]
    ewma_decay: float
    hash_header: bytes
    hash_cookie: bytes
    hash_watched: bool
    log_sample: float  # share of requests logged; 0 with the access log off

    def dispatch(self, down: Any, req: Request) -> None:
        """A parsed request from ``down`` (a ``server.Downstream``): the router's own endpoints, the
        rate limit, or an exchange with the upstreams."""
        if req.url.startswith(b"/__router"):
            self.new_internal(self, down, req)
            return
        if self.ratelimiter.rate > 0:
            # the exact time: self.now moves once per sweep, and a bucket would refill only then
            wait = self.ratelimiter.check(req.client_ip, self.clock())
            if wait:
                down.respond_error(429, "Too many requests", req.request_id, retry_after=wait)
                return
        ex = self.new_exchange(self, down, req)
        down.exchange = ex
        ex.start()

    def slot_freed(self, up: Any) -> None:
        q = up.queue
        while q.waiters and up.inflight < self.max_conc:
            start = q.pop()
            if start is not None:
                start()

    def log_exchange(self, ex: Any, status: int, start: float) -> None:
        """Counts a finished exchange (an ``exchange.Exchange``) and logs it if sampled. ``status``
        and ``start`` are passed in, typed, because the compiled build does not type ``ex`` here
        (this module is below ``exchange``)."""
        now = self.clock()
        dur = now - start
        self.stats.observe(status, dur)
        sample = self.log_sample
        if sample and (sample >= 1.0 or self._rand() < sample):
            req = ex.req
            self.access.write({
                "ts": round(time.time(), 3), "request_id": req.request_id, "client": req.client_ip,
                "method": req.method.decode(), "path": req.url.decode("latin-1"), "status": status,
                "upstream": ex.upstream, "tries": ex.tries,
                "ttfb_ms": round((ex.t_headers - start) * 1000, 3) if ex.t_headers else None,
                "duration_ms": round(dur * 1000, 3), "bytes_in": req.body_bytes,
            })

    def log_local(self, req: Request, status: int) -> None:
        """Counts and logs a request the router answered itself (errors, its own endpoints)."""
        now = time.monotonic()
        self.stats.observe(status, now - req.start)
        if self.access.enabled and self.access.sampled():
            self.access.write({
                "ts": round(time.time(), 3), "request_id": req.request_id, "client": req.client_ip,
                "method": req.method.decode(), "path": req.url.decode("latin-1"), "status": status,
                "upstream": None, "tries": 0, "duration_ms": round((now - req.start) * 1000, 3),
            })

    # runtime changes, made by app.Router (the admin API calls them) ---------------------------
    def reload(self) -> str:
        raise NotImplementedError

    def publish_op(self, op: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError
