"""The Grafana dashboards are importable, pick Prometheus through a `datasource` variable, cover what
the issue lists, draw the plan's thresholds, and every query is PromQL that promtool accepts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from shared.config import PROJECT_ROOT
from tests.deploy.promql import names_in

GRAFANA = PROJECT_ROOT / "ops" / "grafana"
DASHBOARDS = {path.stem: json.loads(path.read_text()) for path in sorted(GRAFANA.glob("*.json"))}


def _exprs(dashboard: dict) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def _panel(dashboard: str, title_start: str) -> dict:
    return next(p for p in DASHBOARDS[dashboard]["panels"] if p["title"].startswith(title_start))


def test_files_are_what_the_generator_writes():
    from scripts.gen_dashboards import main

    assert set(DASHBOARDS) == {"tridmo-api", "tridmo-router", "tridmo-operations"}
    assert main(["--check"]) == 0, "run python -m scripts.gen_dashboards"


def test_importable_with_a_datasource_variable():
    for name, dashboard in DASHBOARDS.items():
        assert dashboard["uid"] == name and dashboard["id"] is None and dashboard["title"]
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(ids) == len(set(ids)), name
        for panel in dashboard["panels"]:
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert panel["targets"] and all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])
            assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])


def test_each_dashboard_covers_its_subject():
    wanted = {
        "tridmo-api": {"http_requests_total", "http_request_duration_seconds_bucket", "db_pool_requests_waiting",
                       "db_query_duration_seconds_bucket", "storage_operation_duration_seconds_count",
                       "storage_errors_total", "storage_bytes_total"},
        "tridmo-router": {"router_upstream_healthy", "router_retries_total", "router_upstream_ejections_total",
                          "router_upstream_weight", "router_upstream_requests_total"},
        "tridmo-operations": {"backup_last_success_timestamp_seconds", "replication_queue_oldest_seconds",
                              "router_rate_limited_total"},
    }
    for name, names in wanted.items():
        used = set().union(*map(names_in, _exprs(DASHBOARDS[name])))
        assert names <= used, f"{name} lacks {names - used}"
    assert any("by (le, method, route)" in e for e in _exprs(DASHBOARDS["tridmo-api"])), "latency by route"


@pytest.mark.parametrize(("dashboard", "title", "threshold"), [
    ("tridmo-api", "5xx share", 0.05),
    ("tridmo-api", "Latency p50 / p95 / p99", 2),
    ("tridmo-api", "p95 latency by route", 2),
    ("tridmo-api", "DB query time p95", 2),
    ("tridmo-api", "DB errors", 1),
    ("tridmo-api", "Storage errors", 1),
    ("tridmo-router", "Router 5xx share", 0.05),
    ("tridmo-router", "Ejections per upstream", 3),
    ("tridmo-operations", "Age of the newest verified backup", 26 * 3600),
    ("tridmo-operations", "Replication backlog", 3600),
    ("tridmo-operations", "Rate-limit refusals", 1),
])
def test_plan_thresholds_are_drawn(dashboard: str, title: str, threshold: float):
    panel = _panel(dashboard, title)
    defaults = panel["fieldConfig"]["defaults"]
    steps = defaults["thresholds"]["steps"]
    assert steps[-1] == {"color": "red", "value": threshold}, title
    if panel["type"] == "timeseries":
        assert defaults["custom"]["thresholdsStyle"]["mode"] != "off", title


def test_every_query_is_valid_promql(tmp_path: Path):
    """promtool parses each panel query as a recording rule (the same parser Prometheus uses)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        message = "promtool not found: `python -m scripts.ensure_apt prometheus=promtool` installs it"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    rules = [{"record": f"panel:check:{n}", "expr": expr}
             for n, expr in enumerate(e for d in DASHBOARDS.values() for e in _exprs(d))]
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
