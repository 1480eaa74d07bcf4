"""The bare Lambda function bench/coldstart.py measures every group against, in the same run.

It imports nothing and answers a constant, so its first answered event is what Python, the runtime
interface client and the Runtime API round trip cost before any of our code runs.
"""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{}"}
