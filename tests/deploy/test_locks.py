"""The hashed locks are what deploys install, so they must say what the requirement files say.

A pin bumped in requirements.txt (by hand or by a Renovate pull request) without `make lock` leaves
Render and Lambda installing the old version; these tests fail until the lock is regenerated."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from shared.config import PROJECT_ROOT

PAIRS = [("requirements.txt", "requirements.lock"), ("requirements-build.txt", "requirements-build.lock")]
BUILD_TOOLS = {"cython", "setuptools"}


def pins(text: str) -> dict[str, str]:
    """name -> version of a requirement file; an unpinned requirement maps to ''."""
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        req = Requirement(line)
        versions = [s.version for s in req.specifier if s.operator == "=="]
        out[canonicalize_name(req.name)] = versions[0] if len(versions) == 1 else ""
    return out


def lock_entries(text: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of a lock written by `uv pip compile --generate-hashes`."""
    out = {}
    for entry in re.split(r"\n(?=\S)", text.replace("\\\n", " ")):
        line = entry.split("\n", 1)[0].split("#", 1)[0].strip()
        if not line:
            continue
        spec = line.split(" --hash=", 1)[0].split(";", 1)[0].strip()
        name, _, version = spec.partition("==")
        out[canonicalize_name(name)] = (version, re.findall(r"--hash=(sha256:[0-9a-f]{64})", line))
    return out


def lock_problems(requirements: str, lock: str) -> list[str]:
    problems = []
    locked = lock_entries(lock)
    for name, version in pins(requirements).items():
        if not version:
            problems.append(f"{name} is not pinned with == in the requirement file")
        elif name not in locked:
            problems.append(f"{name} is missing from the lock")
        elif locked[name][0] != version:
            problems.append(f"{name}: lock has {locked[name][0]}, requirements say {version}")
    problems += [f"{name} has no --hash in the lock" for name, (_, hashes) in locked.items() if not hashes]
    return problems


@pytest.mark.parametrize("requirements, lock", PAIRS)
def test_lock_matches_its_requirement_file(requirements, lock):
    problems = lock_problems((PROJECT_ROOT / requirements).read_text(), (PROJECT_ROOT / lock).read_text())
    assert problems == [], f"run `make lock`: {problems}"


def test_lock_check_fails_on_a_stale_lock():
    requirements = (PROJECT_ROOT / "requirements.txt").read_text()
    lock = (PROJECT_ROOT / "requirements.lock").read_text()
    assert any("boto3: lock has 1.44.8" in p for p in lock_problems(
        requirements.replace("boto3==1.44.8", "boto3==1.44.9"), lock))
    assert any("rich is missing" in p for p in lock_problems(requirements + "rich==14.0.0\n", lock))
    assert any("not pinned" in p for p in lock_problems(requirements.replace("tqdm==4.67.1", "tqdm>=4"), lock))
    unhashed = re.sub(r"(tqdm==4\.67\.1)[^\n]*\n(\s+--hash=[^\n]*\n)+", r"\1\n", lock)
    assert any("tqdm has no --hash" in p for p in lock_problems(requirements, unhashed))


def test_build_tools_are_only_in_the_build_files():
    for name in ("requirements.txt", "requirements.lock"):
        text = (PROJECT_ROOT / name).read_text()
        found = set(lock_entries(text) if name.endswith(".lock") else pins(text)) & BUILD_TOOLS
        assert not found, f"{name} carries build tools {found}: they would be deployed"
    assert set(pins((PROJECT_ROOT / "requirements-build.txt").read_text())) == BUILD_TOOLS


def test_locks_are_written_by_the_documented_command():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    flags = re.search(r"^LOCK := \$\(PY\) -m uv pip compile --quiet (.+)$", makefile, re.M).group(1)
    for _, lock in PAIRS:
        header = (PROJECT_ROOT / lock).read_text().splitlines()[1].strip("# ")
        source = next(r for r, lk in PAIRS if lk == lock)
        assert header == f"uv pip compile {flags} --output-file {lock} {source}", "run `make lock`"
    dev = (PROJECT_ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev and "-r requirements-build.txt" in dev
    assert re.search(r"^uv==[\d.]+$", dev, re.M), "the lock tool is pinned with the dev tools"


def test_deploys_install_the_locks():
    serverless = yaml.safe_load((PROJECT_ROOT / "serverless.yml").read_text())
    assert serverless["custom"]["pythonRequirements"]["fileName"] == "requirements.lock"
    render = (PROJECT_ROOT / "render.yaml").read_text()
    assert "pip install --require-hashes -r requirements.lock" in render
    assert "pip install --require-hashes -r requirements-build.lock" in render
    assert "-r requirements.txt" not in render


def test_renovate_opens_weekly_grouped_pull_requests_for_every_requirement_file():
    config = json.loads((PROJECT_ROOT / "renovate.json").read_text())

    def matched(manager: str, path: str) -> bool:
        return any(re.search(p.strip("/"), path) for p in config[manager]["managerFilePatterns"])

    for _, lock in PAIRS:
        assert matched("pip-compile", lock), f"{lock} is not regenerated by Renovate"
    assert matched("pip_requirements", "requirements-dev.txt")
    assert not matched("pip_requirements", "requirements.txt"), "the lock's source is pip-compile's to bump"
    assert all("monday" in s for s in config["schedule"]), "weekly"
    for path in ("requirements.txt", "requirements-build.txt", "requirements-dev.txt"):
        groups = [r["groupName"] for r in config["packageRules"] if path in r.get("matchFileNames", [])]
        assert len(groups) == 1, f"{path} belongs to one weekly group"
