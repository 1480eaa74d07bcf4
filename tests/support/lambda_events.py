"""Lambda events as AWS sends them, so tests call `handler(event, context)` like Lambda does.

Shapes follow AWS's documented payloads: API Gateway HTTP API (payload v2), REST API (v1),
Application Load Balancer, and Function URLs (v2 shape with a `lambda-url` domain).
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ALB_TARGET_GROUP = "arn:aws:elasticloadbalancing:eu-central-1:0:targetgroup/t/1"


class FakeContext:
    function_name = "tridmo-test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-central-1:000000000000:function:tridmo-test"
    aws_request_id = "test-request"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _body(body: Any) -> tuple[str | None, bool, dict[str, str]]:
    if body is None:
        return None, False, {}
    if isinstance(body, (dict, list)):
        return json.dumps(body), False, {"content-type": "application/json"}
    if isinstance(body, bytes):
        return base64.b64encode(body).decode(), True, {}
    return body, False, {}


def make_event(
    kind: str, method: str, url: str, *, headers: dict[str, str] | None = None, body: Any = None,
    cookies: list[str] | None = None,
) -> dict[str, Any]:
    parts = urlsplit(url)
    path, query = parts.path, parts.query
    raw_body, is_b64, extra = _body(body)
    hdrs = {"host": "api.tridmo.test", "x-forwarded-proto": "https", **extra}
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    pairs = parse_qsl(query, keep_blank_values=True)
    if kind in ("v2", "url"):
        domain = "abc.lambda-url.eu-central-1.on.aws" if kind == "url" else "abc.execute-api.eu-central-1.amazonaws.com"
        hdrs["host"] = domain
        event: dict[str, Any] = {
            "version": "2.0", "routeKey": "$default" if kind == "url" else f"{method} {path}",
            "rawPath": path, "rawQueryString": query, "headers": hdrs,
            "requestContext": {
                "accountId": "anonymous" if kind == "url" else "000000000000", "apiId": "abc",
                "domainName": domain, "domainPrefix": "abc", "requestId": "r1", "stage": "$default",
                "time": "25/Nov/2026:10:00:00 +0000", "timeEpoch": 1795600000000,
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7",
                         "userAgent": hdrs.get("user-agent", "pytest")},
            },
            "isBase64Encoded": is_b64,
        }
        if cookies:
            event["cookies"] = cookies
        if raw_body is not None:
            event["body"] = raw_body
        return event
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    if cookies:
        hdrs["cookie"] = "; ".join(cookies)
    if kind == "v1":
        return {
            "resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": hdrs,
            "multiValueHeaders": {k: [v] for k, v in hdrs.items()},
            "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
            "multiValueQueryStringParameters": multi or None,
            "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
            "requestContext": {"resourcePath": "/{proxy+}", "httpMethod": method, "path": f"/prod{path}",
                               "stage": "prod", "requestId": "r1", "identity": {"sourceIp": "203.0.113.7"}},
            "body": raw_body, "isBase64Encoded": is_b64,
        }
    if kind == "alb":
        return {
            "requestContext": {"elb": {"targetGroupArn": ALB_TARGET_GROUP}},
            "httpMethod": method, "path": path, "queryStringParameters": {k: v[-1] for k, v in multi.items()},
            "headers": hdrs, "body": raw_body or "", "isBase64Encoded": is_b64,
        }
    raise ValueError(f"unknown event kind {kind}")


def response_json(response: dict[str, Any]) -> Any:
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body) if body else None


def response_headers(response: dict[str, Any]) -> dict[str, str]:
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    for key, values in (response.get("multiValueHeaders") or {}).items():
        headers[key.lower()] = values[-1]
    return headers


EVENT_KINDS = ("v2", "v1", "alb", "url")

# One route per function group that answers on an empty database without any setup: a public list, or a
# protected route refusing an anonymous caller (status, reason). A new group has to add its line
# (tests/deploy/test_lambda_runtime.py checks); bench/coldstart.py times the same events.
SIGNIN = {"email": "nobody@example.com", "password": "not-a-pass-1"}
UPLOAD = {"kind": "model_file", "filename": "a.zip", "size": 10}
CHEAP_ROUTES: dict[str, tuple[str, str, dict[str, Any] | None, int, str | None]] = {
    "health": ("GET", "/api/health", None, 200, None),  # liveness (readiness has a 2 s budget)
    "auth": ("POST", "/api/auth/signin", SIGNIN, 401, "unauthorized"),
    "users": ("GET", "/api/users/designers", None, 200, None),
    "catalog": ("GET", "/api/platforms/model", None, 200, None),
    "brands": ("GET", "/api/brands", None, 200, None),
    "models": ("GET", "/api/models", None, 200, None),
    "downloads": ("GET", "/api/downloads", None, 401, "unauthorized"),
    "uploads": ("POST", "/api/uploads", UPLOAD, 401, "unauthorized"),
    "files": ("PUT", "/api/files/files/x.zip", None, 403, "access_denied"),  # an unsigned upload URL
    "interiors": ("GET", "/api/interiors", None, 200, None),
    "tags": ("POST", "/api/tags", {"interior_id": "x"}, 401, "unauthorized"),
    "engagement": ("GET", "/api/saved/models", None, 401, "unauthorized"),
    "notifications": ("GET", "/api/notifications", None, 401, "unauthorized"),
    "projects": ("GET", "/api/projects", None, 401, "unauthorized"),
    "statistics": ("GET", "/api/statistics/main", None, 200, None),
}


def cheap_event(group: str) -> dict[str, Any]:
    """The group's cheap request as an HTTP API (v2) event, tagged `x-request-id: ric-<group>`."""
    method, path, body, _, _ = CHEAP_ROUTES[group]
    return make_event("v2", method, path, body=body, headers={"x-request-id": f"ric-{group}"})
