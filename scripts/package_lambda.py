"""Builds a function's Lambda package the way `serverless package` does, and reports package sizes.

serverless-python-requirements installs `custom.pythonRequirements.fileName` (the hashed lock) with
`pip install -t DIR -r FILE <pipCmdExtraArgs>` after dropping the `noDeploy` names, and serverless
adds the project files the global and per-function `package.patterns` select. This script reads
those settings from serverless.yml and does the same, so what it measures and what the tests check
is what would be uploaded: arm64 wheels for python3.12, boto3/botocore at the locked versions, no
build tools. Downloaded wheels are kept under `.data/lambda-wheels` so a rebuild is offline.

Usage:
  python -m scripts.package_lambda health [--out DIR] [--zip]   # one function's package
  python -m scripts.package_lambda --sizes                      # zipped/unzipped size of every function
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from packaging.markers import Marker
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".data" / "lambda-wheels"
# What serverless never walks into (and `!**` excludes anyway); skipped only to keep the walk fast.
SKIP_DIRS = {".git", ".venv", ".data", "node_modules", ".serverless", "__pycache__", ".pytest_cache", ".ruff_cache"}
INSTALL_ONLY = {"--no-compile", "--compile"}  # pip install options `pip download` does not take
# Lambda's python3.12 on arm64 (Amazon Linux 2023), for evaluating the lock's environment markers.
TARGET_ENV = {
    "implementation_name": "cpython", "implementation_version": "3.12.0", "os_name": "posix",
    "platform_machine": "aarch64", "platform_python_implementation": "CPython", "platform_release": "",
    "platform_system": "Linux", "platform_version": "", "python_full_version": "3.12.0",
    "python_version": "3.12", "sys_platform": "linux",
}


@dataclass(frozen=True)
class Settings:
    """The parts of serverless.yml that decide what goes into a package."""

    requirements: Path
    no_deploy: frozenset[str]
    pip_args: tuple[str, ...]
    patterns: tuple[str, ...]
    functions: dict[str, tuple[str, ...]]


def load_settings(path: Path = ROOT / "serverless.yml") -> Settings:
    doc = yaml.safe_load(path.read_text())
    req = doc["custom"]["pythonRequirements"]
    pip_args: list[str] = []
    for arg in req.get("pipCmdExtraArgs", []):
        pip_args += arg.split(None, 1)  # the plugin splits each entry on its first blank
    return Settings(
        requirements=ROOT / req.get("fileName", "requirements.txt"),
        no_deploy=frozenset(canonicalize_name(n) for n in req.get("noDeploy", [])),
        pip_args=tuple(pip_args),
        patterns=tuple(doc["package"]["patterns"]),
        functions={
            name: tuple((fn.get("package") or {}).get("patterns", [])) for name, fn in doc["functions"].items()
        },
    )


def deployed_requirements(settings: Settings) -> str:
    """The lock without noDeploy entries and without entries whose marker is false on Lambda."""
    text = settings.requirements.read_text().replace("\\\n", " ")
    kept = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *hashes = line.split(" --hash=")
        spec, _, marker = spec.partition(";")
        name = re.split(r"[\[=<>!~ ]", spec.strip(), maxsplit=1)[0]
        if canonicalize_name(name) in settings.no_deploy:
            continue
        if marker.strip() and not Marker(marker.strip()).evaluate(TARGET_ENV):
            continue
        kept.append(" ".join([spec.strip(), *(f"--hash={h.strip()}" for h in hashes)]))
    return "\n".join(kept) + "\n"


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def install_requirements(settings: Settings, target: Path, cache: Path = CACHE) -> None:
    """`pip install -t` as the plugin runs it, from the wheel cache; fills the cache on a miss."""
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        reqs = Path(tmp) / "requirements.txt"
        reqs.write_text(deployed_requirements(settings))
        common = ["-r", str(reqs), *settings.pip_args]
        offline = ["install", "--target", str(target), "--no-index", "--find-links", str(cache), *common]
        if _pip(*offline).returncode != 0:
            fetch = [a for a in common if a not in INSTALL_ONLY]
            got = _pip("download", "--dest", str(cache), *fetch)
            if got.returncode != 0:
                raise SystemExit(f"pip download failed:\n{got.stderr[-4000:]}")
            done = _pip(*offline)
            if done.returncode != 0:
                raise SystemExit(f"pip install failed:\n{done.stderr[-4000:]}")


def _pattern(glob: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            out, i = out + ".*", i + 2
        elif glob[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif glob[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(glob[i]), i + 1
    return re.compile(out + r"\Z")


def project_files(settings: Settings, function: str) -> list[str]:
    """Files serverless takes for this function: patterns in order, `!` excluding, last match wins."""
    rules = [(p.startswith("!"), _pattern(p.lstrip("!"))) for p in (*settings.patterns, *settings.functions[function])]
    chosen = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            rel = Path(dirpath, name).relative_to(ROOT).as_posix()
            included = False
            for negated, rx in rules:
                if rx.match(rel):
                    included = not negated
            if included:
                chosen.append(rel)
    return chosen


def build(function: str, out: Path, settings: Settings | None = None) -> Path:
    """The unzipped package of `function` in `out` (replaced)."""
    settings = settings or load_settings()
    if function not in settings.functions:
        raise SystemExit(f"no function {function!r} in serverless.yml")
    shutil.rmtree(out, ignore_errors=True)
    install_requirements(settings, out)
    for rel in project_files(settings, function):
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest)
    return out


def zip_dir(src: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in src.rglob("*") if p.is_file()):
            zf.write(path, path.relative_to(src).as_posix())
    return dest


def _entry_overhead(arcname: str) -> int:
    """Local header (30) and central directory entry (46) around each member's name."""
    return 30 + 46 + 2 * len(arcname.encode())


def sizes() -> list[tuple[str, int, int]]:
    """(function, zipped bytes, unzipped bytes): the requirements are compressed once and each
    function's zip is their sum with its own files, as each member is compressed independently."""
    settings = load_settings()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        reqs = Path(tmp) / "reqs"
        install_requirements(settings, reqs)
        members: dict[str, tuple[int, int]] = {}
        with zipfile.ZipFile(Path(tmp) / "all.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(p for p in reqs.rglob("*") if p.is_file()):
                zf.write(path, path.relative_to(reqs).as_posix())
            req_names = list(zf.namelist())
            seen: set[str] = set()
            for function in settings.functions:
                for rel in project_files(settings, function):
                    if rel not in seen:
                        seen.add(rel)
                        zf.write(ROOT / rel, rel)
            for info in zf.infolist():
                members[info.filename] = (info.compress_size, info.file_size)
        for function in settings.functions:
            names = req_names + project_files(settings, function)
            zipped = 22 + sum(members[n][0] + _entry_overhead(n) for n in names)
            rows.append((function, zipped, sum(members[n][1] for n in names)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("function", nargs="?", help="function name in serverless.yml")
    parser.add_argument("--out", type=Path, help="package directory (default .data/lambda-package/FUNCTION)")
    parser.add_argument("--zip", action="store_true", help="also write FUNCTION.zip beside the directory")
    parser.add_argument("--sizes", action="store_true", help="report every function's package size")
    args = parser.parse_args(argv)
    if args.sizes:
        print(f"{'function':<16} {'zipped MiB':>10} {'unzipped MiB':>12}")
        for name, zipped, unzipped in sizes():
            print(f"{name:<16} {zipped / 2**20:>10.2f} {unzipped / 2**20:>12.2f}")
        print("limits: 50 MiB zipped for a direct upload, 250 MiB unzipped (code and layers)")
        return 0
    if not args.function:
        parser.error("name a function, or pass --sizes")
    out = args.out or ROOT / ".data" / "lambda-package" / args.function
    build(args.function, out)
    print(out)
    if args.zip:
        print(zip_dir(out, out.with_suffix(".zip")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
