"""The router's own endpoints under ``/__router/``: status, metrics, liveness and the admin API.

Admin calls are authorised by ``Authorization: Bearer $ROUTER_ADMIN_TOKEN`` when that variable is
set, and only from loopback clients when it is not, so an unconfigured router never exposes
control of the fleet to the network.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .errors import error_response, simple_response
from .status import render_html, render_metrics, snapshot

if TYPE_CHECKING:
    from .core import RouterCore
    from .request import Request
    from .server import Downstream

MAX_ADMIN_BODY = 64 * 1024


class InternalRequest:
    """Collects the (small) body, then answers; acts as the request's body sink."""

    __slots__ = ("router", "down", "req", "chunks", "size")

    def __init__(self, router: RouterCore, down: Downstream, req: Request) -> None:
        self.router = router
        self.down = down
        self.req = req
        self.chunks: list[bytes] = []
        self.size = 0
        pending = req.attach(self) or []
        for c in pending:
            self.body(c)
        if req.body_done:
            self.body_end()

    def body(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size <= MAX_ADMIN_BODY:
            self.chunks.append(chunk)

    def body_end(self) -> None:
        self.req.sink = None
        if self.down.closed:
            return
        req = self.req
        if self.size > MAX_ADMIN_BODY:
            self.down.respond_error(413, "Admin request body too large", req.request_id)
            return
        try:
            status, data = self.handle(b"".join(self.chunks))
        except (ValueError, KeyError, TypeError) as exc:
            status, data = 400, error_response(400, f"Invalid admin request: {exc}", req.request_id)
        self.down.respond(data, status, keep=True)

    def handle(self, body: bytes) -> tuple[int, bytes]:
        req = self.req
        rid = req.request_id
        parts = urlsplit(req.url.decode("latin-1"))
        path = parts.path.rstrip("/")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        method = req.method
        accept = self.header(b"accept")
        if path == "/__router/status" and method in (b"GET", b"HEAD"):
            snap = snapshot(self.router)
            if query.get("format") == "json" or b"application/json" in accept:
                return 200, simple_response(200, "application/json", json.dumps(snap).encode(), rid)
            return 200, simple_response(200, "text/html; charset=utf-8", render_html(snap), rid)
        if path == "/__router/metrics" and method in (b"GET", b"HEAD"):
            text = render_metrics(self.router)
            if self.router.worker_metrics is not None:  # --workers: answer for all of them
                text = self.router.worker_metrics.collect(text)
            return 200, simple_response(200, "text/plain; version=0.0.4; charset=utf-8", text, rid)
        if path == "/__router/health":
            ok = not self.router.shutting_down
            return (200 if ok else 503), simple_response(
                200 if ok else 503, "application/json", json.dumps({"ok": ok}).encode(), rid)
        if path.startswith("/__router/admin"):
            return self.admin(path[len("/__router/admin"):], method, query, body)
        return 404, error_response(404, f"No router endpoint at {parts.path}", rid)

    def header(self, name: bytes) -> bytes:
        """Slow path: internal endpoints re-scan the head instead of taxing every proxied request."""
        for line in self.req.head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == name:
                return v.strip()
        return b""

    def authorised(self) -> tuple[int, str] | None:
        token = os.environ.get("ROUTER_ADMIN_TOKEN")
        if token:
            given = self.header(b"authorization")
            if not hmac.compare_digest(given, f"Bearer {token}".encode()):
                return 401, "Admin token missing or wrong"
            return None
        if self.down.trusted:  # a proxy on loopback relays requests from anywhere
            return 403, "Admin API through a trusted proxy needs ROUTER_ADMIN_TOKEN"
        try:
            if ipaddress.ip_address(self.down.peer).is_loopback:
                return None
        except ValueError:
            pass
        return 403, "Admin API is open to loopback clients only (set ROUTER_ADMIN_TOKEN)"

    def admin(self, sub: str, method: bytes, query: dict[str, str], body: bytes) -> tuple[int, bytes]:
        rid = self.req.request_id
        denied = self.authorised()
        if denied is not None:
            return denied[0], error_response(denied[0], denied[1], rid)
        params: dict[str, Any] = dict(query)
        if body.strip():
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("body must be a JSON object")
            params.update(data)
        router = self.router
        if sub == "/upstreams" and method == b"GET":
            return self.ok({"upstreams": snapshot(router)["pools"]})
        if sub == "/reload" and method == b"POST":
            msg = router.reload()
            if router.ops_path:  # several workers: the master relays SIGHUP to all of them
                os.kill(os.getppid(), __import__("signal").SIGHUP)
            return self.ok({"result": msg}) if msg == "reloaded" else (400, error_response(400, msg, rid))
        ops = {
            ("/upstreams", b"POST"): "add", ("/upstreams", b"PUT"): "add", ("/upstreams", b"DELETE"): "remove",
            ("/drain", b"POST"): "drain", ("/undrain", b"POST"): "undrain", ("/weight", b"POST"): "weight",
        }
        kind = ops.get((sub, method))
        if kind is None:
            return 404, error_response(404, f"No admin endpoint {method.decode()} {sub or '/'}", rid)
        if "url" not in params:
            raise ValueError("'url' is required")
        op = {"op": kind, **params}
        if kind == "undrain":
            op = {"op": "drain", "url": params["url"], "value": False}
        result = router.publish_op(op)
        if not result.get("ok"):
            return 400, error_response(400, str(result.get("error")), rid)
        return self.ok(result)

    def ok(self, payload: dict[str, Any]) -> tuple[int, bytes]:
        return 200, simple_response(200, "application/json", json.dumps(payload).encode(), self.req.request_id)
