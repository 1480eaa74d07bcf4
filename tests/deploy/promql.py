"""Metric names in a PromQL expression and in a Prometheus text answer, for the ops file tests.

Not a PromQL parser: it strips what cannot be a metric name (strings, label matchers, ranges and
offsets, grouping label lists, numbers, Grafana variables, function calls) and keeps the
identifiers left. The ops files use a small part of PromQL, and `test_names_found_in_expressions`
pins what this sees in each construct they use.
"""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_OFFSETS = re.compile(r"\boffset\s+-?\d+[smhdwy]+\b")
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w.$])[A-Za-z_:][\w:]*")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
             "group_right", "inf", "nan", "Inf", "NaN"}
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


def names_in(expr: str) -> set[str]:
    """Metric names an expression selects (histogram series keep their _bucket/_count/_sum)."""
    text = _STRINGS.sub('""', expr)
    text = re.sub(r"\$\{?\w+\}?", " ", text)  # Grafana variables
    while _MATCHERS.search(text):
        text = _MATCHERS.sub(" ", text)
    text = _OFFSETS.sub(" ", _RANGES.sub(" ", text))
    text = _LABEL_LISTS.sub(" ", text)
    names = set()
    for match in _IDENT.finditer(text):
        rest = text[match.end():].lstrip()
        if match.group() not in _KEYWORDS and not rest.startswith("("):
            names.add(match.group())
    return names


def family_of(name: str, histograms: set[str]) -> str:
    """`x_bucket` -> `x` when x is a histogram family; other names unchanged."""
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name.removesuffix(suffix) in histograms:
            return name.removesuffix(suffix)
    return name


def sampled_names(exposition: str) -> set[str]:
    """Families (histograms by family name, counters with _total) that have at least one sample."""
    found = set()
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found.add(sample.name)
            if family.type == "histogram":
                found.add(family.name)
    return found
