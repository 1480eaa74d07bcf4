"""Cold start of each function group, against importing every runtime dependency eagerly.

For each group, in fresh interpreters (median of several runs):
  import_ms       time to `import functions.<group>` (what a Lambda init pays for our code)
  first_event_ms  wall time from spawning the interpreter to the first answered Lambda event
and, as the baseline measured in the same run, the import time of every runtime dependency at
once (what a function would pay if it imported eagerly). Targets: import <= 0.35x eager,
first event <= 400 ms. The machine is shared and noisy: compare ratios, not absolute numbers.

Usage: python bench/coldstart.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EAGER = (
    "starlette.applications", "starlette.routing", "mangum", "psycopg", "psycopg_pool", "jwt", "argon2",
    "msgspec", "multipart", "prometheus_client", "httpx", "supabase", "boto3", "PIL.Image", "nh3",
    "uvicorn",
)

IMPORT_SNIPPET = """
import time, importlib
t = time.perf_counter()
for name in {modules!r}:
    importlib.import_module(name)
print((time.perf_counter() - t) * 1000)
"""

EVENT_SNIPPET = """
from functions.{group} import handler
from tests.support.lambda_events import make_event, FakeContext
response = handler(make_event("v2", {method!r}, {path!r}), FakeContext())
print("STATUS", response["statusCode"], flush=True)
"""


def run(code: str, env: dict[str, str]) -> tuple[float, str]:
    """Wall time of a fresh interpreter running `code`, and its answer (the STATUS line, or the last)."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    elapsed = (time.perf_counter() - started) * 1000
    lines = out.stdout.strip().splitlines()
    status = [line.split()[1] for line in lines if line.startswith("STATUS ")]
    return elapsed, status[0] if status else lines[-1]


def first_route(group: str) -> tuple[str, str]:
    import importlib

    from starlette.routing import Route

    module = importlib.import_module(f"functions.{group}")
    for route in module.routes:
        if isinstance(route, Route) and "{" not in route.path:
            method = "GET" if "GET" in (route.methods or ()) else sorted(route.methods or {"GET"})[0]
            return method, route.path
    route = module.routes[0]
    return sorted(route.methods or {"GET"})[0], route.path.replace("{", "x").replace("}", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from functions.__main__ import available_groups

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0", "LOG_LEVEL": "WARNING"}
    # warm the bytecode cache and the embedded database once, like a deployed package would be
    subprocess.run([sys.executable, "-m", "compileall", "-q", "functions", "shared"], cwd=ROOT, check=True)
    from shared.db.pool import database_url

    env["DB_URL"] = database_url()
    eager = statistics.median(float(run(IMPORT_SNIPPET.format(modules=EAGER), env)[1]) for _ in range(args.runs))
    rows = []
    for group in available_groups():
        method, path = first_route(group)
        imports = [float(run(IMPORT_SNIPPET.format(modules=(f"functions.{group}",)), env)[1]) for _ in range(args.runs)]
        events = [run(EVENT_SNIPPET.format(group=group, method=method, path=path), env) for _ in range(args.runs)]
        rows.append({
            "group": group, "import_ms": statistics.median(imports),
            "first_event_ms": statistics.median(e[0] for e in events), "status": events[-1][1],
            "event": f"{method} {path}",
        })
    if args.json:
        print(json.dumps({"eager_import_ms": eager, "groups": rows}, indent=2))
        return
    print(f"eager import of every runtime dependency: {eager:.0f} ms (baseline, median of {args.runs})")
    print(f"{'group':<14}{'import ms':>10}{'x eager':>9}{'first event ms':>16}  status  event")
    for r in rows:
        ratio = r["import_ms"] / eager
        flag = "" if ratio <= 0.35 and r["first_event_ms"] <= 400 else "  <- over target"
        print(f"{r['group']:<14}{r['import_ms']:>10.0f}{ratio:>9.2f}{r['first_event_ms']:>16.0f}  {r['status']:>6}  "
              f"{r['event']}{flag}")
    print("targets: import <= 0.35x eager, first event <= 400 ms")


if __name__ == "__main__":
    main()
