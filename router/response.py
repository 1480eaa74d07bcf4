"""Writing the winning try's response to the client: head rewriting, body framing, end of message.

``ResponseWriter`` is the response half of an ``Exchange`` (a mixin, so the hot path stays plain
attribute access and method calls on one object). It removes hop-by-hop headers, re-frames the body
(``Content-Length`` passed through, anything else re-chunked for HTTP/1.1 clients or close-delimited
for HTTP/1.0), and holds the head until the end of the current upstream read so that head and a
small body leave in one segment. Interim responses (102, 103 Early Hints) are passed on as they come.
"""

from __future__ import annotations

from typing import Any

from .attempt import ExchangeBase
from .headers import HOP_BY_HOP, status_line

# How the response body is delimited on the upstream side.
LENGTH, CHUNKED, EOF, NOBODY = 0, 1, 2, 3
_UPGRADE_KEEP = frozenset({b"upgrade", b"connection"})
# Lengths of the names start_response looks for: a name of any other length (Date, Server,
# Content-Type, ...) is none of them, and is not lowercased to find that out.
_WATCHED_LENGTHS = frozenset(len(n) for n in (*HOP_BY_HOP, b"content-length"))


class ResponseWriter(ExchangeBase):
    __slots__ = ("mode", "chunk_out", "keep", "status", "t_headers", "head_buf")

    winner: Any
    finished: bool

    def init_response(self) -> None:
        self.mode = EOF
        self.chunk_out = False
        self.keep = False
        self.status = 0
        self.t_headers = 0.0
        self.head_buf: bytes | None = None

    def start_response(self, status: int, headers: list[tuple[bytes, bytes]], raw: bytes | None) -> None:
        """Set the client's response head: the upstream's own bytes (``raw``, when the connection
        could capture them) if nothing in it needs changing, else rebuilt. It is sent by the first
        body write or by ``flush_head`` at the end of the upstream read."""
        if raw is not None and status >= 200:
            req = self.req
            if req.http11 and req.keep_alive and not self.router.shutting_down:
                mode = EOF
                for name, _ in headers:
                    if len(name) not in _WATCHED_LENGTHS:
                        continue
                    ln = name.lower()
                    if ln in HOP_BY_HOP:
                        break
                    if ln == b"content-length":
                        mode = LENGTH
                else:
                    if req.method == b"HEAD" or status in (204, 304):
                        mode = NOBODY
                    if mode != EOF:  # framed by Content-Length or bodiless: nothing to add or drop
                        self.mode = mode
                        self.keep = True
                        self.head_buf = raw
                        return
        self.build_head(status, headers)

    def build_head(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        req = self.req
        parts = [status_line(status)]
        mode = EOF
        codings: list[bytes] = []  # transfer codings before chunked, kept when re-chunking
        passed_te = None  # codings that do not end in chunked: passed on, the body close-delimited
        dropped = _hop_by_hop(headers)
        for name, value in headers:
            ln = name.lower()
            if ln in dropped:
                if ln == b"transfer-encoding":
                    listed = [c.strip() for c in value.split(b",") if c.strip()]
                    if listed and listed[-1].lower() == b"chunked":
                        mode = CHUNKED
                        codings += listed[:-1]
                    else:  # llhttp reads such a body to EOF (RFC 9112 6.3), codings and all
                        passed_te = value
                elif status == 101 and ln in _UPGRADE_KEEP:
                    parts += (name, b": ", value, b"\r\n")
                continue
            if ln == b"content-length":
                mode = LENGTH
            parts += (name, b": ", value, b"\r\n")
        keep = req.keep_alive and not self.router.shutting_down
        if req.method == b"HEAD" or status < 200 or status in (204, 304):
            mode = NOBODY
        elif mode != LENGTH:
            if req.http11 and passed_te is None:
                parts.append(b"Transfer-Encoding: " + b", ".join((*codings, b"chunked")) + b"\r\n")
                self.chunk_out = True
            else:
                if passed_te is not None and req.http11:
                    parts += (b"Transfer-Encoding: ", passed_te, b"\r\n")
                keep = False
        self.mode = mode
        self.keep = keep
        if status == 101:
            pass
        elif not keep:
            parts.append(b"Connection: close\r\n")
        elif not req.http11:
            parts.append(b"Connection: keep-alive\r\n")
        parts.append(b"\r\n")
        # Held until the end of this read so head and a small body leave in one segment; flushed by
        # flush_head() after every upstream read, so a streaming (SSE) head is never delayed.
        self.head_buf = b"".join(parts)

    def on_interim(self, a: Any, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        """A 1xx other than 100 and 101: a proxy forwards it (RFC 9110 15.2), to HTTP/1.1 clients only,
        and only before a final response has been chosen."""
        if a.done or self.finished or self.winner is not None or not self.req.http11:
            return
        parts = [status_line(status)]
        dropped = _hop_by_hop(headers)
        for name, value in headers:
            if name.lower() not in dropped:
                parts += (name, b": ", value, b"\r\n")
        parts.append(b"\r\n")
        self.down.write(b"".join(parts))

    def on_body(self, a: Any, chunk: bytes) -> None:
        if a is not self.winner or self.finished:
            return
        down = self.down
        head = self.head_buf
        if head is not None:
            self.head_buf = None
            if self.chunk_out:
                down.transport.writelines((head, b"%x\r\n" % len(chunk), chunk, b"\r\n"))
            elif len(chunk) <= 16384:
                down.transport.write(head + chunk)
            else:
                down.transport.writelines((head, chunk))
        elif self.chunk_out:
            down.transport.writelines((b"%x\r\n" % len(chunk), chunk, b"\r\n"))
        else:
            down.transport.write(chunk)
        down.last_active = self.router.now

    def flush_head(self) -> None:
        head = self.head_buf
        if head is not None:
            self.head_buf = None
            self.down.write(head)

    def write_end(self) -> None:
        """The upstream message ended: send what is held and the last chunk."""
        head = self.head_buf
        if head is not None:
            self.head_buf = None
            self.down.write(head + b"0\r\n\r\n" if self.chunk_out else head)
        elif self.chunk_out:
            self.down.write(b"0\r\n\r\n")


def _hop_by_hop(headers: list[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """The standard hop-by-hop fields plus any the message's Connection header names (RFC 9110 7.6.1)."""
    listed = [token.strip().lower() for name, value in headers if name.lower() == b"connection"
              for token in value.split(b",")]
    return HOP_BY_HOP.union(listed) if listed else HOP_BY_HOP
