"""Middleware that only shows in production, tested alone around a trivial app."""

from __future__ import annotations

import json
import logging

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from shared.http.middleware.https_redirect import HTTPSRedirectMiddleware
from shared.http.middleware.security_headers import SecurityHeadersMiddleware
from shared.observability.context import current_request_id
from shared.observability.logging import JsonFormatter


async def hello(request):
    return PlainTextResponse(request.url.scheme)


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.tridmo.com")


async def test_plain_http_behind_proxy_is_redirected_with_method_kept():
    app = HTTPSRedirectMiddleware(Starlette(routes=[Route("/api/x", hello, methods=["GET", "POST"]),
                                                    Route("/health", hello)]))
    async with _client(app) as client:
        r = await client.post("/api/x?a=1", headers={"X-Forwarded-Proto": "http"})
        assert r.status_code == 308 and r.headers["location"] == "https://api.tridmo.com/api/x?a=1"
        r = await client.get("/api/x", headers={"X-Forwarded-Proto": "https"})
        assert r.status_code == 200 and r.text == "https"
        assert (await client.get("/health")).status_code == 200  # probes come over plain HTTP


async def test_forwarded_proto_from_untrusted_peer_is_ignored():
    app = HTTPSRedirectMiddleware(Starlette(routes=[Route("/x", hello)]), trusted_proxies=("10.0.0.1",))
    async with _client(app) as client:
        r = await client.get("/x", headers={"X-Forwarded-Proto": "https"})
        assert r.status_code == 308


async def test_hsts_only_when_enabled():
    inner = Starlette(routes=[Route("/x", hello)])
    async with _client(SecurityHeadersMiddleware(inner, hsts=True)) as client:
        assert "max-age" in (await client.get("/x")).headers["strict-transport-security"]
    async with _client(SecurityHeadersMiddleware(inner)) as client:
        assert "strict-transport-security" not in (await client.get("/x")).headers


def test_log_line_is_json_with_request_id_and_extra_fields():
    token = current_request_id.set("req-42")
    try:
        record = logging.LogRecord("tridmo.access", logging.INFO, __file__, 1, "request", None, None)
        record.route, record.status, record.duration_ms = "/api/models/{identifier}", 200, 3.2
        line = json.loads(JsonFormatter().format(record))
    finally:
        current_request_id.reset(token)
    assert line["request_id"] == "req-42" and line["level"] == "info"
    assert line["route"] == "/api/models/{identifier}" and line["status"] == 200
    assert line["time"].endswith("Z")


def test_error_log_carries_the_stack_server_side():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("tridmo.errors", logging.ERROR, __file__, 1, "unhandled", None, sys.exc_info())
    line = json.loads(JsonFormatter().format(record))
    assert line["error.kind"] == "ValueError" and "boom" in line["error.stack"]


async def test_unexpected_error_is_a_500_envelope_without_stack():
    from shared.http.app import build_app

    async def broken(request):
        raise RuntimeError("secret internals at /srv/app.py line 3")

    async with _client(build_app([Route("/boom", broken)])) as client:
        r = await client.get("/boom", headers={"X-Request-Id": "find-me"})
    assert r.status_code == 500
    body = r.json()
    assert body["reason"] == "internal" and body["request_id"] == "find-me" and body["error"] == {"status": 500}
    assert "secret" not in r.text and "Traceback" not in r.text
