"""The auth routes answer identically through the Lambda handler for every event source."""

from __future__ import annotations

import uuid

import pytest

from functions.auth import handler as auth_handler
from functions.health import handler as health_handler
from tests.support.lambda_events import EVENT_KINDS, FakeContext, make_event, response_headers, response_json


def call(handler, kind, method, url, **kwargs):
    return handler(make_event(kind, method, url, **kwargs), FakeContext())


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_auth_flow_through_lambda(kind, database):
    email = f"lambda-{uuid.uuid4().hex[:8]}@example.com"
    signup = call(auth_handler, kind, "POST", "/api/auth/signup",
                  body={"full_name": "Lambda User", "email": email, "password": "lambda-pass-1"})
    assert signup["statusCode"] == 201, signup
    signin = call(auth_handler, kind, "POST", "/api/auth/signin", body={"email": email, "password": "lambda-pass-1"})
    assert signin["statusCode"] == 200
    tokens = response_json(signin)["data"]["token"]
    verify = call(auth_handler, kind, "GET", "/api/auth/verify",
                  headers={"authorization": f"Bearer {tokens['accessToken']}"})
    assert verify["statusCode"] == 200
    assert response_json(verify)["data"]["user"]["email"] == email
    refreshed = call(auth_handler, kind, "POST", "/api/auth/refreshToken", body={"token": tokens["refreshToken"]})
    assert refreshed["statusCode"] == 200
    reused = call(auth_handler, kind, "POST", "/api/auth/refreshToken", body={"token": tokens["refreshToken"]})
    assert reused["statusCode"] == 401
    assert response_json(reused)["reason"] == "unauthorized"
    assert response_headers(reused)["x-request-id"]


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_errors_and_base64_bodies_through_lambda(kind, database):
    json_type = {"content-type": "application/json"}
    bad = call(auth_handler, kind, "POST", "/api/auth/signin", body='{"email":', headers=json_type)
    assert bad["statusCode"] == 400 and response_json(bad)["errors"][0]["field"] == "body"
    # a binary (base64) body decodes the same as a text one
    raw = b'{"email": "nobody@example.com", "password": "whatever-1"}'
    r = call(auth_handler, kind, "POST", "/api/auth/signin", body=raw, headers=json_type)
    assert r["statusCode"] == 401
    health = call(health_handler, kind, "GET", "/health/?x=1", headers={"x-request-id": "lambda-req"})
    assert health["statusCode"] == 200 and response_json(health)["status"] == "ok"
    assert response_headers(health)["x-request-id"] == "lambda-req"
