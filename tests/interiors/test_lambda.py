"""A representative set of community routes through each group's Lambda handler, for every event source."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.db import pool as db_pool
from tests.support.lambda_events import EVENT_KINDS, FakeContext, make_event, response_json


@pytest.fixture(scope="module")
def lambda_thread(database):
    """One thread with its own event loop, like a warm Lambda container: Mangum drives that loop,
    so the handler's DB pool lives (and is closed) there, apart from the tests' loop."""
    executor = ThreadPoolExecutor(max_workers=1)
    loop = asyncio.new_event_loop()
    executor.submit(asyncio.set_event_loop, loop).result()
    yield executor

    def close() -> None:
        pool = db_pool._pools.pop(loop, None)
        if pool is not None:
            loop.run_until_complete(pool.close())
        loop.close()

    executor.submit(close).result()
    executor.shutdown()


@pytest.mark.parametrize("kind", EVENT_KINDS)
async def test_community_routes_through_lambda(kind, lambda_thread, designer, make_interior, world):
    from functions import engagement, interiors, notifications, projects, statistics, tags

    interior = await make_interior(designer, name=f"Lambda room {kind}")
    auth = {"authorization": f"Bearer {designer['token']}"}
    cases = [
        (interiors.handler, "GET", f"/api/interiors/?limit=5&categories=[{world['category_id']}]", None, {}, 200),
        (interiors.handler, "GET", f"/api/interiors/{interior['slug']}", None, {}, 200),
        (interiors.handler, "POST", f"/api/interiors/lk/{interior['id']}", None, auth, 200),
        (interiors.handler, "GET", "/api/myinteriors", None, {}, 401),
        (tags.handler, "GET", f"/api/tags/{interior['id']}", None, {}, 200),
        (engagement.handler, "POST", "/api/comments", {"entity_id": interior["id"], "text": "λ"}, auth, 201),
        (engagement.handler, "GET", f"/api/comments?entity_id={interior['id']}", None, {}, 200),
        (notifications.handler, "GET", "/api/notifications/counts", None, auth, 200),
        (projects.handler, "POST", "/api/projects", {"name": "Lambda"}, auth, 201),
        (statistics.handler, "GET", "/api/statistics/main", None, {}, 200),
    ]
    for handler, method, url, body, headers, status in cases:
        event = make_event(kind, method, url, headers=headers, body=body)
        response = await asyncio.wrap_future(lambda_thread.submit(handler, event, FakeContext()))
        assert response["statusCode"] == status, (kind, url, response.get("body"))
        payload = response_json(response)
        assert payload["success"] is (status < 400)
