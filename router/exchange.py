"""One proxied request: tries, retries and hedging.

An ``Exchange`` owns the client side of a request and decides what happens next: which upstream a
try goes to, whether a failed try is retried or hedged, which try wins, and how the exchange ends.
Each try is an ``Attempt`` (``attempt.py``); writing the winner's response to the client is the
``ResponseWriter`` half (``response.py``); the retry rules themselves live in ``retry.py``.
Everything is driven by protocol callbacks; the only timers are the retry backoff and, with hedging
on, the per-try timeout (the total deadline, idle timeouts and the per-try timeout without hedging
are checked by the router's sweeper every 100 ms).
"""

from __future__ import annotations

from time import monotonic
from typing import TYPE_CHECKING

from .attempt import Attempt
from .request import Request
from .response import EOF, ResponseWriter
from .retry import backoff, may_retry
from .server import Downstream

if TYPE_CHECKING:
    from .core import RouterCore
    from .upstream import Upstream


class Exchange(ResponseWriter):
    __slots__ = ("attempts", "tried", "tries", "retries", "winner", "finished", "upstream", "continued")

    def __init__(self, router: RouterCore, down: Downstream, req: Request) -> None:
        self.router = router
        self.down = down
        self.req = req
        self.attempts: list[Attempt] = []
        self.tried: list[Upstream] = []
        self.tries = 0
        self.retries = 0
        self.winner: Attempt | None = None
        self.finished = False
        self.paused_client = down.write_paused
        self.upstream = ""
        self.continued = False
        # ResponseWriter.init_response(), inlined: this runs once per request
        self.mode = EOF
        self.chunk_out = False
        self.keep = False
        self.status = 0
        self.t_headers = 0.0
        self.head_buf = None

    def start(self) -> None:
        self.router.budget.active += 1
        self.next_try()

    def next_try(self) -> None:
        if self.finished:
            return
        if not self.req.replayable():  # the body outgrew the replay buffer during the backoff
            self.local_error(502, "Upstream failed, and the request body is too large to send again")
            return
        router = self.router
        up = router.balancer.select(self.req.hash_key, self.tried or None, router.max_conc)
        if up is None or up.inflight >= router.max_conc:
            self.no_room(up)
            return
        self.launch(up)

    def no_room(self, up: Upstream | None) -> None:
        """No host was selectable, or the chosen one is at its concurrency limit: queue or fail."""
        if up is None:
            self.local_error(503, "No upstream is available", retry_after=1)
        elif not up.queue.push(lambda: self.launch(up), self.queue_expired):
            self.local_error(503, "Upstream is at capacity and its queue is full", retry_after=1)

    def launch(self, up: Upstream) -> None:
        if self.finished:
            return
        a = Attempt(self, up)
        self.attempts.append(a)
        self.tried.append(up)
        self.tries += 1
        self.upstream = up.url
        a.start()

    def queue_expired(self) -> None:
        if not self.finished:
            self.local_error(503, "Timed out waiting for upstream capacity", retry_after=1)

    # retry decisions --------------------------------------------------------------------------
    def can_retry(self, kind: str) -> bool:
        router = self.router
        if self.finished or self.winner is not None or self.tries >= router.cfg.retry.attempts:
            return False
        if not may_retry(kind, self.req.idempotent, self.req.replayable()):
            return False
        if monotonic() - self.req.start > router.cfg.timeouts.request:
            return False
        if router.balancer.select(self.req.hash_key, self.tried, router.max_conc) is None:
            return False  # no other host to try: the client gets this failure, not "no upstream"
        if not router.budget.acquire():
            return False
        self.retries += 1
        return True

    def schedule_retry(self, failed: Upstream) -> None:
        failed.retries += 1
        self.router.stats.retries += 1
        rc = self.router.cfg.retry
        self.router.loop.call_later(backoff(self.retries, rc.backoff_base, rc.backoff_max), self.next_try)

    def on_error(self, a: Attempt, kind: str) -> None:
        if a.done or self.finished:
            a.finish(False)
            return
        if a is self.winner:
            if self.mode == EOF and kind == "eof":
                self.on_complete(a)  # close-delimited body: a clean EOF is the end of the message
            else:
                a.finish(False)
                self.abort_client()
            return
        up = a.up
        if kind == "eof":  # closed before its answer: as a reset (a keep-alive race, or a crash)
            kind = "reset"
        if kind != "noreplay":  # (the body could not be sent again: not the host's fault)
            if kind == "connect":
                up.connect_errors += 1
            elif kind == "timeout":
                up.timeouts += 1
            else:
                up.resets += 1
            self.router.outlier.failure(up, monotonic())
        a.finish(False)
        self.attempts.remove(a)
        if self.attempts:
            return  # a hedged try is still racing
        if self.can_retry(kind):
            self.schedule_retry(up)
        elif kind == "timeout":
            self.local_error(504, "Upstream did not answer in time")
        else:
            self.local_error(502, "Upstream connection failed" if kind == "connect" else "Upstream failed")

    def on_timeout(self, a: Attempt) -> None:
        """A try ran past the per-try timeout. With hedging (GETs), it is not cancelled: a new try on
        another host races it, and whichever answers first wins. Without, it fails as a timeout."""
        if a.done or self.winner is not None or self.finished:
            return
        router = self.router
        if (router.cfg.retry.hedge and self.req.method == b"GET" and self.req.replayable()
                and (self.hedge() or len(self.attempts) > 1)):  # else it fails as a timeout, below
            a.timer = None
            up = a.up
            now = monotonic()
            up.timeouts += 1  # what outlier detection and P2C see of a host too slow to wait for
            up.observe_latency(now - (a.connected or a.started), now, router.ewma_decay)
            router.outlier.failure(up, now)
            return  # a try without a successor races on, up to the request's deadline
        self.on_error(a, "timeout")

    def hedge(self) -> bool:
        """Start one more try, racing the others, if attempts, a host with room and the budget allow."""
        router = self.router
        if self.tries >= router.cfg.retry.attempts:
            return False
        up = router.balancer.select(self.req.hash_key, self.tried, router.max_conc)
        if up is None or up.inflight >= router.max_conc or not router.budget.acquire():
            return False
        self.retries += 1
        router.stats.hedges += 1
        self.launch(up)
        return True

    def sweep_tries(self, now: float, per_try: float) -> None:
        """Per-try timeout without hedging, checked by the router's sweeper."""
        late = [a for a in self.attempts if not a.done and now - a.started > per_try]
        for a in late:
            self.on_timeout(a)

    def deadline(self) -> None:
        """Total request time ran out before any response header arrived (router sweeper)."""
        if self.winner is None and not self.finished:
            for a in list(self.attempts):
                a.finish(False)
            self.attempts.clear()
            self.local_error(504, "Upstream did not answer in time")

    # response path ------------------------------------------------------------------------
    def on_continue(self, a: Attempt) -> None:
        """An upstream's 100 Continue: passed on (once, however many tries) to an HTTP/1.1 client
        still holding back its body for it. Other interim responses: ``ResponseWriter.on_interim``."""
        if (a.done or self.finished or self.winner is not None or self.continued or not self.req.http11
                or self.req.body_done):
            return
        self.continued = True
        self.down.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_headers(self, a: Attempt, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        if a.done or self.finished:
            return
        router = self.router
        up = a.up
        now = monotonic()
        # the host's latency, not the connect's: a new connection's set-up would count against the
        # host's first answer, which P2C then remembers
        up.observe_latency(now - (a.connected or a.started), now, router.ewma_decay)
        if status >= 500:
            router.outlier.failure(up, now)
            if status in router.retry_on and (len(self.attempts) > 1 or self.can_retry("5xx")):
                up.count_status(status)
                a.finish(False)
                self.attempts.remove(a)
                if not self.attempts:
                    self.schedule_retry(up)
                else:  # the others race on, and one more joins them if it may: none may time out again
                    self.hedge()
                return
        elif up.consecutive_failures:
            router.outlier.success(up)
        if status == 101 and not self.req.upgrade:  # a switch nobody asked for: no tunnel
            a.finish(False)
            self.attempts.remove(a)
            if not self.attempts:
                self.local_error(502, "Upstream switched protocols unasked")
            return
        self.winner = a
        if self.paused_client:  # the client was already slow: read no more of this body for now
            a.transport.pause_reading()
        if a.timer is not None:
            a.timer.cancel()
        if len(self.attempts) > 1:
            for other in self.attempts:
                if other is not a:
                    other.finish(False)  # the hedging loser is cancelled
            self.attempts = [a]
        if status < 300:
            up.responses_2xx += 1  # count_status(), inlined for the common case
        else:
            up.count_status(status)
        self.status = status
        self.t_headers = now
        self.start_response(status, headers, a.conn.raw_head)  # type: ignore[union-attr]
        if self.req.method == b"HEAD" and status >= 200:
            a.conn.head_done()  # type: ignore[union-attr]
            self.on_complete(a)

    def on_complete(self, a: Attempt) -> None:
        if a is not self.winner or self.finished:
            a.finish(False)
            return
        if self.head_buf is not None or self.chunk_out:
            self.write_end()
        a.finish(a.keep_alive and self.mode != EOF)
        self.end(self.keep)

    def on_upgrade(self, a: Attempt, rest: bytes) -> None:
        """101 Switching Protocols: from here on both sockets are spliced as a raw tunnel."""
        down = self.down
        conn = a.conn
        if a is not self.winner or self.status != 101 or conn is None or down.closed or not self.req.upgrade:
            a.finish(False)
            self.abort_client()
            return
        self.flush_head()
        conn.handler = None
        conn.tunnel = down
        down.tunnel = conn.transport
        if rest:
            down.transport.write(rest)
        for data in down.upgrade_buf or ():
            conn.transport.write(data)  # type: ignore[union-attr]
        down.upgrade_buf = None
        if not down.paused:  # reading stopped while the upgrade waited for its answer
            down.transport.resume_reading()
        a.conn = None  # the tunnel owns the connection now; never pooled
        a.finish(False)
        self.finished = True
        self.router.budget.active -= 1
        self.router.budget.release(self.retries)
        self.router.log_exchange(self, self.status, self.req.start)
        down.exchange = None

    # client side ----------------------------------------------------------------------------
    def client_paused(self, paused: bool) -> None:
        """The client cannot take more: stop reading the winning try's upstream. Tries still racing
        for a winner are read on, so their response heads arrive (a paused try would time out,
        charged to its host for the client's slowness)."""
        self.paused_client = paused
        w = self.winner
        if w is not None and w.transport is not None and not w.done:
            if paused:
                w.transport.pause_reading()
            else:
                w.transport.resume_reading()

    def client_gone(self) -> None:
        self.abandon(499)

    def abandon(self, status: int) -> bool:
        """Stop without touching the client connection (it is gone or being closed by the caller).
        Returns whether the client had already received response bytes."""
        started = self.winner is not None
        if self.finished:
            return started
        for a in self.attempts:
            a.finish(False)
        self.attempts.clear()
        if not self.status or not started:
            self.status = status
        self.finished = True
        self.router.budget.active -= 1
        self.router.budget.release(self.retries)
        self.router.log_exchange(self, self.status, self.req.start)
        return started

    def abort_client(self) -> None:
        """The response already started and cannot be completed: cut the client connection so it
        sees a truncated message rather than a silently short one."""
        self.head_buf = None
        if not self.finished:
            self.end(False)
            if not self.down.closed:
                self.down.transport.abort()

    def local_error(self, status: int, message: str, retry_after: float | None = None) -> None:
        self.status = status
        for a in self.attempts:
            a.finish(False)
        self.attempts.clear()
        self.finished = True
        self.router.budget.active -= 1
        self.router.budget.release(self.retries)
        self.down.exchange = None
        self.router.log_exchange(self, self.status, self.req.start)
        if not self.down.closed:
            self.down.respond_error(status, message, self.req.request_id, retry_after=retry_after, log=False)

    def end(self, keep: bool) -> None:
        self.finished = True
        router = self.router
        router.budget.active -= 1
        if self.retries:
            router.budget.release(self.retries)
        router.log_exchange(self, self.status, self.req.start)
        self.down.finish(keep)
