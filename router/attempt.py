"""One try of a request on one upstream connection.

An ``Attempt`` gets a connection (pooled or new), sends the request head and body (replayed from the
request's buffer on a retry), relays the upstream's events to its ``Exchange`` and, when finished,
returns the connection to the pool only if both messages ended cleanly. It makes no decision of its
own: retries, hedging and the response belong to the exchange. What it needs of the exchange is
``ExchangeBase``, declared here, so this module imports nothing above it.
"""

from __future__ import annotations

import asyncio
from time import monotonic  # a module global: the compiled build looks `time.monotonic` up per call
from typing import TYPE_CHECKING, Any

from .connpool import ConnHandler
from .pause import P_UPSTREAM

if TYPE_CHECKING:
    from .connpool import UpstreamConn
    from .core import RouterCore
    from .request import Request
    from .server import Downstream
    from .upstream import Upstream


class ExchangeBase:
    """What a try sees of its exchange: the request, the client connection, the router, and the
    calls a try reports its upstream's events with. ``exchange.Exchange`` implements them (the
    response half in ``response.ResponseWriter``, which derives from this class). In the compiled
    build the hot ones are C methods (``attempt.pxd``), so a try calls them directly."""

    __slots__ = ("router", "down", "req", "paused_client")

    router: RouterCore
    down: Downstream
    req: Request
    paused_client: bool  # the client is not reading: the winning try's upstream is paused

    def on_headers(self, a: Attempt, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        raise NotImplementedError

    def on_continue(self, a: Attempt) -> None:
        raise NotImplementedError

    def on_interim(self, a: Attempt, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        raise NotImplementedError

    def on_body(self, a: Attempt, chunk: bytes) -> None:
        raise NotImplementedError

    def on_complete(self, a: Attempt) -> None:
        raise NotImplementedError

    def on_error(self, a: Attempt, kind: str) -> None:
        raise NotImplementedError

    def on_timeout(self, a: Attempt) -> None:
        raise NotImplementedError

    def on_upgrade(self, a: Attempt, rest: bytes) -> None:
        raise NotImplementedError

    def flush_head(self) -> None:
        raise NotImplementedError


class Attempt(ConnHandler):
    """One try of a request on one upstream."""

    __slots__ = ("ex", "up", "conn", "timer", "started", "connected", "done", "keep_alive", "sent_all", "chunked",
                 "transport")

    def __init__(self, ex: ExchangeBase, up: Upstream) -> None:
        self.ex = ex
        self.up = up
        self.conn: UpstreamConn | None = None
        self.transport: Any = None
        self.timer: asyncio.TimerHandle | None = None
        self.started = monotonic()
        self.connected = 0.0  # when a new connection opened for this try: its latency is counted from then
        self.done = False
        self.keep_alive = False
        self.sent_all = False
        self.chunked = ex.req.chunked

    def start(self) -> None:
        up = self.up
        up.inflight += 1
        up.requests += 1
        router = self.ex.router
        if router.try_timer:  # hedging needs the exact moment; otherwise the sweeper checks tries
            self.timer = router.loop.call_later(router.per_try_timeout, self.ex.on_timeout, self)
        conn = up.conns.acquire()
        if conn is not None:
            self.bind(conn)
        else:
            router.loop.create_task(up.conns.connect()).add_done_callback(self._connected)

    def _connected(self, task: asyncio.Task[UpstreamConn]) -> None:
        if task.cancelled():
            exc: BaseException | None = TimeoutError()
        else:
            exc = task.exception()
        if self.done:
            if exc is None:  # the try was abandoned while connecting; keep the fresh connection
                self.up.conns.release(task.result())
            return
        if exc is not None:
            self.ex.on_error(self, "connect")
        else:
            self.connected = monotonic()
            self.bind(task.result())

    def bind(self, conn: UpstreamConn) -> None:
        req = self.ex.req
        if not req.consumed and not req.pending:  # first try, nothing buffered: Request.attach() inlined
            req.consumed = True
            req.sink = self
            conn.handler = self
            self.conn = conn
            t = self.transport = conn.transport
            t.write(req.head)
            if req.body_done:
                self.body_end()
            return
        chunks = req.attach(self)
        if chunks is None:
            self.up.conns.release(conn)
            self.ex.on_error(self, "noreplay")
            return
        conn.handler = self
        self.conn = conn
        t = self.transport = conn.transport
        if chunks and not self.chunked and len(chunks) < 8:
            t.write(b"".join((req.head, *chunks)))  # one segment for small requests
        else:
            t.write(req.head)
            for c in chunks:
                self.body(c)
        if req.body_done:
            self.body_end()

    # request body, called by Request.feed -------------------------------------------------
    def body(self, chunk: bytes) -> None:
        t = self.transport
        if self.chunked:
            t.writelines((b"%x\r\n" % len(chunk), chunk, b"\r\n"))
        else:
            t.write(chunk)

    def body_end(self) -> None:
        if self.chunked:
            self.transport.write(b"0\r\n\r\n")
        self.sent_all = True

    # upstream events, called by UpstreamConn ----------------------------------------------
    def on_up_headers(self, status: int, headers: list[tuple[bytes, bytes]], keep_alive: bool) -> None:
        self.keep_alive = keep_alive
        self.ex.on_headers(self, status, headers)

    def on_up_continue(self) -> None:
        self.ex.on_continue(self)

    def on_up_interim(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.ex.on_interim(self, status, headers)

    def on_up_body(self, chunk: bytes) -> None:
        self.ex.on_body(self, chunk)

    def on_up_complete(self) -> None:
        self.ex.on_complete(self)

    def on_up_error(self, kind: str) -> None:
        self.ex.on_error(self, kind)

    def on_up_upgrade(self, rest: bytes) -> None:
        self.ex.on_upgrade(self, rest)

    def on_up_flush(self) -> None:
        self.ex.flush_head()

    def on_up_pause(self, paused: bool) -> None:
        self.ex.down.set_pause(P_UPSTREAM, paused)

    def finish(self, reuse: bool) -> None:
        """Release everything this try holds; a connection is reused only if both messages ended."""
        if self.done:
            return
        self.done = True
        if self.timer is not None:
            self.timer.cancel()
        req = self.ex.req
        if req.sink is self:
            req.sink = None
            down = self.ex.down
            if down.paused & P_UPSTREAM:
                down.set_pause(P_UPSTREAM, False)
        up = self.up
        up.inflight -= 1
        conn = self.conn
        if conn is not None:
            if reuse and self.sent_all and self.keep_alive:
                if self.ex.paused_client:
                    conn.transport.resume_reading()  # paused for this client, not for the next one
                if conn.reset_parser:  # a HEAD answer, its read still being parsed: pooled after it
                    conn.handler = None
                    conn.release_later = True
                else:
                    up.conns.release(conn)
            else:
                conn.close()
        if up.queue.waiters:
            self.ex.router.slot_freed(up)
        # Nothing calls into a finished try's exchange; dropping the link breaks the exchange <-> try
        # cycle so both are freed by reference counting instead of piling up for the cyclic GC.
        self.ex = None  # type: ignore[assignment]
