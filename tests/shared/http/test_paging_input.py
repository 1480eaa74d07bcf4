"""Paging parameters a client made up are a 400 naming the field, never a query that fails (500)."""

from __future__ import annotations

import base64

import msgspec
import pytest

from shared.http.pagination import MAX_OFFSET, encode_cursor


def handmade(*parts: object) -> str:
    """A cursor in the unsigned format a client could read off an old answer and edit."""
    return base64.urlsafe_b64encode(msgspec.json.encode(list(parts))).decode().rstrip("=")


@pytest.mark.parametrize("path", ["/api/models", "/api/interiors"])
@pytest.mark.parametrize("cursor", [
    handmade("created_at", "not a time", "not-a-uuid"),
    handmade("created_at", {"a": 1}, "00000000-0000-0000-0000-000000000000"),
    handmade("created_at"),
    "%%%",
    encode_cursor("created_at", "2026-01-01T00:00:00+00:00", "0000")[:-3] + "AAA",  # tampered
])
async def test_made_up_cursor_is_a_400_naming_cursor(client, path, cursor):
    r = await client.get(path, params={"cursor": cursor})
    assert r.status_code == 400, r.text[:300]
    assert r.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("path", ["/api/models", "/api/interiors", "/api/brands"])
@pytest.mark.parametrize("page", [str(MAX_OFFSET), "10" * 15, "9" * 5000])
async def test_page_beyond_the_offset_cap_is_a_400_naming_page(client, path, page):
    r = await client.get(path, params={"page": page, "limit": "16"})
    assert r.status_code == 400, r.text[:300]
    assert r.json()["errors"][0]["field"] == "page"

