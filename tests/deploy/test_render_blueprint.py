"""render.yaml is a Blueprint Render would apply as meant: its spec's rules (render_rules.py), and
what this platform needs from it — the API private behind two router instances, secrets prompted
on the service that uses them, every production setting the code demands, the Datadog Agent and
the cron jobs wired by `fromService`. Each rule is also run on a broken copy, where it must fire."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from router.config import ConfigError, load_config
from shared.config import PROJECT_ROOT, Settings
from shared.config import ConfigError as SettingsError
from tests.deploy.render_rules import blueprint_problems, resolved_env, service_keys

BLUEPRINT = yaml.safe_load((PROJECT_ROOT / "render.yaml").read_text())
ROUTER, API, AGENT = "tridmo-router", "tridmo-api", "tridmo-datadog-agent"
# A production environment the code accepts; required settings are those whose removal it refuses.
PRODUCTION = {
    "NODE_ENV": "production",
    "DB_URL": "postgresql://postgres.ref:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres?sslmode=require",
    "SUPABASE_URL": "https://ref.supabase.co", "SUPABASE_SERVICE_ROLE_KEY": "service-role",
    "SUPABASE_ANON_KEY": "anon", "SUPABASE_JWT_SECRET": "jwt-secret",
    "S3_ACCOUNT_ID": "account", "S3_ACCESS_ID": "access", "S3_SECRET_KEY": "secret",
    "BASE_IMG_URL": "https://img.tridmo.com", "BASE_FILES_URL": "https://files.tridmo.com",
    "URL_SIGNING_SECRET": "signing", "METRICS_TOKEN": "metrics", "ALLOWED_ORIGINS": "https://tridmo.com",
}
# Never a literal in the file: prompted (`sync: false`) or taken from the service that was prompted.
SECRETS = {"DB_URL", "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_JWT_SECRET", "S3_ACCESS_ID", "S3_SECRET_KEY",
           "URL_SIGNING_SECRET", "METRICS_TOKEN", "ADMIN_PASSWORD", "DD_API_KEY", "ROUTER_ADMIN_TOKEN"}
RUNS_OUR_CODE = re.compile(r"python -m (functions|shared)\b")


def required_in_production() -> set[str]:
    Settings.from_env(PRODUCTION)  # raises if the code now demands a setting this test does not know
    required = set()
    for key in PRODUCTION:
        try:
            Settings.from_env({k: v for k, v in PRODUCTION.items() if k != key})
        except SettingsError:
            required.add(key)
    return required


def _services(doc: dict) -> dict[str, dict]:
    return {s["name"]: s for s in doc.get("services", [])}


def _commands(service: dict) -> str:
    return " ; ".join(str(service.get(f, "")) for f in ("buildCommand", "preDeployCommand", "startCommand"))


def project_problems(doc: dict) -> list[str]:
    """What this platform needs from its Blueprint, beyond Render's own rules."""
    services = _services(doc)
    problems = []
    public = sorted(n for n, s in services.items() if s.get("type") == "web")
    if public != [ROUTER]:
        problems.append(f"the router must be the only public (web) service, found {public}")
    if services.get(API, {}).get("type") != "pserv":
        problems.append(f"{API} must be a private service (pserv): reached only through the router")
    router = services.get(ROUTER, {})
    if router.get("numInstances") != 2:
        problems.append(f"{ROUTER} must run 2 instances")
    if router.get("healthCheckPath") != "/__router/health":
        problems.append(f"{ROUTER}: healthCheckPath must be the router's own /__router/health")
    upstream = {k: e.get("fromService", {}) for k, e in service_keys(router).items() if k.startswith("TRIDMO_API_")}
    if {k: (r.get("name"), r.get("property")) for k, r in upstream.items()} != {
            "TRIDMO_API_HOST": (API, "host"), "TRIDMO_API_PORT": (API, "port")}:
        problems.append(f"{ROUTER}: TRIDMO_API_HOST/PORT must come from {API}'s host and port (fromService)")
    required = required_in_production() | {"NODE_ENV"}
    for name, service in services.items():
        env = resolved_env(doc, service)
        for key, entry in env.items():
            if key in SECRETS and "value" in entry:
                problems.append(f"{name}: secret {key} is written in the file")
        if not RUNS_OUR_CODE.search(_commands(service)):
            continue
        missing = sorted(required - set(env))
        if missing:
            problems.append(f"{name} runs our code but lacks production setting(s) {missing}")
        if env.get("NODE_ENV", {}).get("value") != "production":
            problems.append(f"{name}: NODE_ENV must be production")
    agent = services.get(AGENT, {})
    image = str(agent.get("image", {}).get("url", ""))
    if agent.get("type") != "pserv" or not image.startswith("docker.io/datadog/agent"):
        problems.append(f"{AGENT} must be a private service from the datadog/agent image")
    if service_keys(agent).get("DD_API_KEY", {}).get("sync") is not False:
        problems.append(f"{AGENT}: DD_API_KEY must be sync: false")
    dd_host = service_keys(services.get(API, {})).get("DD_AGENT_HOST", {}).get("fromService", {})
    if (dd_host.get("name"), dd_host.get("property")) != (AGENT, "host"):
        problems.append(f"{API}: DD_AGENT_HOST must be {AGENT}'s host (fromService)")
    return problems


def all_problems(doc: Any) -> list[str]:
    problems = blueprint_problems(doc)
    return problems + (project_problems(doc) if not problems else [])


def test_render_yaml_follows_render_spec_and_platform_rules():
    assert all_problems(BLUEPRINT) == []


def _svc(doc: dict, name: str) -> dict:
    return _services(doc)[name]


def _key(doc: dict, service: str, key: str) -> dict:
    return service_keys(_svc(doc, service))[key]


def _secret_into_group(doc: dict) -> None:
    _svc(doc, API)["envVars"] = [e for e in _svc(doc, API)["envVars"] if e.get("key") != "DB_URL"]
    doc["envVarGroups"][0]["envVars"].append({"key": "DB_URL", "sync": False})


def _api_public(doc: dict) -> None:
    """The API as a web service, with every reference to it updated (so only our rule can object)."""
    _svc(doc, API)["type"] = "web"
    for service in doc["services"]:
        for entry in service.get("envVars", []):
            if entry.get("fromService", {}).get("name") == API:
                entry["fromService"]["type"] = "web"


MUTATIONS: dict[str, tuple[Callable[[dict], Any], str]] = {
    "sync false in a group": (_secret_into_group, "inside an environment group"),
    "sync true": (lambda d: _key(d, API, "METRICS_TOKEN").update(sync=True), "sync may only be false"),
    "unknown service type": (lambda d: _svc(d, API).update(type="private"), "is not one of"),
    "unknown field": (lambda d: _svc(d, API).update(healthCheckInterval=30), "not in Render's spec"),
    "schedule on a server": (lambda d: _svc(d, API).update(schedule="* * * * *"), "not in Render's spec"),
    "bad region": (lambda d: _svc(d, ROUTER).update(region="eu-central-1"), "region"),
    "cron without schedule": (lambda d: _svc(d, "tridmo-backup").pop("schedule"), "cron expression"),
    "bad schedule": (lambda d: _svc(d, "tridmo-backup").update(schedule="0 25 * * *"), "cron expression"),
    "pserv on port 10000": (lambda d: _key(d, API, "PORT").update(value="10000"), "port 10000"),
    "reserved port": (lambda d: _key(d, API, "PORT").update(value="18012"), "reserved"),
    "reserved port in a command": (
        lambda d: _svc(d, API).update(startCommand="python -m functions --port 19099"), "reserved"),
    "pserv without PORT": (
        lambda d: _svc(d, API).update(envVars=[e for e in _svc(d, API)["envVars"] if e.get("key") != "PORT"]),
        "must set PORT"),
    "fromService to a missing service": (
        lambda d: _key(d, ROUTER, "TRIDMO_API_HOST")["fromService"].update(name="tridmo-api-oregon"),
        "not a service in this file"),
    "fromService wrong type": (
        lambda d: _key(d, ROUTER, "TRIDMO_API_HOST")["fromService"].update(type="web"), "but tridmo-api is"),
    "fromService bad property": (
        lambda d: _key(d, ROUTER, "TRIDMO_API_HOST")["fromService"].update(property="url"), "property"),
    "fromService host of a cron": (
        lambda d: _key(d, ROUTER, "TRIDMO_API_HOST").update(
            fromService={"type": "cron", "name": "tridmo-backup", "property": "host"}), "no private address"),
    "envVarKey not declared": (
        lambda d: _key(d, "tridmo-sweep", "DB_URL")["fromService"].update(envVarKey="DATABASE_URL"),
        "declares no env var"),
    "unknown group": (lambda d: _svc(d, API)["envVars"][0].update(fromGroup="tridmo-secrets"), "not an envVarGroup"),
    "two sources": (lambda d: _key(d, API, "DB_URL").update(value="x"), "exactly one of"),
    "duplicate key": (lambda d: _svc(d, API)["envVars"].append({"key": "PORT", "value": "8001"}), "twice"),
    "duplicate service": (lambda d: d["services"].append(copy.deepcopy(_svc(d, "tridmo-sweep"))), "used twice"),
    "scaling and numInstances": (lambda d: _svc(d, API).update(numInstances=2), "exclude each other"),
    "image with build": (lambda d: _svc(d, AGENT).update(buildCommand="make"), "no buildCommand"),
    "API public": (_api_public, "only public"),
    "one router": (lambda d: _svc(d, ROUTER).update(numInstances=1), "2 instances"),
    "health forwarded": (lambda d: _svc(d, ROUTER).update(healthCheckPath="/health"), "/__router/health"),
    "upstream hard-coded": (
        lambda d: _key(d, ROUTER, "TRIDMO_API_PORT").pop("fromService") and None
        or _key(d, ROUTER, "TRIDMO_API_PORT").update(value="8000"), "fromService"),
    "required setting missing": (
        lambda d: _svc(d, "tridmo-backup").update(
            envVars=[e for e in _svc(d, "tridmo-backup")["envVars"] if e.get("key") != "METRICS_TOKEN"]),
        "METRICS_TOKEN"),
    "secret written": (
        lambda d: _key(d, API, "S3_SECRET_KEY").pop("sync") and None
        or _key(d, API, "S3_SECRET_KEY").update(value="hunter2"), "written in the file"),
    "not production": (lambda d: d["envVarGroups"][0]["envVars"][0].update(value="staging"), "NODE_ENV"),
    "agent key in file": (
        lambda d: _key(d, AGENT, "DD_API_KEY").pop("sync") and None
        or _key(d, AGENT, "DD_API_KEY").update(value="k"), "DD_API_KEY"),
    "agent not wired": (
        lambda d: _key(d, API, "DD_AGENT_HOST").update(fromService={"type": "pserv", "name": API, "property": "host"}),
        "DD_AGENT_HOST"),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_each_rule_fires_on_a_broken_copy(name):
    mutate, expected = MUTATIONS[name]
    doc = copy.deepcopy(BLUEPRINT)
    mutate(doc)
    problems = all_problems(doc)
    assert any(expected in p for p in problems), f"{name}: no problem mentions {expected!r}: {problems}"


def test_production_settings_are_derived_from_the_code():
    required = required_in_production()
    assert {"DB_URL", "S3_ACCOUNT_ID", "S3_SECRET_KEY", "SUPABASE_URL", "METRICS_TOKEN"} <= required
    assert "BASE_FILES_URL" not in required  # optional settings are not demanded of the Blueprint


def test_every_command_names_real_code_and_installs_a_hashed_lock():
    for service in BLUEPRINT["services"]:
        for module in re.findall(r"python -m ([\w.]+)", _commands(service)):
            if module not in {"compileall", "pip"}:
                assert importlib.util.find_spec(module) is not None, f"{service['name']}: no module {module}"
        if service.get("runtime") == "python":
            locks = re.findall(r"pip install --require-hashes -r (\S+\.lock)", service["buildCommand"])
            assert locks and all((PROJECT_ROOT / lock).is_file() for lock in locks), service["name"]
    jobs = {s["name"]: s for s in BLUEPRINT["services"] if s["type"] == "cron"}
    assert jobs["tridmo-backup"]["startCommand"] == "python -m shared.backup run"
    assert jobs["tridmo-backup"]["schedule"].split()[2:] == ["*", "*", "*"], "nightly"
    assert jobs["tridmo-restore-drill"]["startCommand"] == "python -m shared.backup drill"
    assert jobs["tridmo-restore-drill"]["schedule"].split()[2:4] == ["*", "*"], "weekly"
    assert jobs["tridmo-restore-drill"]["schedule"].split()[4] != "*", "weekly"
    versions = {e["value"] for s in BLUEPRINT["services"] if s.get("runtime") == "python"
                for k, e in resolved_env(BLUEPRINT, s).items() if k == "PYTHON_VERSION"}
    assert len(versions) == 1 and versions.pop().startswith("3.12."), "one Python, the Lambda runtime's minor"


def _router_env(doc: dict) -> dict[str, str]:
    """What Render hands the router: the API's private hostname (suffixed) and its port."""
    api_port = _key(doc, API, "PORT")["value"]
    return {"TRIDMO_API_HOST": "tridmo-api-x7k2", "TRIDMO_API_PORT": api_port}


def test_router_toml_takes_its_upstream_from_the_environment(monkeypatch):
    for key, value in _router_env(BLUEPRINT).items():
        monkeypatch.setenv(key, value)
    cfg = load_config(str(PROJECT_ROOT / "router.toml"))
    [up] = [u for pool in cfg.pools for u in pool.upstreams]
    assert (up.host, up.port) == ("tridmo-api-x7k2", int(_key(BLUEPRINT, API, "PORT")["value"]))
    monkeypatch.delenv("TRIDMO_API_PORT")
    with pytest.raises(ConfigError, match="TRIDMO_API_PORT"):
        load_config(str(PROJECT_ROOT / "router.toml"))


def test_router_process_checks_router_toml_with_render_env():
    cmd = [sys.executable, "-m", "router", "--config", "router.toml", "--check"]
    ok = subprocess.run(cmd, cwd=PROJECT_ROOT, env=_router_env(BLUEPRINT), capture_output=True, text=True)
    assert ok.returncode == 0 and "configuration ok" in ok.stdout, ok.stderr
    unset = subprocess.run(cmd, cwd=PROJECT_ROOT, env={}, capture_output=True, text=True)
    assert unset.returncode != 0 and "TRIDMO_API_HOST is not set" in unset.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - loopback only
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_router_answers_its_health_check_itself_while_the_api_is_down():
    """Render gates a router deploy on healthCheckPath: it must not depend on (or reach) the API."""
    port, dead = _free_port(), _free_port()
    env = {"TRIDMO_API_HOST": "127.0.0.1", "TRIDMO_API_PORT": str(dead), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "router", "--listen", f"127.0.0.1:{port}", "--config", "router.toml"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, body = _get(f"http://127.0.0.1:{port}{_svc(BLUEPRINT, ROUTER)['healthCheckPath']}")
                break
            except OSError:
                assert time.monotonic() < deadline, "router did not start"
                time.sleep(0.1)
        assert status == 200 and json.loads(body) == {"ok": True}
        forwarded, _ = _get(f"http://127.0.0.1:{port}/health")  # the API's path goes to the (dead) API
        assert forwarded >= 500
    finally:
        proc.terminate()
        proc.wait(timeout=30)
