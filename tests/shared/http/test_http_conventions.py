"""The contract's conventions, the same on every route: envelope, errors, ids, language, headers."""

from __future__ import annotations


async def test_malformed_json_is_400_naming_the_problem(client):
    r = await client.post("/api/auth/signin", content=b'{"email": ', headers={"content-type": "application/json"})
    assert r.status_code == 400
    body = r.json()
    assert body["success"] is False and body["reason"] == "validation"
    assert body["errors"][0]["field"] == "body"
    assert "request_id" in body and body["error"] == {"status": 400}


async def test_wrong_content_type_is_415(client):
    r = await client.post("/api/auth/signin", content=b"email=x", headers={"content-type": "text/plain"})
    assert r.status_code == 415 and r.json()["reason"] == "unsupported_media_type"


async def test_json_body_over_1_mib_is_413(client):
    big = b'{"email": "' + b"a" * (1024 * 1024 + 10) + b'"}'
    r = await client.post("/api/auth/signin", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["reason"] == "payload_too_large"


async def test_unknown_route_is_404_envelope(client):
    r = await client.get("/api/definitely-not-here")
    assert r.status_code == 404
    assert r.json()["reason"] == "not_found" and r.json()["error"]["status"] == 404


async def test_wrong_method_is_405_envelope(client):
    r = await client.delete("/api/auth/signin")
    assert r.status_code == 405 and r.json()["reason"] == "method_not_allowed"


async def test_trailing_slash_is_accepted_without_redirect(client):
    r = await client.get("/api/health/")
    assert r.status_code == 200 and r.json()["status"] == "ok"


async def test_request_id_is_kept_when_sane_and_replaced_otherwise(client):
    r = await client.get("/health", headers={"X-Request-Id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/health", headers={"X-Request-Id": "bad id\twith spaces" + "x" * 200})
    assert r.headers["x-request-id"] != "bad id" and len(r.headers["x-request-id"]) == 32
    r = await client.get("/api/nowhere", headers={"X-Request-Id": "trace-me"})
    assert r.json()["request_id"] == "trace-me"


async def test_language_is_per_request(client):
    en = await client.get("/api/nowhere", headers={"Accept-Language": "en-US,en;q=0.9"})
    ru = await client.get("/api/nowhere")
    fr = await client.get("/api/nowhere", headers={"Accept-Language": "fr"})
    assert en.json()["message"] == "Not found"
    assert ru.json()["message"] == "Не найдено"
    assert fr.json()["message"] == ru.json()["message"]


async def test_security_headers_present(client):
    r = await client.get("/health")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"


async def test_cors_preflight(client):
    r = await client.options(
        "/api/auth/signin",
        headers={"Origin": "https://tridmo.com", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] in ("*", "https://tridmo.com")


async def test_readiness_checks_database(client):
    r = await client.get("/api/health/ready")
    assert r.status_code == 200, r.text
    assert r.json()["checks"]["database"] == "ok"


async def test_metrics_exposes_route_templates(client):
    await client.get("/api/users/check/someone")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert 'route="/api/users/check/{username}"' in r.text
    assert "db_pool_connections_in_use" in r.text
