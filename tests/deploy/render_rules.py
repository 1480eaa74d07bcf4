"""The rules of Render's Blueprint spec (render.com/docs/blueprint-spec and its JSON schema) that
this project's render.yaml can break, as one function returning every problem it finds.

Kept apart from the test so the test can run it on the real file and on broken copies: a rule
that never fires on a broken copy is not checking anything.
"""

from __future__ import annotations

import re
from typing import Any

TOP_LEVEL = {"services", "databases", "envVarGroups", "projects", "ungrouped", "previews", "version"}
SERVICE_TYPES = {"web", "pserv", "worker", "cron", "keyvalue", "redis"}
RUNTIMES = {"docker", "elixir", "go", "image", "node", "python", "ruby", "rust", "static"}
REGIONS = {"oregon", "ohio", "frankfurt", "singapore", "virginia"}
PLANS = {"free", "starter", "standard", "pro", "pro plus", "pro max", "pro ultra"}
COMMON_FIELDS = {
    "type", "name", "region", "plan", "runtime", "repo", "branch", "image", "rootDir", "envVars",
    "buildCommand", "startCommand", "preDeployCommand", "dockerCommand", "dockerContext", "dockerfilePath",
    "registryCredential", "autoDeploy", "autoDeployTrigger", "buildFilter",
}
SERVER_FIELDS = COMMON_FIELDS | {
    "numInstances", "healthCheckPath", "scaling", "domain", "domains", "initialDeployHook", "disk",
    "previews", "maintenanceMode", "maxShutdownDelaySeconds", "ipAllowList", "renderSubdomainPolicy",
}
CRON_FIELDS = COMMON_FIELDS | {"schedule"}
SCALING_FIELDS = {"minInstances", "maxInstances", "targetCPUPercent", "targetMemoryPercent"}
# fromService properties; host/port/hostport exist only for services with a private address.
SERVICE_PROPERTIES = {"host", "port", "hostport", "connectionString"}
ADDRESSED_TYPES = {"web", "pserv"}
# Render's private network refuses these ports; 10000 is the public port of web services.
RESERVED_PORTS = {18012, 18013, 19099}
PUBLIC_ONLY_PORT = 10000
CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _cron_field_ok(field: str, low: int, high: int) -> bool:
    for part in field.split(","):
        base, _, step = part.partition("/")
        if step and not step.isdigit():
            return False
        if base == "*":
            continue
        first, _, last = base.partition("-")
        for bound in (first, last or first):
            if not bound.isdigit() or not low <= int(bound) <= high:
                return False
    return True


def cron_ok(schedule: Any) -> bool:
    fields = str(schedule).split()
    return len(fields) == 5 and all(_cron_field_ok(f, lo, hi) for f, (lo, hi) in zip(fields, CRON_RANGES, strict=True))


def env_entry_problems(where: str, entry: Any, *, in_group: bool) -> list[str]:
    """One envVars item: exactly one source, and the keys that source allows."""
    if not isinstance(entry, dict):
        return [f"{where}: an env var entry must be a mapping"]
    if "fromGroup" in entry:
        if in_group:
            return [f"{where}: fromGroup cannot stand inside an environment group"]
        return [] if set(entry) == {"fromGroup"} else [f"{where}: fromGroup takes no other keys"]
    problems = []
    if "key" not in entry:
        problems.append(f"{where}: env var without key")
    key = entry.get("key")
    if "sync" in entry:
        if in_group:
            problems.append(f"{where}: {key} has sync: false inside an environment group, where Render ignores it")
        elif entry["sync"] is not False:
            problems.append(f"{where}: {key}: sync may only be false")
    sources = [s for s in ("value", "generateValue", "sync", "fromService", "fromDatabase") if s in entry]
    if len(sources) != 1:
        problems.append(f"{where}: {key} needs exactly one of value/generateValue/sync/fromService, has {sources}")
    allowed = {"key", "value", "generateValue", "sync", "previewValue"} if not in_group else {
        "key", "value", "generateValue", "previewValue", "sync"}
    if "fromService" in entry or "fromDatabase" in entry:
        if in_group:
            problems.append(f"{where}: {key}: an environment group holds only values")
        allowed = {"key", "fromService", "fromDatabase"}
    extra = set(entry) - allowed
    if extra:
        problems.append(f"{where}: {key}: unknown field(s) {sorted(extra)}")
    return problems


def service_keys(service: dict) -> dict[str, dict]:
    return {e["key"]: e for e in service.get("envVars", []) if isinstance(e, dict) and "key" in e}


def from_service_problems(where: str, entry: dict, services: dict[str, dict]) -> list[str]:
    ref = entry["fromService"]
    key = entry.get("key")
    if not isinstance(ref, dict) or not {"name", "type"} <= set(ref):
        return [f"{where}: {key}: fromService needs name and type"]
    problems = []
    extra = set(ref) - {"name", "type", "property", "envVarKey"}
    if extra:
        problems.append(f"{where}: {key}: fromService has unknown field(s) {sorted(extra)}")
    target = services.get(ref["name"])
    if target is None:
        return [*problems, f"{where}: {key}: fromService names {ref['name']!r}, which is not a service in this file"]
    if target.get("type") != ref["type"]:
        problems.append(f"{where}: {key}: fromService type {ref['type']!r} but {ref['name']} is {target.get('type')!r}")
    if ("property" in ref) == ("envVarKey" in ref):
        problems.append(f"{where}: {key}: fromService needs exactly one of property/envVarKey")
    if "property" in ref:
        if ref["property"] not in SERVICE_PROPERTIES:
            problems.append(f"{where}: {key}: fromService property {ref['property']!r} is not one of "
                            f"{sorted(SERVICE_PROPERTIES)}")
        elif ref["property"] != "connectionString" and target.get("type") not in ADDRESSED_TYPES:
            problems.append(f"{where}: {key}: {ref['name']} ({target.get('type')}) has no private address")
    if "envVarKey" in ref and ref["envVarKey"] not in service_keys(target):
        problems.append(f"{where}: {key}: {ref['name']} declares no env var {ref['envVarKey']!r}")
    return problems


def _ports(service: dict) -> list[int]:
    keys = service_keys(service)
    ports = [int(keys["PORT"]["value"])] if "value" in keys.get("PORT", {}) else []
    command = service.get("startCommand", "")
    ports += [int(p) for p in re.findall(r"(?:--port[ =]|:)(\d{2,5})\b", command)]
    return ports


def port_problems(name: str, service: dict) -> list[str]:
    problems = []
    for port in _ports(service):
        if port in RESERVED_PORTS:
            problems.append(f"{name}: port {port} is reserved by Render")
        if port == PUBLIC_ONLY_PORT and service.get("type") != "web":
            problems.append(f"{name}: port 10000 is kept for web services' public traffic, not private networking")
    binds_port = "$PORT" in service.get("startCommand", "")
    if service.get("type") == "pserv" and binds_port and "PORT" not in service_keys(service):
        problems.append(f"{name}: a private service binding $PORT must set PORT itself (not 10000)")
    return problems


def service_problems(service: dict, services: dict[str, dict], groups: set[str]) -> list[str]:
    name = service.get("name", "?")
    kind = service.get("type")
    if kind not in SERVICE_TYPES:
        return [f"{name}: type {kind!r} is not one of {sorted(SERVICE_TYPES)}"]
    problems = []
    allowed = CRON_FIELDS if kind == "cron" else SERVER_FIELDS
    extra = set(service) - allowed
    if extra:
        problems.append(f"{name}: field(s) {sorted(extra)} are not in Render's spec for type {kind}")
    if service.get("runtime") not in RUNTIMES:
        problems.append(f"{name}: runtime {service.get('runtime')!r} is not one of {sorted(RUNTIMES)}")
    if "region" in service and service["region"] not in REGIONS:
        problems.append(f"{name}: region {service['region']!r} is not one of {sorted(REGIONS)}")
    if "plan" in service and service["plan"] not in PLANS:
        problems.append(f"{name}: plan {service['plan']!r} is not a Render plan")
    if kind == "cron" and not cron_ok(service.get("schedule")):
        problems.append(f"{name}: schedule {service.get('schedule')!r} is not a 5-field cron expression")
    if service.get("runtime") == "image":
        if not isinstance(service.get("image"), dict) or "url" not in service["image"]:
            problems.append(f"{name}: an image service needs image.url")
        if "buildCommand" in service:
            problems.append(f"{name}: an image service has no buildCommand")
    elif service.get("runtime") not in {"docker", "static"}:
        for field in ("buildCommand", "startCommand"):
            if field not in service:
                problems.append(f"{name}: {field} is missing")
    if "numInstances" in service and (not isinstance(service["numInstances"], int) or service["numInstances"] < 1):
        problems.append(f"{name}: numInstances must be an integer >= 1")
    if "numInstances" in service and "scaling" in service:
        problems.append(f"{name}: numInstances (manual) and scaling (autoscaling) exclude each other")
    if "scaling" in service and set(service["scaling"]) - SCALING_FIELDS:
        problems.append(f"{name}: unknown scaling field(s) {sorted(set(service['scaling']) - SCALING_FIELDS)}")
    if "healthCheckPath" in service and not str(service["healthCheckPath"]).startswith("/"):
        problems.append(f"{name}: healthCheckPath must start with /")
    keys_seen: set[str] = set()
    for i, entry in enumerate(service.get("envVars", [])):
        where = f"{name}.envVars[{i}]"
        problems += env_entry_problems(where, entry, in_group=False)
        if not isinstance(entry, dict):
            continue
        if "fromGroup" in entry and entry["fromGroup"] not in groups:
            problems.append(f"{where}: fromGroup {entry['fromGroup']!r} is not an envVarGroup in this file")
        if "fromService" in entry:
            problems += from_service_problems(where, entry, services)
        if "key" in entry:
            if entry["key"] in keys_seen:
                problems.append(f"{where}: {entry['key']} is declared twice")
            keys_seen.add(entry["key"])
    return problems + port_problems(name, service)


def blueprint_problems(doc: Any) -> list[str]:
    """Every rule broken by a parsed render.yaml, as sentences naming the service and the field."""
    if not isinstance(doc, dict):
        return ["render.yaml must be a mapping"]
    problems = [f"unknown top-level key {k!r}" for k in sorted(set(doc) - TOP_LEVEL)]
    groups: set[str] = set()
    for g in doc.get("envVarGroups", []):
        if set(g) - {"name", "envVars"}:
            problems.append(f"group {g.get('name')}: unknown field(s) {sorted(set(g) - {'name', 'envVars'})}")
        groups.add(g.get("name"))
        for i, entry in enumerate(g.get("envVars", [])):
            problems += env_entry_problems(f"group {g.get('name')}.envVars[{i}]", entry, in_group=True)
    services: dict[str, dict] = {}
    for service in doc.get("services", []):
        if service.get("name") in services:
            problems.append(f"service name {service.get('name')!r} is used twice")
        services[service.get("name")] = service
    for service in services.values():
        problems += service_problems(service, services, groups)
    return problems


def resolved_env(doc: dict, service: dict) -> dict[str, dict]:
    """A service's variables by key: its own entries and those of the groups it takes."""
    groups = {g["name"]: g for g in doc.get("envVarGroups", [])}
    out: dict[str, dict] = {}
    for entry in service.get("envVars", []):
        if "fromGroup" in entry:
            for item in groups.get(entry["fromGroup"], {}).get("envVars", []):
                out.setdefault(item["key"], item)
        else:
            out[entry["key"]] = entry
    return out
