"""render.yaml and serverless.yml name real code, and every contract route has exactly one home."""

from __future__ import annotations

import importlib
import re

import pytest
import yaml
from starlette.routing import Match, Route

from shared.config import PROJECT_ROOT

CONTRACT = [
    tuple(line.split())
    for line in (PROJECT_ROOT / "tests" / "data" / "contract_routes.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


def _serverless() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "serverless.yml").read_text())


def _concrete(path: str) -> str:
    return re.sub(r":(\w+)", r"sample-\1", path)


def _api_gateway_matches(template: str, path: str) -> bool:
    pattern = re.sub(r"\\\{\w+\\\+\\\}", ".+", re.escape(template))
    pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", pattern)
    return re.fullmatch(pattern, path) is not None


def test_render_blueprint_names_real_commands():
    blueprint = yaml.safe_load((PROJECT_ROOT / "render.yaml").read_text())
    web = next(s for s in blueprint["services"] if s["name"] == "tridmo-api")
    assert web["healthCheckPath"] == "/health"
    assert "shared.migrate" in web["preDeployCommand"]
    assert "-m functions" in web["startCommand"]
    secrets = [v for v in web["envVars"] if "sync" in v]  # on the service: Render ignores sync in groups
    assert secrets and all(v["sync"] is False for v in secrets)
    for module in ("functions.__main__", "shared.migrate", "router.__main__"):
        importlib.import_module(module)


def test_serverless_is_generated_from_the_code():
    from scripts.gen_serverless import render

    assert (PROJECT_ROOT / "serverless.yml").read_text() == render(), "run python -m scripts.gen_serverless"


def test_every_serverless_handler_imports():
    config = _serverless()
    assert config["package"]["individually"] is True
    assert config["provider"]["runtime"] == "python3.12" and config["provider"]["architecture"] == "arm64"
    for name, fn in config["functions"].items():
        module_path, attr = fn["handler"].rsplit(".", 1)
        module = importlib.import_module(module_path.replace("/", "."))
        assert callable(getattr(module, attr)), name


def test_every_function_packages_files_that_exist():
    """A group that became a package (`functions/<group>/`) must not be packaged as `<group>.py`."""
    for name, fn in _serverless()["functions"].items():
        for pattern in fn.get("package", {}).get("patterns", []):
            assert next(PROJECT_ROOT.glob(pattern), None) is not None, f"{name}: {pattern} matches nothing"


@pytest.mark.parametrize("method, path", CONTRACT, ids=[f"{m} {p}" for m, p in CONTRACT])
def test_contract_route_belongs_to_exactly_one_function(method, path):
    concrete = _concrete(path)
    owners = [
        name
        for name, fn in _serverless()["functions"].items()
        for event in fn.get("events", [])
        if "httpApi" in event
        and event["httpApi"]["method"] == method
        and _api_gateway_matches(event["httpApi"]["path"], concrete)
    ]
    # literal paths win over {param} ones, as in Starlette: keep the most specific owner
    exact = [n for n in owners if any(
        e["httpApi"]["path"] == concrete for e in _serverless()["functions"][n]["events"] if "httpApi" in e)]
    owners = exact or owners
    assert len(set(owners)) == 1, f"{method} {path} served by {owners or 'no function'}"
    module = importlib.import_module(f"functions.{owners[0]}")
    scope = {"type": "http", "method": method, "path": concrete, "root_path": ""}
    assert any(isinstance(r, Route) and r.matches(scope)[0] == Match.FULL for r in module.routes)


def test_openapi_is_generated_from_the_code_and_covers_the_contract():
    import json

    from scripts.gen_openapi import TARGET, render

    assert TARGET.read_text() == render(), "run python -m scripts.gen_openapi"
    paths = json.loads(TARGET.read_text())["paths"]
    for method, path in CONTRACT:
        template = re.sub(r":(\w+)", r"{\1}", path)
        candidates = [p for p in paths if _api_gateway_matches(p, _concrete(path))]
        assert any(method.lower() in paths[p] for p in candidates), f"{method} {template} missing from OpenAPI"


async def test_openapi_is_served(client):
    r = await client.get("/api/openapi.json")
    assert r.status_code == 200 and r.json()["openapi"] == "3.1.0"


def test_api_gateway_paths_have_one_variable_name_per_position():
    seen: dict[tuple[str, ...], str] = {}
    for fn in _serverless()["functions"].values():
        for event in fn.get("events", []):
            if "httpApi" not in event:
                continue
            prefix: tuple[str, ...] = ()
            for segment in event["httpApi"]["path"].strip("/").split("/"):
                if segment.startswith("{"):
                    assert seen.setdefault(prefix, segment) == segment, event["httpApi"]["path"]
                    prefix = (*prefix, "{}")
                else:
                    prefix = (*prefix, segment)
