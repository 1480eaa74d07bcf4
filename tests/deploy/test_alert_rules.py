"""The Prometheus files as an operator runs them: Debian's promtool checks the config and the rules
and runs every rule's unit tests (ops/prometheus/tests/*.yml).

`make test` installs Debian's `prometheus` package when promtool is missing
(scripts/ensure_apt.py); in CI (`CI` set) a missing promtool fails these tests instead of skipping
them, so an alert rule can never ship untested.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shared.config import PROJECT_ROOT

PROM = PROJECT_ROOT / "ops" / "prometheus"
RULES = PROM / "alerts.yml"
UNIT_TESTS = sorted((PROM / "tests").glob("*.yml"))


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    message = "promtool not found: `python -m scripts.ensure_apt prometheus=promtool` (run by `make test`) installs it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def _cases() -> list[dict]:
    """Every alert_rule_test case of every unit-test file, with its test's name."""
    cases = []
    for path in UNIT_TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                cases.append({**case, "test": test.get("name", ""), "file": path.name})
    return cases


def test_every_rule_unit_test_passes(promtool: str):
    result = subprocess.run([promtool, "test", "rules", *map(str, UNIT_TESTS)], capture_output=True, text=True,
                            cwd=PROM, timeout=110)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert output.count("SUCCESS") == len(UNIT_TESTS), output


def test_rules_file_is_valid(promtool: str):
    result = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_rules())} rules found" in result.stdout


def test_prometheus_config_is_valid_and_loads_the_rules(promtool: str, tmp_path: Path):
    """As `python -m scripts.prometheus_local` lays it out: the token file beside .data/."""
    (tmp_path / "ops").mkdir()
    shutil.copytree(PROM, tmp_path / "ops" / "prometheus")
    (tmp_path / ".data").mkdir()
    (tmp_path / ".data" / "metrics_token").write_text("")
    config = tmp_path / "ops" / "prometheus" / "prometheus.yml"
    result = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"SUCCESS: {len(_rules())} rules found" in output


def test_prometheus_scrapes_what_make_run_starts():
    from scripts.run_local import WORKER_PORTS

    config = yaml.safe_load((PROM / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api, router = jobs["tridmo-api"], jobs["tridmo-router"]
    assert api["metrics_path"] == "/metrics"
    assert api["static_configs"][0]["targets"] == [f"127.0.0.1:{port}" for port in WORKER_PORTS]
    assert api["authorization"]["type"] == "Bearer"  # METRICS_TOKEN, required in production
    assert router["metrics_path"] == "/__router/metrics"
    assert router["static_configs"][0]["targets"] == ["127.0.0.1:4000"]  # HTTP_PORT's default


def test_every_alert_is_tested_firing_and_silent():
    cases = _cases()
    for rule in _rules():
        name = rule["alert"]
        own = [case for case in cases if case["alertname"] == name]
        assert any(case["exp_alerts"] for case in own), f"{name}: no test where it fires"
        if name != "TridmoWatchdog":  # always firing by design
            assert any(not case["exp_alerts"] for case in own), f"{name}: no test where it stays silent"


def test_every_for_clause_is_tested_from_both_sides():
    """A case just before the alert fires and one just after, in the same test."""
    cases = _cases()
    for rule in _rules():
        if "for" not in rule:
            continue
        own = [case for case in cases if case["alertname"] == rule["alert"]]
        tests = {case["test"] for case in own if case["exp_alerts"]}
        assert any(any(not c["exp_alerts"] for c in own if c["test"] == test) for test in tests), rule["alert"]


def test_ratio_alerts_have_a_traffic_guard_and_its_test():
    cases = _cases()
    for rule in _rules():
        expr = rule["expr"]
        if " / " not in expr and "histogram_quantile" not in expr:
            continue
        assert re.search(r"\band\b[^\n]*\n?[^\n]*increase\(", expr), f"{rule['alert']}: no minimum-traffic guard"
        guarded = [c for c in cases if c["alertname"] == rule["alert"] and "minimum-traffic guard" in c["test"]]
        assert guarded and all(not c["exp_alerts"] for c in guarded), f"{rule['alert']}: guard untested"


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alert_has_a_runbook_section():
    text = (PROJECT_ROOT / "ops" / "runbooks.md").read_text()
    anchors = {_slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}
    for rule in _rules():
        link = rule["annotations"]["runbook_url"]
        path, _, anchor = link.partition("#")
        assert path == "ops/runbooks.md" and anchor in anchors, f"{rule['alert']}: {link}"
        assert rule["labels"]["severity"] in {"page", "ticket", "none"}


def test_ensure_apt_installs_nothing_when_the_binaries_are_there():
    result = subprocess.run([sys.executable, "-m", "scripts.ensure_apt", "coreutils=ls", "python3"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and not result.stdout and not result.stderr
    from scripts.ensure_apt import parse

    assert parse(["prometheus=promtool", "haproxy"]) == [("prometheus", "promtool"), ("haproxy", "haproxy")]
