"""Header rules: hop-by-hop removal, forwarding headers, request ids, trusted client ip."""

from __future__ import annotations

import ipaddress
import os
import re
from http import HTTPStatus
from typing import Any

# RFC 9110 7.6.1 connection-specific fields, plus the legacy proxy ones.
HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding",
    b"upgrade", b"proxy-authenticate", b"proxy-authorization",
})
FORWARDING = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"x-request-id",
                        b"forwarded", b"x-real-ip"})

# Request headers the parser looks at (router/server.py); everything else is copied through untouched.
WATCHED = HOP_BY_HOP | FORWARDING | {b"content-length", b"host", b"idempotency-key"}

_SANE_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")
_PREFIX = os.urandom(6).hex().encode()
_LOW_HEX = tuple(b"%02x" % i for i in range(256))


class RequestIds:
    """Request ids unique per process without a syscall or uuid4 per request: a random prefix and
    a counter in hex. Formatting bytes is slow (~2,500 instructions), so the counter's high digits
    are formatted once per 256 ids and the low two looked up; a class rather than module globals,
    which the compiled build would look up in the module's dict on every call."""

    __slots__ = ("count", "stem")

    def __init__(self, start: int = 1) -> None:
        self.count = start
        self.stem = b"%s%08x" % (_PREFIX, start >> 8)

    def next(self) -> bytes:
        n = self.count
        self.count = n + 1
        low = n & 0xFF
        if low == 0:
            self.stem = b"%s%08x" % (_PREFIX, n >> 8)
        return self.stem + _LOW_HEX[low]


new_request_id_bytes = RequestIds().next


def new_request_id() -> str:
    return new_request_id_bytes().decode()


def sane_request_id(value: bytes | None) -> bool:
    return value is not None and _SANE_ID.fullmatch(value) is not None


STATUS_LINES: dict[int, bytes] = {
    s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode() for s in HTTPStatus
}


def status_line(status: int) -> bytes:
    line = STATUS_LINES.get(status)
    if line is None:
        line = f"HTTP/1.1 {status} Status\r\n".encode()
    return line


class TrustedProxies:
    """Decides whether a peer's X-Forwarded-* headers are believed."""

    def __init__(self, cidrs: tuple[str, ...]) -> None:
        self.nets = [ipaddress.ip_network(c, strict=False) for c in cidrs]
        self._cache: dict[str, bool] = {}

    def trusted(self, ip: str) -> bool:
        hit = self._cache.get(ip)
        if hit is None:
            try:
                addr = ipaddress.ip_address(ip)
                hit = any(addr in n for n in self.nets)
            except ValueError:
                hit = False
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[ip] = hit
        return hit

    def client_ip(self, peer: str, xff: bytes | None) -> str:
        """Walk X-Forwarded-For right to left past trusted hops; the first untrusted one is the client."""
        if not xff or not self.trusted(peer):
            return peer
        hops = [h.strip() for h in xff.decode("latin-1").split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.trusted(hop):
                return hop
        return hops[0] if hops else peer


def cookie_value(header: bytes, name: bytes) -> bytes | None:
    """The value of cookie ``name`` in a Cookie header, for hashing on it."""
    for part in header.split(b";"):
        k, _, v = part.strip().partition(b"=")
        if k == name:
            return v
    return None


def local_authority(transport: Any) -> bytes:
    """``host:port`` a client connected to: the Host of an HTTP/1.0 request that sent none."""
    sock = transport.get_extra_info("sockname")
    if not sock:
        return b"localhost"
    host = f"[{sock[0]}]" if ":" in sock[0] else sock[0]
    return f"{host}:{sock[1]}".encode()
