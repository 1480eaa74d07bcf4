"""Every metric an alert rule or a Grafana panel uses exists in a real /metrics answer, or is listed
in ops/metrics.yml as `pending` with the issue item that will add it.

The API's answer comes from the app in-process after a few requests (as the other API tests run
it); the router's from a real `python -m router` process that has answered a request. A `pending`
name that appears in the answer fails too: the list must say exactly what is still missing.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from shared.config import PROJECT_ROOT
from tests.deploy.promql import family_of, names_in, sampled_names

CONTRACT = {m["name"]: m for m in yaml.safe_load((PROJECT_ROOT / "ops" / "metrics.yml").read_text())["metrics"]}
HISTOGRAMS = {name for name, m in CONTRACT.items() if m["type"] == "histogram"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rule_names() -> dict[str, set[str]]:
    rules = yaml.safe_load((PROJECT_ROOT / "ops" / "prometheus" / "alerts.yml").read_text())
    return {f"rule {r['alert']}": names_in(r["expr"]) for g in rules["groups"] for r in g["rules"]}


def panel_names() -> dict[str, set[str]]:
    found = {}
    for path in sorted((PROJECT_ROOT / "ops" / "grafana").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            exprs = [t["expr"] for t in panel.get("targets", [])]
            found[f"{path.name}: {panel['title']}"] = set().union(*map(names_in, exprs)) if exprs else set()
    return found


def used() -> dict[str, set[str]]:
    """Contract name -> where it is used."""
    where: dict[str, set[str]] = {}
    for place, names in {**rule_names(), **panel_names()}.items():
        for name in names:
            where.setdefault(family_of(name, HISTOGRAMS), set()).add(place)
    return where


@pytest.fixture(scope="module")
async def api_answer(api_app: Any) -> str:
    transport = httpx.ASGITransport(app=api_app, client=("198.51.100.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get("/health")).status_code == 200
        assert (await http.get("/api/no-such-route")).status_code == 404
        response = await http.get("/metrics")
    assert response.status_code == 200
    return response.text


@pytest.fixture(scope="module")
def router_answer() -> Iterator[str]:
    port, dead = _free_port(), _free_port()  # nothing listens on `dead`: the proxied request fails
    proc = subprocess.Popen([sys.executable, "-m", "router", "--listen", f"127.0.0.1:{port}",
                             "--upstream", f"http://127.0.0.1:{dead}"], cwd=PROJECT_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/models", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        response = httpx.get(f"http://127.0.0.1:{port}/__router/metrics", timeout=5)
        assert response.status_code == 200
        yield response.text
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_names_found_in_expressions():
    assert names_in('sum by (le, route) (rate(x_bucket{job="a", route!~"/m|/h"}[5m])) > 2') == {"x_bucket"}
    assert names_in("a unless a offset 5m or vector(0) and on (instance) b{c='d'} > 1e-9") == {"a", "b"}
    assert names_in('time() - max(t{job="x"}) > 26 * 3600 or absent(t)') == {"t"}
    assert names_in("topk(10, rate(y_total[$__rate_interval])) / scalar(sum(z))") == {"y_total", "z"}
    assert family_of("x_count", {"x"}) == "x" and family_of("x_count", set()) == "x_count"


def test_every_name_used_by_rules_and_panels_is_in_the_contract():
    missing = {name: sorted(places) for name, places in used().items() if name not in CONTRACT}
    assert not missing, f"not in ops/metrics.yml: {missing}"


def test_the_api_emits_its_names_and_not_yet_the_pending_ones(api_answer: str):
    _check("api", sampled_names(api_answer))


def test_the_router_emits_its_names(router_answer: str):
    _check("router", sampled_names(router_answer))


def _check(source: str, present: set[str]) -> None:
    uses = used()
    absent, now_emitted = [], []
    for name, entry in CONTRACT.items():
        if entry["source"] != source:
            continue
        is_there = name in present
        if entry.get("pending"):
            if is_there:
                now_emitted.append(name)
        elif not is_there:
            absent.append(f"{name} (used by {sorted(uses.get(name, []))})")
    assert not absent, f"{source} /metrics has no samples of: {absent}"
    assert not now_emitted, f"{source} now emits {now_emitted}: drop their `pending` line in ops/metrics.yml"


def test_every_contract_entry_is_used_and_says_why_it_is_pending():
    uses = used()
    for name, entry in CONTRACT.items():
        assert name in uses, f"{name} is in ops/metrics.yml but no rule or panel uses it"
        assert entry["source"] in {"api", "router", "prometheus"}
        if entry.get("pending"):
            assert entry["pending"].startswith("issue 18, "), name
