"""`X-Forwarded-Proto` is believed only from `TRUSTED_PROXIES`: anyone else claiming HTTPS over
plain HTTP is redirected, so a client cannot talk the API into skipping HTTPS."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from shared.config import reset_settings
from shared.http.app import build_app


async def scheme(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.url.scheme)


@pytest.fixture
def https_enforced() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("FORCE_HTTPS", "TRUSTED_PROXIES")}
    os.environ.update(FORCE_HTTPS="true", TRUSTED_PROXIES="10.0.0.1")
    reset_settings()
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reset_settings()


@pytest.mark.parametrize(("peer", "status"), [("10.0.0.1", 200), ("198.51.100.7", 308)])
async def test_forwarded_proto_is_believed_only_from_trusted_proxies(https_enforced, peer, status):
    app = build_app([Route("/api/x", scheme)])
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.tridmo.com") as client:
        r = await client.get("/api/x", headers={"X-Forwarded-Proto": "https"})
    assert r.status_code == status
    if status == 308:
        assert r.headers["location"] == "https://api.tridmo.com/api/x"
