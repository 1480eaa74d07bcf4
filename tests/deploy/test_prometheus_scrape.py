"""A real Prometheus with ops/prometheus/prometheus.yml scrapes a real API worker that requires
METRICS_TOKEN and a real router, and evaluates the rules.

The copy of the config differs from the committed one only in the targets (free ports instead of
:4101/:4102/:4000) and in 1 s intervals so the test is quick; the token travels through the same
`credentials_file: ../../.data/metrics_token` path as `python -m scripts.prometheus_local` writes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from shared.config import PROJECT_ROOT

TOKEN = "scrape-test-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in started:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_prometheus_scrapes_the_worker_with_its_token_and_the_router(tmp_path: Path, processes: list):
    binary = shutil.which("prometheus")
    if binary is None:
        message = "prometheus not found: `python -m scripts.ensure_apt prometheus=promtool` installs it"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    worker, router, web = _free_port(), _free_port(), _free_port()
    env = {**os.environ, "METRICS_TOKEN": TOKEN, "LOG_LEVEL": "WARNING"}
    processes.append(subprocess.Popen([sys.executable, "-m", "functions", "--port", str(worker)], cwd=PROJECT_ROOT,
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    processes.append(subprocess.Popen([sys.executable, "-m", "router", "--listen", f"127.0.0.1:{router}",
                                       "--upstream", f"http://127.0.0.1:{worker}"], cwd=PROJECT_ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    _until(lambda: httpx.get(f"http://127.0.0.1:{router}/health", timeout=1).status_code == 200, 30, "platform")
    assert httpx.get(f"http://127.0.0.1:{worker}/metrics", timeout=2).status_code == 401  # the token is required

    shutil.copytree(PROJECT_ROOT / "ops" / "prometheus", tmp_path / "ops" / "prometheus")
    (tmp_path / ".data").mkdir()
    (tmp_path / ".data" / "metrics_token").write_text(TOKEN)
    config_path = tmp_path / "ops" / "prometheus" / "prometheus.yml"
    config = yaml.safe_load(config_path.read_text())
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    jobs["tridmo-api"]["static_configs"][0]["targets"] = [f"127.0.0.1:{worker}"]
    jobs["tridmo-router"]["static_configs"][0]["targets"] = [f"127.0.0.1:{router}"]
    config_path.write_text(yaml.safe_dump(config))
    processes.append(subprocess.Popen([binary, f"--config.file={config_path}",
                                       f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                       f"--web.listen-address=127.0.0.1:{web}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    api = f"http://127.0.0.1:{web}/api/v1"

    def up() -> dict[str, str]:
        result = httpx.get(f"{api}/query", params={"query": "up"}, timeout=2).json()["data"]["result"]
        return {r["metric"]["job"]: r["value"][1] for r in result} if len(result) == 2 else {}

    assert _until(up, 30, "both jobs scraped") == {"tridmo-api": "1", "tridmo-router": "1"}
    rules = httpx.get(f"{api}/rules", timeout=2).json()["data"]["groups"]
    committed = yaml.safe_load((PROJECT_ROOT / "ops" / "prometheus" / "alerts.yml").read_text())["groups"]
    assert sum(len(group["rules"]) for group in rules) == sum(len(group["rules"]) for group in committed)

    def firing() -> set[str]:
        alerts = httpx.get(f"{api}/alerts", timeout=2).json()["data"]["alerts"]
        return {a["labels"]["alertname"] for a in alerts if a["state"] == "firing"}

    assert "TridmoWatchdog" in _until(firing, 30, "the watchdog to fire")
    # Samples the rules read come through: the API's request counter, the router's upstream health.
    for query in ('http_requests_total{job="tridmo-api"}', 'router_upstream_healthy{job="tridmo-router"}'):
        _until(lambda q=query: httpx.get(f"{api}/query", params={"query": q}, timeout=2).json()["data"]["result"],
               30, query)
