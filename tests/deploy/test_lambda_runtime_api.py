"""The Runtime API stand-in answers the documented status codes, so a client bug shows as it would on Lambda."""

from __future__ import annotations

import http.client
import json
import threading

import pytest

from tests.support.lambda_runtime import MAX_RESPONSE_BYTES, RuntimeApi

PREFIX = "/2018-06-01/runtime"


def call(api: RuntimeApi, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(api.address, timeout=10)
    try:
        conn.request(method, PREFIX + path, body, headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.fixture
def api():
    with RuntimeApi(function_arn="arn:aws:lambda:eu-central-1:000000000000:function:probe") as runtime:
        yield runtime


def test_next_long_polls_until_an_event_is_queued(api: RuntimeApi) -> None:
    got: list[tuple[int, dict[str, str], bytes]] = []
    poller = threading.Thread(target=lambda: got.append(call(api, "GET", "/invocation/next")))
    poller.start()
    poller.join(0.3)
    assert poller.is_alive() and not got  # nothing queued: the request waits
    request_id = api.invoke({"hello": "runtime"})
    poller.join(5)
    status, headers, body = got[0]
    assert status == 200 and json.loads(body) == {"hello": "runtime"}
    assert headers["lambda-runtime-aws-request-id"] == request_id
    assert headers["lambda-runtime-invoked-function-arn"].endswith(":function:probe")
    assert int(headers["lambda-runtime-deadline-ms"]) > 0 and headers["lambda-runtime-trace-id"].startswith("Root=1-")
    assert call(api, "POST", f"/invocation/{request_id}/response", b'{"statusCode": 204}')[0] == 202
    assert api.result(request_id, timeout=1).json() == {"statusCode": 204}


def test_answers_out_of_turn_are_refused(api: RuntimeApi) -> None:
    assert call(api, "POST", "/invocation/no-such-id/response", b"{}")[0] == 400
    queued = api.invoke({})
    assert call(api, "POST", f"/invocation/{queued}/response", b"{}")[0] == 403  # not handed out yet
    status, headers, _ = call(api, "GET", "/invocation/next")
    request_id = headers["lambda-runtime-aws-request-id"]
    assert call(api, "POST", f"/invocation/{request_id}/response", b"x" * (MAX_RESPONSE_BYTES + 1))[0] == 413
    error = json.dumps({"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}).encode()
    assert call(api, "POST", f"/invocation/{request_id}/error", error)[0] == 202
    assert call(api, "POST", f"/invocation/{request_id}/response", b"{}")[0] == 403  # already answered
    assert api.result(request_id, timeout=1).kind == "error"
    # once the runtime has polled for work its init is over: an init error now is a state error
    assert call(api, "POST", "/init/error", b"{}", {"Lambda-Runtime-Function-Error-Type": "X"})[0] == 403
    assert api.init_errors == []
    assert call(api, "GET", "/invocation/other")[0] == 404
