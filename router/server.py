"""Client side of the data path: an asyncio protocol around httptools' request parser.

Callback style (no task per request) because a coroutine per request costs more CPU than the whole
parse. The protocol turns bytes into ``Request`` objects, enforces the request-level limits
(header size and read time, body size, rate), and hands each request to an ``Exchange`` or to
the router's own endpoints. Pipelined requests are queued and served in order.
"""

from __future__ import annotations

import contextlib
import socket
from collections import deque
from typing import TYPE_CHECKING, Any

import httptools

from .errors import error_response, head_only
from .headers import WATCHED, cookie_value, local_authority, new_request_id, new_request_id_bytes, sane_request_id
from .pause import P_PIPELINE
from .request import Request
from .retry import IDEMPOTENT

if TYPE_CHECKING:
    from .core import RouterCore

# Connection values that name no other field, so nothing more is dropped (RFC 9110 7.6.1)
_PLAIN_CONNECTION = frozenset({b"keep-alive", b"close", b"upgrade"})
_FRAMING = frozenset({b"content-length", b"transfer-encoding", b"host"})


class _Abort(Exception):
    pass


class Downstream:
    """The client connection: an asyncio protocol (duck-typed rather than subclassing
    ``asyncio.Protocol``, because the compiled build makes this an extension type, and an extension
    type cannot derive from a Python class)."""

    __slots__ = (
        "router", "transport", "parser", "peer", "peer_b", "trusted", "parsing", "current", "pipeline", "url",
        "header_parts", "head_bytes", "content_length", "transfer_encoding", "forwarded_for", "forwarded_proto",
        "forwarded_host", "rid", "conn_hdr", "upgrade_hdr", "has_idempotency_key", "host", "cookie", "hash_hdr",
        "error", "last_active", "header_started", "paused", "tunnel", "upgrade_buf", "exchange", "closed",
        "write_paused", "data", "fresh", "in_msg", "dropped", "unparsed", "broken", "hosts",
    )

    def __init__(self, router: RouterCore) -> None:
        self.router = router
        self.transport: Any = None
        self.parser = httptools.HttpRequestParser(self)
        self.parsing: Request | None = None
        self.current: Request | None = None
        self.pipeline: deque[Request] = deque()
        self.exchange: Any = None
        self.error = 0
        self.paused = 0
        self.tunnel: Any = None
        self.upgrade_buf: list[bytes] | None = None
        self.closed = False
        self.write_paused = False
        self.header_started = 0.0
        self.last_active = router.now
        self.data = b""  # the read being parsed, for _raw_head
        self.fresh = False  # no message has begun yet in ``data``, and none was in progress before it
        self.in_msg = False
        self.dropped = False  # the message being parsed had a header that is not forwarded as is
        # bytes fed since the parser last got past a head, a body chunk or a message end (so a head's
        # own bytes count too): llhttp holds an unfinished header or trailer line, copying it on every
        # read, until it ends
        self.unparsed = 0
        self.broken = False  # a later message was malformed: serve what came before it, then close
        self.hosts = 0  # Host fields in the message being parsed

    # asyncio callbacks -------------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:  # head and body are separate writes: never let Nagle hold the second
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername")
        self.peer = peer[0] if peer else "unknown"
        self.peer_b = self.peer.encode()
        self.trusted = self.router.trusted.trusted(self.peer)
        self.router.conns.add(self)
        if self.router.shutting_down:
            transport.close()

    def eof_received(self) -> None:
        # The client closed its side: the transport closes and a request in flight is cancelled
        # (HAProxy's abortonclose). A half-close cannot be told from a client that left, and one that
        # left must not keep an upstream slot for a long poll's duration.
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.router.conns.discard(self)
        if self.tunnel is not None:
            self.tunnel.close()
            self.tunnel = None
        if self.exchange is not None:
            self.exchange.client_gone()
            self.exchange = None

    def pause_writing(self) -> None:
        self.write_paused = True
        if self.tunnel is not None:  # the client is slower than the upstream: stop reading it
            self.tunnel.pause_reading()
        elif self.exchange is not None:
            self.exchange.client_paused(True)

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.tunnel is not None:
            self.tunnel.resume_reading()
        elif self.exchange is not None:
            self.exchange.client_paused(False)

    def data_received(self, data: bytes) -> None:
        self.last_active = self.router.now
        if self.tunnel is not None:
            self.tunnel.write(data)
            return
        if self.upgrade_buf is not None:  # until the upstream answers the upgrade
            self.upgrade_buf.append(data)
            if len(self.upgrade_buf) > 16:
                self.transport.pause_reading()
            return
        if self.broken:
            return
        self.data = data
        self.fresh = not self.in_msg
        self.unparsed += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            rest = data[exc.args[0]:]
            self.upgrade_buf = [rest] if rest else []
        except httptools.HttpParserError as exc:
            self.protocol_error(exc)
        self.data = b""
        if self.unparsed > self.router.max_header_bytes and not self.closed:
            self.error = 431
            self.protocol_error(None)

    # httptools callbacks -----------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.url = b""
        self.header_parts: list[bytes] = []  # the header lines forwarded as received: name, ": ", value, CRLF
        self.head_bytes = 0  # request line and headers so far, against max_header_bytes
        self.content_length = -1  # no Content-Length field
        self.transfer_encoding = self.forwarded_for = self.forwarded_proto = self.forwarded_host = None  # as received
        self.rid = self.conn_hdr = self.upgrade_hdr = self.host = self.cookie = self.hash_hdr = None
        self.hosts = 0
        self.has_idempotency_key = False
        self.dropped = False
        self.in_msg = True
        self.header_started = self.router.now

    def on_url(self, url: bytes) -> None:
        self.url += url
        self.head_bytes += len(url)
        if self.head_bytes > self.router.max_header_bytes:
            self.error = 431
            raise _Abort

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_bytes += len(name) + len(value) + 4
        if self.head_bytes > self.router.max_header_bytes:
            self.error = 431
            raise _Abort
        ln = name.lower()
        if ln in WATCHED:
            if self.router.hash_watched and ln == self.router.hash_header:  # e.g. Host, X-Forwarded-For
                self.hash_hdr = value
            if ln == b"content-length":
                self.content_length = int(value)  # llhttp has validated it already
                self.header_parts += (name, b": ", value, b"\r\n")
            elif ln == b"host":
                self.hosts += 1
                self.host = value
                self.header_parts += (name, b": ", value, b"\r\n")
            elif ln == b"idempotency-key":
                self.has_idempotency_key = True
                self.header_parts += (name, b": ", value, b"\r\n")
            elif ln in (b"forwarded", b"x-real-ip") and self.trusted:
                self.header_parts += (name, b": ", value, b"\r\n")
            else:  # not forwarded as received: dropped, or replaced by the router's own
                self.dropped = True
                if ln == b"transfer-encoding":
                    te = self.transfer_encoding
                    self.transfer_encoding = value if te is None else te + b", " + value
                elif ln == b"x-forwarded-for":
                    xff = self.forwarded_for
                    self.forwarded_for = value if xff is None else xff + b", " + value
                elif ln == b"x-forwarded-proto":
                    self.forwarded_proto = value
                elif ln == b"x-forwarded-host":
                    self.forwarded_host = value
                elif ln == b"x-request-id":
                    self.rid = value
                elif ln == b"connection":
                    self.conn_hdr = value if self.conn_hdr is None else self.conn_hdr + b"," + value
                elif ln == b"upgrade":
                    self.upgrade_hdr = value
            return
        if ln == self.router.hash_header:
            self.hash_hdr = value
        elif ln == b"cookie" and self.router.hash_cookie:
            self.cookie = value
        self.header_parts += (name, b": ", value, b"\r\n")

    def on_headers_complete(self) -> None:
        router = self.router
        parser = self.parser
        req = Request(self, router.max_replay)
        req.start = router.clock()
        req.method = method = parser.get_method()
        req.url = self.url
        req.keep_alive = keep_alive = parser.should_keep_alive()
        # Without a Connection field llhttp keeps exactly the HTTP/1.1 requests alive, so that tells
        # the version too; get_http_version() formats a string, 3% of a request's instructions.
        req.http11 = http11 = keep_alive if self.conn_hdr is None else parser.get_http_version() == "1.1"
        self.unparsed = 0
        if self.hosts > 1 or http11 and not self.hosts or method == b"CONNECT":
            # RFC 9112 3.2: exactly one Host in HTTP/1.1; CONNECT would open a tunnel to anywhere
            self.error = 501 if method == b"CONNECT" else 400
            raise _Abort
        if self.transfer_encoding is not None and not http11:
            # RFC 9112 6.1: HTTP/1.0 framing with Transfer-Encoding is faulty; close after this one
            req.keep_alive = False
        req.upgrade = parser.should_upgrade()
        req.upgrade_hdr = self.upgrade_hdr
        req.host = self.host
        req.chunked = self.transfer_encoding is not None
        req.content_length = self.content_length if self.content_length > 0 else 0
        req.idempotent = self.has_idempotency_key or method in IDEMPOTENT
        rid = self.rid
        if rid is None or not sane_request_id(rid):
            rid = new_request_id_bytes()
        req.rid = rid
        trusted = self.trusted
        req.client_ip = router.trusted.client_ip(self.peer, self.forwarded_for) if trusted else self.peer
        if self.hash_hdr is not None:
            req.hash_key = self.hash_hdr
        elif router.hash_cookie and self.cookie:
            req.hash_key = cookie_value(self.cookie, router.hash_cookie)
        if self.conn_hdr is not None and self.conn_hdr.lower() not in _PLAIN_CONNECTION:
            self._drop_connection_listed()
        xff = self.peer_b if not (trusted and self.forwarded_for) else self.forwarded_for + b", " + self.peer_b
        xfh = self.forwarded_host if (trusted and self.forwarded_host) else self.host
        # few, long pieces: b"".join costs ~100 instructions per piece, whatever its length
        tail = [b"X-Forwarded-For: ", xff, b"\r\nX-Forwarded-Proto: " + self.forwarded_proto + b"\r\n"
                if trusted and self.forwarded_proto else b"\r\nX-Forwarded-Proto: http\r\n"]
        if xfh is not None:
            tail += (b"X-Forwarded-Host: ", xfh, b"\r\n")
        if self.host is None:  # HTTP/1.0 without Host, sent on as 1.1: the address the client reached
            tail += (b"Host: ", local_authority(self.transport), b"\r\n")
        if req.upgrade and self.upgrade_hdr is not None:
            tail += (b"Connection: upgrade\r\nUpgrade: ", self.upgrade_hdr, b"\r\n")
        elif req.chunked:  # llhttp made sure chunked is the last coding; others (gzip, ...) go on too
            te = self.transfer_encoding
            tail.append(b"Transfer-Encoding: chunked\r\n" if te.lower() == b"chunked"
                        else b"Transfer-Encoding: " + te + b"\r\n")
        tail += (b"X-Request-Id: ", rid, b"\r\n\r\n")  # and the blank line that ends the head
        raw = self._raw_head(method) if self.fresh and req.http11 and not self.dropped else None
        self.fresh = False
        if raw is not None:
            req.head = raw + b"".join(tail)
        else:
            req.head = b"".join((method, b" ", self.url, b" HTTP/1.1\r\n", *self.header_parts, *tail))
        self.header_started = 0.0
        if req.content_length > router.max_body_bytes:
            self.error = 413
            self.parsing = req
            raise _Abort
        self.parsing = req
        if self.current is None:
            self.current = req  # start(req), inlined
            router.dispatch(self, req)
        else:
            self.pipeline.append(req)
            if len(self.pipeline) > 16:
                self.set_pause(P_PIPELINE, True)

    def _raw_head(self, method: bytes) -> bytes | None:
        """The request line and header lines as received, when this message starts the current read,
        its head is whole in it and every header is forwarded as is (the usual case): one slice
        instead of joining four pieces per header. llhttp has refused a bare CR or LF and folded
        lines, so the first blank line ends the head. The request line must be exactly
        ``method SP target SP HTTP/1.1``: with any extra byte in it, the CRLF is not where that
        length puts it."""
        data = self.data
        k = len(method) + len(self.url) + 10
        if not data.startswith(b"\r\n", k):
            return None
        end = data.find(b"\r\n\r\n", k)
        return data[:end + 2] if end >= 0 else None

    def _drop_connection_listed(self) -> None:
        """Fields named in Connection are hop-by-hop too (RFC 9110 7.6.1), except the ones that frame
        the message: dropping Content-Length but forwarding the body would smuggle it upstream as a
        request of its own."""
        listed = {t.strip().lower() for t in (self.conn_hdr or b"").split(b",")} - _FRAMING
        parts = self.header_parts
        self.header_parts = [b for i in range(0, len(parts), 4) if parts[i].lower() not in listed
                       for b in parts[i:i + 4]]

    def on_body(self, chunk: bytes) -> None:
        self.unparsed = 0
        req = self.parsing
        if req.body_bytes + len(chunk) > self.router.max_body_bytes:
            self.error = 413
            raise _Abort
        req.feed(chunk)

    def on_message_complete(self) -> None:
        self.in_msg = False
        self.unparsed = 0
        req = self.parsing
        if req is None:
            return
        req.body_done = True
        if req.sink is not None:
            req.sink.body_end()

    # request lifecycle ---------------------------------------------------------------------
    def start(self, req: Request) -> None:
        self.current = req
        self.router.dispatch(self, req)

    def set_pause(self, bit: int, on: bool) -> None:
        before = self.paused
        self.paused = (before | bit) if on else (before & ~bit)
        if self.transport is None or self.closed:
            return
        if before and not self.paused:
            self.transport.resume_reading()
        elif not before and self.paused:
            self.transport.pause_reading()

    def write(self, data: bytes) -> None:
        self.transport.write(data)

    def finish(self, keep_alive: bool) -> None:
        """The response for ``current`` is complete: close, or move on to the next request."""
        req = self.current
        self.current = None
        self.exchange = None
        self.last_active = self.router.now
        if self.closed:
            return
        if (not keep_alive or req is None or not req.body_done or self.router.shutting_down
                or req.upgrade  # an upgrade not taken (no 101): the parser stopped at it
                or self.broken and not self.pipeline):
            self.transport.close()
            return
        if self.header_started:  # a pipelined head still arriving: its read time starts now
            self.header_started = self.router.now
        if self.pipeline:
            self.set_pause(P_PIPELINE, len(self.pipeline) > 17)
            self.start(self.pipeline.popleft())

    def respond_error(self, status: int, message: str, request_id: str, *, retry_after: float | None = None,
                      close: bool = False, log: bool = True) -> None:
        req = self.current
        keep = not close and req is not None and req.keep_alive and req.body_done
        data = error_response(status, message, request_id, retry_after=retry_after, close=not keep)
        self.write(head_only(data) if req is not None and req.method == b"HEAD" else data)
        if log and req is not None:
            self.router.log_local(req, status)
        self.finish(keep)

    def respond(self, data: bytes, status: int, keep: bool) -> None:
        """Write a complete locally generated response (status pages, admin)."""
        req = self.current
        self.write(head_only(data) if req is not None and req.method == b"HEAD" else data)
        if req is not None:
            self.router.log_local(req, status)
        self.finish(keep and req is not None and req.keep_alive)

    def protocol_error(self, exc: Exception | None) -> None:
        status = self.error or 400
        messages = {
            400: "Malformed HTTP request",
            413: "Request body exceeds the router's limit",
            431: "Request headers exceed the router's limit",
            501: "CONNECT is not supported: this is a reverse proxy",
        }
        req = self.parsing
        current = self.current
        if current is not None and current.body_done and not self.closed:
            # A later message is malformed; the one being answered was whole. Answer it and the ones
            # queued before the bad one (which is dropped), then close.
            if req is not current and not req.body_done and req in self.pipeline:
                self.pipeline.remove(req)  # the bad part was this request's body
            self.broken = True
            return
        # the request whose body was bad, or a new id for a head that never became a request
        rid = req.request_id if req is not None and not req.body_done else new_request_id()
        started = False
        if self.exchange is not None:
            started = self.exchange.abandon(status)
            self.exchange = None
        else:
            self.router.stats.observe(status, 0.0)
        if not self.closed:
            if not started:
                self.transport.write(error_response(status, messages.get(status, "Bad request"), rid, close=True))
            self.transport.close()
        self.closed = True

    def sweep(self, now: float, t: Any) -> None:
        """Timeouts, checked a few times a second by the router instead of a timer per request."""
        if self.closed or self.tunnel is not None and now - self.last_active < t.idle:
            return
        if self.header_started and now - self.header_started > t.header_read and self.current is None:
            self.error = 408
            self.router.stats.observe(408, 0.0)
            self.transport.write(error_response(408, "Request headers not received in time",
                                                new_request_id(), reason="timeout", close=True))
            self.transport.close()
            self.closed = True
        elif self.current is None and not self.header_started:
            if now - self.last_active > t.client_keepalive or self.router.shutting_down:
                self.transport.close()
        elif now - self.last_active > t.idle:
            self.transport.abort()
