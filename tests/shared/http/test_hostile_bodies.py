"""Hostile bodies cost the API next to nothing: parsing is linear and bounded, and what it refuses
is a 400 naming the body, never a 500 (tried on a public route, `POST /api/auth/signin`)."""

from __future__ import annotations

import time

import pytest

from shared.http.validation import MAX_FORM_FIELDS, form_to_dict

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(("headers", "body"), [
    (FORM, b"&".join([b"email=a"] * 120_000)), # ~1 MiB of one repeated key
    (JSON, b"[" * 500_000 + b"]" * 500_000),
    (JSON, b'{"a":' * 170_000 + b"1" + b"}" * 170_000),
])
async def test_hostile_body_to_a_public_route_is_a_quick_400(client, headers, body):
    started = time.perf_counter()
    r = await client.post("/api/auth/signin", content=body, headers=headers)
    elapsed = time.perf_counter() - started
    assert r.status_code == 400, r.text[:300]
    assert r.json()["errors"][0]["field"] == "body"
    assert elapsed < 1.0, f"{elapsed:.2f} s"  # the quadratic parser took 4.4 s for a third of this


def test_form_pairs_collapse_in_linear_time():
    pairs = [("a[]", "1")] * (MAX_FORM_FIELDS * 50)
    started = time.perf_counter()
    collapsed = form_to_dict(pairs)
    assert time.perf_counter() - started < 1.0  # linear: ~30 ms; the quadratic version took minutes
    assert collapsed == {"a": ["1"] * len(pairs)}
    assert form_to_dict([("a", "1"), ("b", "2"), ("b", "3")]) == {"a": "1", "b": ["2", "3"]}


async def test_forms_below_the_field_limit_still_parse(client):
    body = b"&".join([b"email=nobody%40example.com", b"password=wrong-password"] + [b"x=1"] * (MAX_FORM_FIELDS - 3))
    r = await client.post("/api/auth/signin", content=body, headers=FORM)
    assert r.status_code == 401, r.text[:300]  # parsed, then refused as a wrong sign-in
