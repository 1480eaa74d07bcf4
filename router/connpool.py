"""Upstream side of the data path: a raw asyncio protocol around httptools' response parser, and a
per-upstream keep-alive pool.

The pool is LIFO so the hottest connections stay warm and the cold tail ages out; idle connections
are closed after ``pool_idle`` seconds, deliberately shorter than the upstream's keep-alive (uvicorn
closes after 5 s), so the router almost never writes a request into a socket the upstream is closing.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from time import monotonic
from typing import Any

import httptools


class ConnHandler:
    """What an in-flight try implements to receive upstream events. A base class rather than a
    Protocol so that the compiled build can type ``UpstreamConn.handler`` with it and call these
    methods in C (connpool.pxd); ``Attempt`` is the only implementation."""

    __slots__ = ()

    def on_up_headers(self, status: int, headers: list[tuple[bytes, bytes]], keep_alive: bool) -> None: ...
    def on_up_continue(self) -> None: ...
    def on_up_interim(self, status: int, headers: list[tuple[bytes, bytes]]) -> None: ...
    def on_up_body(self, chunk: bytes) -> None: ...
    def on_up_complete(self) -> None: ...
    def on_up_error(self, kind: str) -> None: ...
    def on_up_upgrade(self, rest: bytes) -> None: ...
    def on_up_flush(self) -> None: ...
    def on_up_pause(self, paused: bool) -> None: ...


class UpstreamConn:
    """One keep-alive connection to an upstream. ``handler`` is the try using it (None while idle).
    An asyncio protocol by duck typing, like ``Downstream``."""

    __slots__ = (
        "pool", "transport", "handler", "parser", "headers", "closed", "idle_since", "tunnel", "release_later",
        "reset_parser", "interim", "served", "data", "fresh", "in_msg", "raw_head",
    )

    def __init__(self, pool: ConnPool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.handler: ConnHandler | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.headers: list[tuple[bytes, bytes]] = []
        self.closed = False
        self.idle_since = 0.0
        self.tunnel: Any = None  # the client's Downstream, once a 101 made this a tunnel
        self.release_later = False  # pooled at the end of this read (a HEAD answer is still parsed)
        self.reset_parser = False
        self.interim = False
        self.served = 0
        self.data = b""  # the read being parsed
        self.fresh = False  # no message has begun yet in ``data``, and none was in progress before it
        self.in_msg = False
        self.raw_head: bytes | None = None

    # asyncio callbacks -------------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        if self.tunnel is not None:
            self.tunnel.transport.write(data)
            self.tunnel.last_active = monotonic()  # traffic either way keeps a tunnel from idling out
            return
        handler = self.handler
        if handler is None:  # bytes on an idle connection: protocol violation, never reuse it
            self.close()
            return
        self.data = data
        self.fresh = not self.in_msg
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            h = self.handler
            if h is None:  # the try ended on the 101's head (e.g. a 101 nobody asked for)
                self.close()
                return
            h.on_up_upgrade(data[exc.args[0]:])
        except httptools.HttpParserError:
            h = self.handler
            self.close()
            if h is not None:
                h.on_up_error("protocol")
            return
        self.data = b""
        if self.reset_parser:
            self.reset_parser = False
            self.in_msg = False
            self.parser = httptools.HttpResponseParser(self)
            if self.release_later:
                self.release_later = False
                self.pool.release(self)
                return
        h = self.handler
        if h is not None:
            h.on_up_flush()

    def eof_received(self) -> None:
        return None  # the upstream closed its side: the transport closes, connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        h = self.handler
        self.handler = None
        if self.tunnel is not None:
            self.tunnel.transport.close()
            self.tunnel = None
        if h is not None:
            h.on_up_error("reset" if exc is not None else "eof")  # "eof" may end a close-delimited body

    def pause_writing(self) -> None:
        if self.tunnel is not None:  # the upstream is slower than the client: stop reading the client
            self.tunnel.transport.pause_reading()
        elif self.handler is not None:
            self.handler.on_up_pause(True)

    def resume_writing(self) -> None:
        if self.tunnel is not None:
            self.tunnel.transport.resume_reading()
        elif self.handler is not None:
            self.handler.on_up_pause(False)

    # httptools callbacks -----------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.headers = []
        self.in_msg = True

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.handler is None:
            # a response nobody asked for (the try ended within this read); raising stops the
            # parser, and data_received closes the connection. Also keeps the compiled build from
            # calling a method on None: its typed handler calls skip Python's attribute lookup.
            raise ConnectionError("response without a request")
        status = self.parser.get_status_code()
        if 100 <= status < 200:
            # 1xx are interim; 101 is followed by the tunnel (HttpParserUpgrade), not a message end
            self.interim = True
            self.fresh = False  # the final response follows in this read, not at its start
            if status == 100:
                self.handler.on_up_continue()
            elif status != 101:
                self.handler.on_up_interim(status, self.headers)
            if status != 101:
                return
        self.raw_head = self._raw_head() if self.fresh else None
        self.fresh = False
        self.handler.on_up_headers(status, self.headers, self.parser.should_keep_alive())

    def on_body(self, chunk: bytes) -> None:
        if self.handler is None:  # see on_headers_complete
            raise ConnectionError("response body without a request")
        self.handler.on_up_body(chunk)

    def on_message_complete(self) -> None:
        self.in_msg = False
        if self.interim:
            self.interim = False
            return
        h = self.handler
        if h is not None:
            h.on_up_complete()

    # helpers -----------------------------------------------------------------------------
    def _raw_head(self) -> bytes | None:
        """The response head exactly as received, when this message starts the current read and
        its head is whole in it (the usual case), so it can be forwarded without being rebuilt.
        Only an HTTP/1.1 head qualifies (others get our status line). llhttp has already refused
        a bare CR or LF and obsolete line folding (test_malformed_upstream_head_is_502 checks it
        still does), so every line ends in CRLF and the first blank line is the head's end."""
        data = self.data
        end = data.find(b"\r\n\r\n")
        if end < 0 or not data.startswith(b"HTTP/1.1 "):
            return None
        return data[:end + 4]

    def head_done(self) -> None:
        """A HEAD response has no body even with Content-Length; llhttp cannot be told so, so the
        parser is replaced once the headers have been read."""
        self.reset_parser = True

    def close(self) -> None:
        self.closed = True
        self.handler = None
        if self.transport is not None:
            self.transport.close()


class ConnPool:
    """Idle keep-alive connections to one upstream, plus the connect path."""

    __slots__ = ("host", "port", "idle", "idle_timeout", "connect_timeout", "max_idle", "closing", "opened")

    def __init__(self, host: str, port: int, idle_timeout: float, connect_timeout: float,
                 max_idle: int = 512) -> None:
        self.host = host
        self.port = port
        self.idle: list[UpstreamConn] = []
        self.idle_timeout = idle_timeout
        self.connect_timeout = connect_timeout
        self.max_idle = max_idle
        self.closing = False
        self.opened = 0

    def acquire(self) -> UpstreamConn | None:
        idle = self.idle
        if not idle:
            return None
        limit = monotonic() - self.idle_timeout
        while idle:
            conn = idle.pop()
            if conn.closed:
                continue
            if conn.idle_since < limit:
                conn.close()
                continue
            return conn
        return None

    def release(self, conn: UpstreamConn) -> None:
        conn.handler = None
        if conn.closed or self.closing or len(self.idle) >= self.max_idle:
            conn.close()
            return
        conn.served += 1
        conn.idle_since = monotonic()
        self.idle.append(conn)

    async def connect(self) -> UpstreamConn:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.connect_timeout):
            _, proto = await loop.create_connection(lambda: UpstreamConn(self), self.host, self.port)
        self.opened += 1
        return proto

    def sweep(self, now: float) -> None:
        """Close idle connections older than the idle timeout (and drop dead ones)."""
        limit = now - self.idle_timeout
        if self.idle and (self.idle[0].idle_since < limit or self.idle[0].closed):
            keep = []
            for c in self.idle:
                if c.closed:
                    continue
                if c.idle_since < limit:
                    c.close()
                else:
                    keep.append(c)
            self.idle = keep

    def close_all(self) -> None:
        self.closing = True
        for c in self.idle:
            c.close()
        self.idle = []
