"""The router object: wires config, balancer, health, limits and the data path together, and owns
reload, runtime changes and graceful shutdown.

What the data path reads and calls per request is ``core.RouterCore``, which ``Router`` extends:
hot-path settings are copied into its plain attributes on apply so the data path reads
``router.max_conc`` rather than ``router.cfg.limits.upstream_max_concurrency``. This module is the
top of the package's import graph: nothing in the router imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import socket
import sys
import time
from typing import Any

from .accesslog import AccessLog
from .admin import InternalRequest
from .config import Config, UpstreamCfg, load_config
from .connpool import ConnPool
from .core import RouterCore
from .exchange import Exchange
from .headers import WATCHED, TrustedProxies
from .health import HealthChecker
from .limits import RateLimiter, WaitQueue
from .outlier import OutlierDetector
from .pools import Balancer
from .retry import RetryBudget
from .server import Downstream
from .stats import Stats
from .status import render_metrics
from .workermetrics import WorkerMetrics

SWEEP_INTERVAL = 0.1


class Router(RouterCore):
    def __init__(self, cfg: Config, config_path: str | None = None, cli: dict[str, Any] | None = None,
                 ops_path: str | None = None) -> None:
        self.cfg = cfg
        self.config_path = config_path
        self.cli = cli or {}
        self.ops_path = ops_path
        self.ops_offset = 0
        self.loop = asyncio.get_running_loop()
        self.clock = time.monotonic
        self._rand = random.random
        self.now = time.monotonic()
        self.started = time.time()
        self.conns: set[Downstream] = set()
        self.shutting_down = False
        self.server: asyncio.base_events.Server | None = None
        self.balancer = Balancer(cfg)
        self.budget = RetryBudget(cfg.retry.budget_ratio, cfg.retry.budget_min)
        self.outlier = OutlierDetector(cfg.outlier, self._peers, self._on_change)
        self.health = HealthChecker(cfg.health, self._on_health)
        self.stats = Stats()
        self.access = AccessLog(cfg.log)
        self.reloads = 0
        self.worker_metrics: WorkerMetrics | None = None  # set by a --workers master's child
        self.spinning = False
        self.ratelimiter: RateLimiter | None = None
        self.new_exchange = Exchange
        self.new_internal = InternalRequest
        self.apply(cfg, initial=True)

    # configuration ------------------------------------------------------------------------
    def apply(self, cfg: Config, initial: bool = False) -> None:
        self.cfg = cfg
        lim, rc, t = cfg.limits, cfg.retry, cfg.timeouts
        self.trusted = TrustedProxies(cfg.trusted_proxies)
        self.max_header_bytes = lim.max_header_bytes
        self.max_body_bytes = lim.max_body_bytes
        self.max_replay = rc.max_replay_body
        self.per_try_timeout = rc.per_try_timeout
        # A per-try timeout at or beyond the total deadline can never fire first: no check at all.
        # With hedging it starts a race, so it gets a precise timer per try; without, it only
        # fails the try, and the sweeper's 100 ms granularity (as for the total deadline) is enough
        # and saves arming and cancelling a timer on every request.
        per_try = rc.per_try_timeout < t.request
        self.try_timer = per_try and rc.hedge
        self.try_sweep = per_try and not rc.hedge
        self.max_conc = lim.upstream_max_concurrency
        self.retry_on = frozenset(rc.retry_on)
        self.ewma_decay = cfg.balancing.ewma_decay
        self.hash_header = cfg.balancing.hash_header.lower().encode() if cfg.balancing.policy == "hash" else b""
        self.hash_cookie = cfg.balancing.hash_cookie.encode() if cfg.balancing.policy == "hash" else b""
        self.hash_watched = self.hash_header in WATCHED  # read where the parser handles such headers
        if self.ratelimiter is None or self.ratelimiter.rate != lim.rate:
            self.ratelimiter = RateLimiter(lim.rate, lim.burst)
        self.ratelimiter.burst = max(lim.burst, 1.0)
        self.budget.ratio, self.budget.minimum = rc.budget_ratio, rc.budget_min
        self.outlier.cfg = cfg.outlier
        self.access.cfg = cfg.log
        self.log_sample = cfg.log.sample if cfg.log.access else 0.0  # AccessLog.sampled(), inlined
        # busy polling: requests per sweep that keep the loop spinning; 0 = never spin
        self.spin_min = max(1.0, cfg.busy_poll.min_rate * SWEEP_INTERVAL) if cfg.busy_poll.enabled else 0.0
        old = self.balancer.cfg.balancing
        if not initial and (cfg.balancing.policy, cfg.balancing.ewma_decay) != (old.policy, old.ewma_decay):
            self.balancer.levels = []  # new policy objects on rebuild
        added, removed = self.balancer.configure(cfg, self.balancer.upstreams)
        self._init_upstreams(added, initial)
        for up in self.balancer.upstreams.values():
            up.conns.idle_timeout, up.conns.connect_timeout = t.pool_idle, t.connect
            up.queue.size, up.queue.timeout = lim.queue_size, lim.queue_timeout
        for up in removed:
            up.conns.close_all()
        if initial:
            self.health.sync(self.balancer.upstreams)
        else:
            self.health.restart(cfg.health, self.balancer.upstreams)

    def _init_upstreams(self, added: list[Any], initial: bool) -> None:
        t, lim = self.cfg.timeouts, self.cfg.limits
        for up in added:
            up.conns = ConnPool(up.host, up.port, t.pool_idle, t.connect)
            up.queue = WaitQueue(lim.queue_size, lim.queue_timeout)
            if not initial:
                up.slow_start_at = time.monotonic()

    def reload(self) -> str:
        """SIGHUP: re-read the config file. In-flight requests keep their upstream objects, so a
        removed host finishes what it is doing and its connections close when released."""
        try:
            cfg = load_config(self.config_path, **self.cli)
        except Exception as exc:  # keep serving with the old config
            self.log_event("reload_failed", error=str(exc))
            return f"reload failed: {exc}"
        self.apply(cfg)
        self.reloads += 1
        if self.ops_path:
            with contextlib.suppress(OSError):
                self.ops_offset = os.path.getsize(self.ops_path)
        self.log_event("reloaded", upstreams=list(self.balancer.upstreams))
        return "reloaded"

    def _peers(self, up: Any) -> list[Any]:
        return [u for u in self.balancer.upstreams.values() if u.priority == up.priority]

    def _on_change(self, up: Any) -> None:
        self.balancer._loads_at = 0.0
        self.log_event("ejected", upstream=up.url, seconds=round(up.ejected_until - time.monotonic(), 3))

    def _on_health(self, up: Any, healthy: bool) -> None:
        self.balancer._loads_at = 0.0
        if healthy:
            up.slow_start_at = time.monotonic()
        else:
            up.conns.sweep(float("inf"))  # idle connections to a dead host are useless
        self.log_event("health", upstream=up.url, healthy=healthy)

    # runtime changes (admin API) --------------------------------------------------------------
    def apply_op(self, op: dict[str, Any]) -> dict[str, Any]:
        """Idempotent so that every worker can replay the shared op log, including its own ops."""
        kind = op.get("op")
        ups = self.balancer.upstreams
        if kind == "add":
            uc = UpstreamCfg.parse(str(op["url"]), float(op.get("weight", 1.0)))
            pool = str(op.get("pool") or (self.cfg.pools[0].name if self.cfg.pools else "default"))
            prio = op.get("priority")
            if prio is None:
                prio = next((p.priority for p in self.cfg.pools if p.name == pool), 0)
            if uc.url in ups:
                ups[uc.url].weight = uc.weight
                ups[uc.url].draining = False
            else:
                from .upstream import Upstream

                up = Upstream(uc.url, uc.host, uc.port, uc.weight, pool, int(prio))
                self._init_upstreams([up], initial=False)
                ups[uc.url] = up
                self.health.sync(ups)
            self.balancer.rebuild()
            return {"ok": True, "upstream": ups[uc.url].url}
        url = UpstreamCfg.parse(str(op.get("url", ""))).url
        up = ups.get(url)
        if up is None:
            return {"ok": kind == "remove", "error": None if kind == "remove" else f"unknown upstream {url}"}
        if kind == "remove":
            del ups[url]
            up.removed = True
            up.conns.close_all()
            self.health.sync(ups)
        elif kind == "drain":
            value = op.get("value", True)  # JSON true/false, or a query string's "false"/"0"
            up.draining = value.lower() not in ("false", "0", "no", "off") if isinstance(value, str) else bool(value)
        elif kind == "weight":
            w = float(op["weight"])
            if not 0 < w <= 1000:
                return {"ok": False, "error": "weight must be in (0, 1000]"}
            up.weight = w
        else:
            return {"ok": False, "error": f"unknown op {kind!r}"}
        self.balancer.rebuild()
        return {"ok": True, "upstream": url}

    def publish_op(self, op: dict[str, Any]) -> dict[str, Any]:
        result = self.apply_op(op)
        if result.get("ok") and self.ops_path:
            # Other workers replay the op log when the master relays SIGUSR1.
            with open(self.ops_path, "a") as fh:
                fh.write(json.dumps(op) + "\n")
            with contextlib.suppress(OSError):
                os.kill(os.getppid(), __import__("signal").SIGUSR1)
        return result

    def replay_ops(self) -> None:
        if not self.ops_path:
            return
        try:
            if os.path.getsize(self.ops_path) < self.ops_offset:
                self.ops_offset = 0  # emptied by the master at a reload this worker failed
            with open(self.ops_path) as fh:
                fh.seek(self.ops_offset)
                data = fh.read()
        except OSError:
            return
        complete = data[: data.rfind("\n") + 1]
        self.ops_offset += len(complete.encode())
        for line in complete.splitlines():
            with contextlib.suppress(Exception):
                self.apply_op(json.loads(line))

    def log_event(self, event: str, **fields: Any) -> None:
        self.access.write({"ts": round(time.time(), 3), "event": event, "pid": os.getpid(), **fields})

    # lifecycle ------------------------------------------------------------------------------
    async def serve(self, sock: socket.socket | None = None) -> None:
        if sock is None:
            sock = make_socket(self.cfg.listen_host, self.cfg.listen_port, reuse_port=False)
        self.server = await self.loop.create_server(lambda: Downstream(self), sock=sock, backlog=4096)
        self.loop.create_task(self._sweeper())

    async def _sweeper(self) -> None:
        t = self.cfg.timeouts
        served = 0
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            now = self.now = time.monotonic()
            t = self.cfg.timeouts
            last, served = served, self.stats.count
            self.busy_poll(self.spin_min > 0 and served - last >= self.spin_min)
            try:
                for down in list(self.conns):
                    ex = down.exchange
                    if ex is not None and ex.winner is None:
                        if now - ex.req.start > t.request:
                            ex.deadline()
                        elif self.try_sweep and ex.attempts:
                            ex.sweep_tries(now, self.per_try_timeout)
                    down.sweep(now, t)
                if int(now * 10) % 10 == 0:
                    for up in self.balancer.upstreams.values():
                        up.conns.sweep(now)
                for up in self.balancer.upstreams.values():
                    if up.queue.waiters:
                        up.queue.expire(now)
                self.access.flush()
                if self.worker_metrics is not None:
                    self.worker_metrics.publish(render_metrics(self), now)
            except Exception as exc:  # a sweeper bug must not stop timeouts for everyone
                print(f"router sweeper error: {exc!r}", file=sys.stderr)

    def busy_poll(self, on: bool) -> None:
        """Start or stop spinning. Decided once per sweep from the requests served in it, so the
        data path pays nothing; traffic starts the spin within 100 ms and its end stops it."""
        if on and not self.spinning:
            self.spinning = True
            self.loop.call_soon(self._spin)
        elif not on:
            self.spinning = False

    def _spin(self) -> None:
        # While a callback is ready, the loop polls with a zero timeout instead of sleeping: one
        # empty callback per loop iteration is the whole mechanism.
        if self.spinning:
            self.loop.call_soon(self._spin)

    def inflight(self) -> int:
        return self.budget.active

    async def shutdown(self) -> None:
        """Stop accepting, let in-flight requests finish (up to the deadline), then close."""
        self.shutting_down = True
        self.log_event("shutdown", inflight=self.inflight())
        if self.server is not None:
            self.server.close()
        for down in list(self.conns):
            if down.current is None and not down.header_started:
                down.transport.close()
        deadline = time.monotonic() + self.cfg.timeouts.shutdown
        while time.monotonic() < deadline and any(d.current is not None for d in self.conns):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        self.health.stop()
        if self.worker_metrics is not None:
            self.worker_metrics.remove()
        for down in list(self.conns):
            down.transport.abort()
        for up in self.balancer.upstreams.values():
            up.conns.close_all()
        self.access.flush()


def make_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(4096)
    sock.setblocking(False)
    return sock
