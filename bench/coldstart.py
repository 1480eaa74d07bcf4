"""Cold start of each function group through Lambda's runtime interface client, against a bare handler.

For each group, in fresh interpreters, median of `--runs`:
  first answer  `python -m awslambdaric functions.<group>.handler` started against a Runtime API
                stand-in (tests/support/lambda_runtime.py) with one API Gateway v2 event queued (the
                group's cheap route, tests/support/lambda_events.py): time from spawning the process
                to the response POST arriving at the stand-in. Measured in the same run for a bare
                handler (bench/lambda_bare.py), the floor set by Python, the client and the round trip.
  import        time to `import functions.<group>` in a fresh interpreter, against importing every
                runtime dependency eagerly (the same run's baseline), as a ratio.
Targets (issue 20): first answer <= 400 ms median, import <= 0.35x eager. Then, for the group with
the worst import ratio, the heaviest imports under it (`python -X importtime`, cumulative, each
counted under whichever module imported it first). Runs are interleaved so drift hits all groups.
The machine is shared and noisy: compare ratios and the bare floor, not absolute numbers.

Usage: python bench/coldstart.py [--runs 5] [--groups models,auth] [--top 12] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.lambda_events import CHEAP_ROUTES, cheap_event  # noqa: E402
from tests.support.lambda_runtime import FunctionProcess, RuntimeApi  # noqa: E402

EAGER = (
    "starlette.applications", "starlette.routing", "mangum", "psycopg", "psycopg_pool", "jwt", "argon2",
    "msgspec", "multipart", "prometheus_client", "httpx", "supabase", "boto3", "PIL.Image", "nh3",
    "uvicorn",
)
BARE = "bench.lambda_bare.handler"
FIRST_ANSWER_TARGET_MS = 400
IMPORT_RATIO_TARGET = 0.35

IMPORT_SNIPPET = """
import time, importlib
t = time.perf_counter()
for name in {modules!r}:
    importlib.import_module(name)
print((time.perf_counter() - t) * 1000)
"""


def import_ms(modules: tuple[str, ...], env: dict[str, str]) -> float:
    """Import time of `modules` in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", IMPORT_SNIPPET.format(modules=modules)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def first_answer(handler: str, event: dict[str, Any], env: dict[str, str]) -> tuple[float, int]:
    """Milliseconds from spawning the function to its first response at the Runtime API, and its status."""
    with RuntimeApi() as api:
        request_id = api.invoke(event)
        with FunctionProcess(api, handler, env) as function:
            posted = function.answer(request_id, timeout=120)
            if posted.kind != "response":
                raise SystemExit(f"{handler} answered an error: {posted.body.decode()}\n{function.output()}")
            return (posted.arrived - function.started) * 1000, int(posted.json()["statusCode"])


def heaviest_imports(module: str, env: dict[str, str], top: int) -> list[tuple[float, str]]:
    """The `top` imports under `module` by cumulative time (`-X importtime`), indented by depth."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    rows = []
    for line in out.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if match and match.group(3) != module and len(match.group(2)) <= 6:  # three levels under it
            rows.append((int(match.group(1)) / 1000, match.group(2) + match.group(3)))
    return sorted(rows, reverse=True)[:top]


def prepare_database() -> str:
    """A migrated database of its own on the embedded server (left running, like `make run` does)."""
    from shared.config import get_settings
    from shared.db.embedded import start_embedded
    from shared.migrate import apply_migrations

    url = os.environ.get("DB_URL") or start_embedded(get_settings().data_dir, "tridmo_coldstart")
    apply_migrations(url)
    return url


def measure(groups: list[str], runs: int, env: dict[str, str]) -> dict[str, Any]:
    answers: dict[str, list[tuple[float, int]]] = {name: [] for name in ["bare", *groups]}
    imports: dict[str, list[float]] = {name: [] for name in ["eager", *groups]}
    # one discarded round warms the page cache the way a provisioned package would be
    first_answer(BARE, cheap_event("health"), env)
    import_ms(EAGER, env)
    for run in range(runs):
        order = groups[run % len(groups):] + groups[:run % len(groups)]  # rotate: no group always goes first
        answers["bare"].append(first_answer(BARE, cheap_event("health"), env))
        imports["eager"].append(import_ms(EAGER, env))
        for group in order:
            answers[group].append(first_answer(f"functions.{group}.handler", cheap_event(group), env))
            imports[group].append(import_ms((f"functions.{group}",), env))
        print(f"  run {run + 1}/{runs} done", file=sys.stderr, flush=True)
    eager = statistics.median(imports["eager"])
    bare = statistics.median(ms for ms, _ in answers["bare"])
    rows = []
    for group in groups:
        method, path, _, expected, _ = CHEAP_ROUTES[group]
        first = statistics.median(ms for ms, _ in answers[group])
        statuses = sorted({status for _, status in answers[group]})
        rows.append({
            "group": group, "import_ms": statistics.median(imports[group]),
            "import_ratio": statistics.median(imports[group]) / eager, "first_answer_ms": first,
            "over_bare_ms": first - bare, "status": statuses, "expected_status": expected,
            "event": f"{method} {path}",
        })
    return {"runs": runs, "eager_import_ms": eager, "bare_first_answer_ms": bare, "groups": rows}


def report(result: dict[str, Any], env: dict[str, str], top: int) -> None:
    runs = result["runs"]
    print(f"first answered event through awslambdaric (process start -> response POST), median of {runs}")
    print(f"bare handler: {result['bare_first_answer_ms']:.0f} ms;  eager import of every runtime dependency: "
          f"{result['eager_import_ms']:.0f} ms")
    print(f"{'group':<14}{'import ms':>10}{'x eager':>9}{'first answer ms':>17}{'over bare':>11}  status  event")
    missed = []
    for r in result["groups"]:
        misses = []
        if r["import_ratio"] > IMPORT_RATIO_TARGET:
            misses.append(f"import {r['import_ratio']:.3f}x eager")
        if r["first_answer_ms"] > FIRST_ANSWER_TARGET_MS:
            misses.append(f"first answer +{r['first_answer_ms'] - FIRST_ANSWER_TARGET_MS:.0f} ms")
        if r["status"] != [r["expected_status"]]:
            misses.append(f"expected status {r['expected_status']}")
        if misses:
            missed.append(r)
        status = ",".join(map(str, r["status"]))
        flag = f"  <- {'; '.join(misses)}" if misses else ""
        print(f"{r['group']:<14}{r['import_ms']:>10.0f}{r['import_ratio']:>9.2f}{r['first_answer_ms']:>17.0f}"
              f"{r['over_bare_ms']:>11.0f}  {status:>6}  {r['event']}{flag}")
    print(f"targets: first answer <= {FIRST_ANSWER_TARGET_MS} ms, import <= {IMPORT_RATIO_TARGET}x eager; "
          f"{len(missed)} of {len(result['groups'])} groups miss")
    worst = max(result["groups"], key=lambda r: r["import_ratio"])
    print(f"\nheaviest imports under functions.{worst['group']} (worst import ratio), "
          "python -X importtime, cumulative ms:")
    for ms, name in heaviest_imports(f"functions.{worst['group']}", env, top):
        print(f"  {ms:>7.1f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--groups", help="comma-separated groups (default: all)")
    parser.add_argument("--top", type=int, default=12, help="imports listed for the worst group")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from functions.__main__ import GROUPS

    groups = args.groups.split(",") if args.groups else list(GROUPS)
    unknown = set(groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown groups: {', '.join(sorted(unknown))}")
    subprocess.run([sys.executable, "-m", "compileall", "-q", "functions", "shared", "bench"], cwd=ROOT, check=True)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0", "LOG_LEVEL": "WARNING", "DB_URL": prepare_database()}
    result = measure(groups, args.runs, env)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    report(result, env, args.top)


if __name__ == "__main__":
    main()
