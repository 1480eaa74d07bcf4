"""Writes `docs/openapi.json` (OpenAPI 3.1) from the function groups' routes and auth levels.

Generated ahead of time rather than at request time so the health function, which serves it,
does not import every group. A test regenerates it and compares.
Usage: `python -m scripts.gen_openapi [--check]`.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
import sys

from starlette.routing import Route

from functions.__main__ import available_groups
from shared.config import PROJECT_ROOT

TARGET = PROJECT_ROOT / "docs" / "openapi.json"
ERROR = {"$ref": "#/components/schemas/Error"}


def _operation(group: str, route: Route, method: str) -> dict:
    endpoint = route.endpoint
    doc = inspect.getdoc(endpoint) or ""
    levels = getattr(endpoint, "auth_levels", ("pub",))
    summary = doc.splitlines()[0] if doc else endpoint.__name__.replace("_", " ")
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"\{(\w+)(?::\w+)?\}", route.path)
    ]
    op: dict = {
        "tags": [group],
        "operationId": f"{group}_{endpoint.__name__}_{method.lower()}",
        "summary": summary,
        "x-auth": list(levels),
        "responses": {
            "200": {"description": "success envelope", "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Success"}}}},
            "4XX": {"description": "error envelope", "content": {"application/json": {"schema": ERROR}}},
        },
    }
    if params:
        op["parameters"] = params
    if set(levels) - {"pub", "opt"}:
        op["security"] = [{"bearer": []}]
    elif "opt" in levels:
        op["security"] = [{}, {"bearer": []}]
    return op


def render() -> str:
    paths: dict[str, dict] = {}
    for group in available_groups():
        module = importlib.import_module(f"functions.{group}")
        for route in module.routes:
            if not isinstance(route, Route):
                continue
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
            for method in sorted((route.methods or set()) - {"HEAD"}):
                paths.setdefault(path, {})[method.lower()] = _operation(group, route, method)
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "Tridmo API", "version": "1.0.0",
                 "description": "3D furniture and interior-design platform. See api-contract.md."},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": {
                "Success": {"type": "object", "required": ["success", "data"], "properties": {
                    "success": {"const": True}, "data": {}, "message": {"type": "string"}}},
                "Error": {"type": "object", "required": ["success", "message", "reason"], "properties": {
                    "success": {"const": False}, "message": {"type": "string"}, "reason": {"type": "string"},
                    "request_id": {"type": "string"},
                    "error": {"type": "object", "properties": {"status": {"type": "integer"}}},
                    "errors": {"type": "array", "items": {"type": "object", "properties": {
                        "field": {"type": "string"}, "message": {"type": "string"}}}}}},
            },
        },
    }
    return json.dumps(spec, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            print("docs/openapi.json is out of date: run python -m scripts.gen_openapi", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
