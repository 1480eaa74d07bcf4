"""Every function group answers through the real Lambda runtime interface client.

Each group runs as Lambda runs it: `python -m awslambdaric functions.<group>.handler` in a fresh
interpreter, polling a Runtime API stand-in (tests/support/lambda_runtime.py) for an API Gateway
HTTP API (v2) event, with the module's database and local storage. What is asserted is what the
Runtime API receives: the response API Gateway would turn into the HTTP answer, the invocation error
when the handler raises, and the init error when the handler's module cannot be imported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from functions.__main__ import GROUPS
from tests.support.lambda_events import CHEAP_ROUTES, cheap_event, make_event
from tests.support.lambda_runtime import FunctionProcess, RuntimeApi

MARKER_BRAND = "Brand seen through the runtime client"
START_TIMEOUT_S = 90  # 15 interpreters start at once on a shared 2-core machine


def function_env(database: str) -> dict[str, str]:
    """The module's database and the session's local storage directory (tests/conftest.py)."""
    return {"DB_URL": database, "STORAGE_DIR": os.environ["STORAGE_DIR"]}


@pytest.fixture(scope="module")
def environments(database: str) -> Iterator[dict[str, tuple[RuntimeApi, FunctionProcess, str]]]:
    """Every group started at once, each in its own execution environment with its first event queued."""
    with psycopg.connect(database, autocommit=True) as conn:  # shows the functions read this database
        conn.execute("INSERT INTO brands (slug, name) VALUES ('ric-brand', %s)", (MARKER_BRAND,))
    started: dict[str, tuple[RuntimeApi, FunctionProcess, str]] = {}
    try:
        for group in GROUPS:
            api = RuntimeApi(function_arn=f"arn:aws:lambda:eu-central-1:000000000000:function:tridmo-{group}").start()
            request_id = api.invoke(cheap_event(group))
            process = FunctionProcess(api, f"functions.{group}.handler", function_env(database),
                                      function_name=f"tridmo-{group}")
            started[group] = (api, process, request_id)
        yield started
    finally:
        for api, process, _ in started.values():
            process.__exit__()
            api.stop()


def test_every_group_has_a_cheap_route() -> None:
    assert sorted(CHEAP_ROUTES) == sorted(GROUPS)


@pytest.mark.parametrize("group", GROUPS)
def test_group_answers_through_the_runtime_client(group: str, environments: dict[str, Any]) -> None:
    api, process, request_id = environments[group]
    posted = process.answer(request_id, timeout=START_TIMEOUT_S)
    assert posted.kind == "response", (group, posted.body[:2000], process.output())
    response = posted.json()
    status, reason = CHEAP_ROUTES[group][3:]
    assert response["statusCode"] == status, (group, response)
    headers = {k.lower(): v for k, v in response["headers"].items()}
    assert headers["x-request-id"] == f"ric-{group}"
    assert headers["content-type"].startswith("application/json")
    body = json.loads(response["body"])
    if group == "health":
        assert body["status"] == "ok" and body["version"], body
    elif status < 400:
        assert body["success"] is True and "data" in body, body
        if group == "brands":
            assert MARKER_BRAND in response["body"], body
    else:
        assert body["success"] is False and body["reason"] == reason, body
        assert body["error"] == {"status": status} and body["request_id"] == f"ric-{group}", body
    # the environment stays warm: a second event is answered by the same process
    again = process.answer(api.invoke(cheap_event(group)), timeout=30)
    assert again.kind == "response" and again.json()["statusCode"] == status
    assert process.process.poll() is None


def test_a_raising_handler_posts_an_invocation_error(database: str) -> None:
    """Mangum raises on an event no AWS trigger sends; the runtime reports it and keeps the environment."""
    with RuntimeApi() as api, FunctionProcess(api, "functions.health.handler", function_env(database)) as process:
        request_id = api.invoke({"not": "an http event"})
        posted = process.answer(request_id, timeout=60)
        assert posted.kind == "error", (posted.body, process.output())
        error = posted.json()
        assert error["errorType"] == "RuntimeError" and "infer a handler" in error["errorMessage"], error
        assert error["requestId"] == request_id and error["stackTrace"], error
        after = process.answer(api.invoke(make_event("v2", "GET", "/health")), timeout=30)
        assert after.kind == "response" and after.json()["statusCode"] == 200
        assert api.init_errors == []


@pytest.mark.parametrize(("handler", "env", "error_type", "names"), [
    # production without its secrets refuses to start, and says which settings are missing
    ("functions.health.handler", {"APP_ENV": "production", "DB_URL": ""}, "ConfigError", "DB_URL is not set"),
    # a package missing a module (what a bad build does)
    ("functions.no_such_group.handler", {}, "Runtime.ImportModuleError", "functions.no_such_group"),
])
def test_a_module_that_fails_to_import_posts_an_init_error(handler: str, env: dict[str, str], error_type: str,
                                                         names: str) -> None:
    with RuntimeApi() as api, FunctionProcess(api, handler, env) as process:
        request_id = api.invoke(make_event("v2", "GET", "/health"))
        posted = api.init_error(timeout=30)
        assert posted.json()["errorType"] == error_type, (posted.body, process.output())
        assert posted.headers["lambda-runtime-function-error-type"] == error_type
        assert names in posted.json()["errorMessage"], posted.body
        assert process.process.wait(30) != 0  # the runtime exits; Lambda starts a fresh environment
        assert api.polls == 0
        with pytest.raises(RuntimeError, match="failed its init"):
            api.result(request_id, timeout=0.2)
