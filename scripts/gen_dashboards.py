"""Writes the Grafana dashboards under ops/grafana/ from scripts/dashboard_panels.py.

Each dashboard is importable as is (Dashboards -> Import), picks its Prometheus through the
`datasource` variable, links to the other two, and draws the plan's thresholds on its panels. A
test regenerates the files and compares, so the JSON cannot drift from the panel lists.
Usage: `python -m scripts.gen_dashboards [--check]`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from scripts.dashboard_panels import DASHBOARDS
from shared.config import PROJECT_ROOT

TARGET_DIR = PROJECT_ROOT / "ops" / "grafana"


def _field_config(unit: str, threshold: float | None) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    if threshold is not None:
        steps.append({"color": "red", "value": threshold})
    return {
        "defaults": {
            "unit": unit,
            "thresholds": {"mode": "absolute", "steps": steps},
            "custom": {"thresholdsStyle": {"mode": "line" if threshold is not None else "off"}},
        },
        "overrides": [],
    }


def render_panel(index: int, spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": index + 1,
        "type": spec["kind"],
        "title": spec["title"],
        "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "fieldConfig": _field_config(spec["unit"], spec["threshold"]),
        "targets": [
            {
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "expr": t["expr"],
                "legendFormat": t["legend"],
                "refId": chr(ord("A") + n),
            }
            for n, t in enumerate(spec["targets"])
        ],
    }
    if spec["description"]:
        out["description"] = spec["description"]
    if spec["kind"] == "stat":
        out["options"] = {"colorMode": "background", "reduceOptions": {"calcs": ["lastNotNull"]}}
    return out


def render_dashboard(uid: str) -> str:
    title, panels = DASHBOARDS[uid]
    links = [{"title": t, "url": f"/d/{u}", "type": "link"} for u, (t, _) in DASHBOARDS.items() if u != uid]
    dashboard = {
        "id": None,
        "uid": uid,
        "title": title,
        "tags": ["tridmo"],
        "editable": True,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "links": links,
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                    "refresh": 1,
                    "regex": "",
                    "options": [],
                }
            ]
        },
        "panels": [render_panel(i, spec) for i, spec in enumerate(panels)],
    }
    return json.dumps(dashboard, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file differs instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for uid in DASHBOARDS:
        path = TARGET_DIR / f"{uid}.json"
        text = render_dashboard(uid)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
    if stale:
        print("out of date: " + ", ".join(stale) + " (run python -m scripts.gen_dashboards)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
