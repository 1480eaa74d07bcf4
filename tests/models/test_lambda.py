"""A representative set of catalogue routes (list, detail, create with files) through the Lambda
handlers, for API Gateway v2, REST v1, ALB and Function URL events."""

from __future__ import annotations

import uuid

import httpx
import pytest

from functions.auth import handler as auth_handler
from functions.brands import handler as brands_handler
from functions.catalog import handler as catalog_handler
from functions.models import handler as models_handler
from tests.support.files import png_bytes, zip_bytes
from tests.support.lambda_events import EVENT_KINDS, FakeContext, make_event, response_json


def call(handler, kind, method, url, **kwargs):
    return handler(make_event(kind, method, url, **kwargs), FakeContext())


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_models_list_detail_create_through_lambda(kind, database, sql):
    tag = uuid.uuid4().hex[:8]
    brand = sql("INSERT INTO brands (slug, name) VALUES (%s, %s) RETURNING id", (f"l-{tag}", f"L {tag}"))
    brand_id = str(brand[0]["id"])
    category = sql("INSERT INTO categories (name) VALUES (%s) RETURNING id", (f"Lambda {tag}",))[0]["id"]
    email = f"lambda-{tag}@example.com"
    signup = call(auth_handler, kind, "POST", "/api/auth/signup",
                  body={"full_name": "Lambda Brand", "email": email, "password": "lambda-pass-1"})
    assert signup["statusCode"] == 201
    user = response_json(signup)["data"]
    sql("UPDATE profiles SET role_id = 2, brand_id = %s WHERE id = %s", (brand_id, user["user"]["id"]))
    auth = {"authorization": f"Bearer {user['token']['accessToken']}"}

    form = httpx.Request(
        "POST", "http://x/api/models", data={"name": f"Лямбда {tag}", "category_id": str(category)},
        files={"cover": ("c.png", png_bytes(), "image/png"), "file": ("m.zip", zip_bytes(), "application/zip")},
    )
    body = form.read()
    created = call(models_handler, kind, "POST", "/api/models", body=body,
                   headers={**auth, "content-type": form.headers["content-type"]})
    assert created["statusCode"] == 201, response_json(created)
    model = response_json(created)["data"]["model"]
    assert model["brand"]["id"] == brand_id and model["slug"].startswith("lyambda-")

    listed = call(models_handler, kind, "GET", f"/api/models/?brand_id={brand_id}&categories=[{category}]")
    assert listed["statusCode"] == 200
    assert [m["id"] for m in response_json(listed)["data"]["models"]] == [model["id"]]
    detail = call(models_handler, kind, "GET", f"/api/models/{model['slug']}")
    assert detail["statusCode"] == 200 and response_json(detail)["data"]["model"]["id"] == model["id"]
    missing = call(models_handler, kind, "GET", "/api/models/no-such-model")
    assert missing["statusCode"] == 404 and response_json(missing)["reason"] == "not_found"
    brands = call(brands_handler, kind, "GET", f"/api/brands/l-{tag}")
    assert response_json(brands)["data"]["brand"]["models_count"] == 1
    colors = call(catalog_handler, kind, "GET", "/api/colors")
    assert colors["statusCode"] == 200 and isinstance(response_json(colors)["data"], list)
