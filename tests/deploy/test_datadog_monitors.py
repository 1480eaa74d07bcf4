"""Datadog monitors query only what the code sends: metric names and tags from the DogStatsD table
(ops/datadog/metrics.json), log facets the JSON formatter writes, logger names and messages that
exist in the code, with the same thresholds as the Prometheus rules.
"""

from __future__ import annotations

import json
import re

import yaml

from shared.config import PROJECT_ROOT

DATADOG = PROJECT_ROOT / "ops" / "datadog"
TABLE = json.loads((DATADOG / "metrics.json").read_text())
METRICS = {m["name"]: m for m in TABLE["metrics"]}
LOG_FIELDS = set(TABLE["log_fields"]["fields"])
MONITORS = {m["key"]: m for m in json.loads((DATADOG / "monitors.json").read_text())["monitors"]}
_GROUPS = yaml.safe_load((PROJECT_ROOT / "ops" / "prometheus" / "alerts.yml").read_text())["groups"]
RULES = {r["alert"]: r for g in _GROUPS for r in g["rules"]}
STANDARD_TAGS = {"service", "env", "version", "host"}  # unified service tagging and the Agent's host

# monitor key -> (Prometheus alert, Datadog critical threshold, the same threshold in the PromQL)
SAME_THRESHOLDS = {
    "api-error-ratio": ("TridmoHighErrorRate", 0.05, "> 0.05"),
    "api-traffic-floor": ("TridmoHighErrorRate", 99, ">= 100"),  # a count: > 99 is >= 100
    "api-route-slow": ("TridmoSlowResponses", 2, "> 2"),
    "api-route-traffic-floor": ("TridmoSlowResponses", 29, ">= 30"),
    "db-connection-errors": ("TridmoDatabaseConnectionFailures", 0, "> 0"),
    "db-pool-saturated": ("TridmoDatabasePoolSaturated", 0, "> 0"),
    "storage-errors": ("TridmoStorageFailures", 0, "> 0"),
    "backup-too-old": ("TridmoBackupTooOld", 93600, "> 26 * 3600"),
    "replication-backlog": ("TridmoReplicationBacklog", 3600, "> 3600"),
    "replication-failing": ("TridmoReplicationFailing", 0, "> 0"),
    "rate-limit-surge": ("TridmoRateLimitSurge", 1, "> 1"),
}


def _code_sources() -> dict[str, str]:
    files = [*(PROJECT_ROOT / "functions").rglob("*.py"), *(PROJECT_ROOT / "shared").rglob("*.py"),
             *(PROJECT_ROOT / "router").rglob("*.py")]
    return {str(path): path.read_text() for path in files}


def _loggers(sources: dict[str, str]) -> set[str]:
    return {m for text in sources.values() for m in re.findall(r'getLogger\(\s*"([^"]+)"\s*\)', text)}


def test_metric_monitors_use_names_and_tags_from_the_table():
    for key, monitor in MONITORS.items():
        if monitor["type"] != "query alert":
            continue
        query = monitor["query"]
        names = re.findall(r"(?:sum|max|min|avg|p\d+):([\w.]+)\{", query)
        assert names, key
        for name in names:
            assert name in METRICS, f"{key}: {name} not in ops/datadog/metrics.json"
            allowed = set(METRICS[name]["tags"]) | STANDARD_TAGS
            scope = re.search(re.escape(name) + r"\{([^}]*)\}", query).group(1)
            for tag in filter(None, scope.split(",")):
                assert tag.lstrip("!").split(":")[0] in allowed, f"{key}: tag {tag} not sent with {name}"
        for group in re.findall(r"\bby \{([^}]*)\}", query):
            for tag in group.split(","):
                assert tag in set().union(*(METRICS[n]["tags"] for n in names)) | STANDARD_TAGS, f"{key}: by {tag}"


def test_the_table_maps_to_the_prometheus_contract():
    contract = {m["name"] for m in yaml.safe_load((PROJECT_ROOT / "ops" / "metrics.yml").read_text())["metrics"]}
    for name, metric in METRICS.items():
        assert name.startswith(TABLE["prefix"]) and metric["type"] in {"count", "gauge", "distribution"}
        assert metric["prometheus"] in contract, name


def test_log_monitors_use_fields_loggers_and_messages_the_code_writes():
    sources = _code_sources()
    loggers = _loggers(sources)
    formatter = (PROJECT_ROOT / "shared" / "observability" / "logging.py").read_text()
    for field in ("level", "logger", "message", "request_id"):
        assert f'"{field}"' in formatter, field  # the table's core fields are the formatter's keys
    for key, monitor in MONITORS.items():
        if monitor["type"] != "log alert":
            continue
        search = re.match(r'logs\("(.*)"\)\.index', monitor["query"]).group(1)
        for facet, value in re.findall(r"@([\w.]+):(\S+)", search):
            assert facet in LOG_FIELDS, f"{key}: @{facet} is not a field of our log lines"
            if facet == "logger":
                assert value in loggers, f"{key}: no logger {value!r} in the code (loggers: {sorted(loggers)})"
        for text in re.findall(r'\\"([^"\\]+)\\"', search):
            assert any(re.search(r'log\.\w+\(\s*"' + re.escape(text) + '"', s) for s in sources.values()), \
                f"{key}: the code never logs {text!r}"
        assert "status:" not in search, f"{key}: filter on @level (status is the HTTP status in access lines)"


def test_composites_combine_monitors_of_this_file_and_only_they_notify():
    parts = set()
    for key, monitor in MONITORS.items():
        if monitor["type"] == "composite":
            operands = set(re.findall(r"[\w-]+", monitor["query"]))
            assert operands and operands <= set(MONITORS) - {key}, key
            parts |= operands
    for key, monitor in MONITORS.items():
        notifies = "@" in monitor["message"]
        assert notifies != (key in parts), f"{key}: composite parts stay quiet, everything else notifies"


def test_thresholds_match_the_prometheus_rules():
    for key, (alert, threshold, promql) in SAME_THRESHOLDS.items():
        monitor = MONITORS[key]
        assert monitor["options"]["thresholds"]["critical"] == threshold, key
        assert re.search(r"[<>]=? ?" + re.escape(str(threshold)) + r"$", monitor["query"]), key
        assert promql in RULES[alert]["expr"], f"{alert} no longer has {promql!r}: update {key} too"


def test_runbooks_and_no_data():
    headings = [line.lstrip("#").strip().lower() for line in (PROJECT_ROOT / "ops" / "runbooks.md").read_text()
                .splitlines() if line.startswith("## ")]
    anchors = {re.sub(r"[^\w\- ]", "", h).replace(" ", "-") for h in headings}  # GitHub's heading anchors
    for key, monitor in MONITORS.items():
        assert re.search(r"runbooks\.md#([\w-]+)", monitor["message"]).group(1) in anchors, key
    # Silence must alert where silence is the failure: a dead process, an unreported backup.
    assert MONITORS["metrics-stopped"]["options"]["notify_no_data"] is True
    assert MONITORS["backup-too-old"]["options"]["notify_no_data"] is True
