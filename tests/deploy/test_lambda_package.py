"""A Lambda package built the way `serverless package` builds it (scripts/package_lambda.py reads
serverless.yml) holds what runs on python3.12/arm64: aarch64 or pure wheels, boto3 and botocore at
the locked versions, no build tools, and every module the handler can import.

Needs PyPI the first time (the wheels are cached under .data/lambda-wheels). Imports are resolved
by finding files, never by executing them: the aarch64 extensions cannot load on this machine.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from scripts.package_lambda import ROOT, TARGET_ENV, build, load_settings
from tests.deploy.test_locks import pins

FUNCTION = "health"
EXTENSION_SUFFIXES = (".cpython-312-aarch64-linux-gnu.so", ".abi3.so", ".so")
PROJECT_PACKAGES = {"functions", "shared"}
# Provided at run time by the Datadog Lambda layer and extension (serverless-plugin-datadog), not by us.
FROM_LAYERS = {"datadog_lambda", "ddtrace", "datadog"}
ELF_MACHINE = {183: "aarch64", 62: "x86_64"}


@pytest.fixture(scope="module")
def package() -> Path:
    return build(FUNCTION, ROOT / ".data" / "lambda-test" / FUNCTION)


def _dists(package: Path) -> dict[str, Path]:
    return {canonicalize_name(d.name.split("-", 1)[0]): d for d in package.glob("*.dist-info")}


def tag_ok(tag: str) -> bool:
    """A wheel tag Lambda's CPython 3.12 on arm64 (glibc 2.34) loads."""
    python, abi, platform = tag.split("-")
    if platform == "any":
        return abi == "none"
    manylinux = re.fullmatch(r"manylinux_2_(\d+)_aarch64", platform)
    glibc_ok = platform == "manylinux2014_aarch64" or (manylinux is not None and int(manylinux.group(1)) <= 34)
    cpython = re.fullmatch(r"cp3(\d+)", python)
    stable_abi = abi == "abi3" and cpython is not None and int(cpython.group(1)) <= 12
    abi_ok = (abi == "cp312" and python == "cp312") or stable_abi
    return glibc_ok and abi_ok


def test_tag_rule_refuses_other_platforms():
    assert tag_ok("py3-none-any") and tag_ok("cp312-cp312-manylinux_2_17_aarch64")
    assert tag_ok("cp39-abi3-manylinux2014_aarch64")
    assert not tag_ok("cp312-cp312-manylinux_2_17_x86_64")
    assert not tag_ok("cp311-cp311-manylinux_2_17_aarch64")
    assert not tag_ok("cp312-cp312-manylinux_2_39_aarch64")
    assert not tag_ok("cp312-cp312-musllinux_1_2_aarch64")


def test_every_wheel_is_for_python312_on_arm64(package):
    dists = _dists(package)
    assert len(dists) > 20
    for name, info in dists.items():
        tags = [line.split(": ", 1)[1] for line in (info / "WHEEL").read_text().splitlines() if line.startswith("Tag:")]
        assert tags and any(tag_ok(t) for t in tags), f"{name}: {tags}"
    machines = {}
    for so in package.rglob("*.so*"):
        header = so.read_bytes()[:20]
        if header[:4] == b"\x7fELF":
            machines[so.relative_to(package).as_posix()] = ELF_MACHINE.get(int.from_bytes(header[18:20], "little"))
    assert machines and set(machines.values()) == {"aarch64"}, {k: v for k, v in machines.items() if v != "aarch64"}
    assert not list(package.rglob("*.pyc")), "no bytecode compiled for the build machine's Python"


def test_no_build_tools_and_boto3_pinned_inside(package):
    dists = _dists(package)
    assert not {"cython", "setuptools"} & set(dists)
    assert not any((package / d).exists() for d in ("Cython", "setuptools", "pkg_resources", "_distutils_hack"))
    pinned = pins((ROOT / "requirements.txt").read_text())
    for name in ("boto3", "botocore"):
        assert name in dists, f"{name} must ship in the package, not come from the runtime"
        version = dists[name].name.removesuffix(".dist-info").split("-", 1)[1]
        assert version == pinned[name], (name, version)


def test_only_this_functions_code_is_packaged(package):
    assert (package / "functions" / FUNCTION / "__init__.py").is_file()
    assert (package / "functions" / FUNCTION / "routes.py").is_file()
    assert (package / "functions" / "__init__.py").is_file() and (package / "shared" / "config.py").is_file()
    assert not (package / "functions" / "users").exists(), "packaged individually"
    assert not (package / "functions" / "__main__.py").exists()


def _find(package: Path, dotted: str) -> Path | None:
    """The file (or namespace directory) that would satisfy `import dotted` from the package."""
    base = package.joinpath(*dotted.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    for suffix in EXTENSION_SUFFIXES:
        if base.with_name(base.name + suffix).is_file():
            return base.with_name(base.name + suffix)
    return base if base.is_dir() else None


def _imports(path: Path, module: str) -> list[tuple[str, bool]]:
    """(dotted name, lazy) for every import in a project module; lazy = inside a function or try."""
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Try)
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # never executed
            if isinstance(child, ast.Import):
                found.extend((alias.name, inner) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parent = package.rsplit(".", child.level - 1)[0] if child.level > 1 else package
                    base = f"{parent}.{base}" if base else parent
                found.append((base, inner))
                found.extend((f"{base}.{alias.name}", inner) for alias in child.names if alias.name != "*")
            visit(child, inner)

    visit(tree, False)
    return found


def unresolved_imports(package: Path, handler_module: str) -> list[str]:
    settings = load_settings()
    not_deployed = {name.replace("-", "_") for name in settings.no_deploy}
    stdlib = set(sys.stdlib_module_names)
    problems, seen, queue = [], set(), [handler_module]
    while queue:
        module = queue.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _find(package, module)
        if path is None or path.is_dir():
            problems.append(f"project module {module} is not in the package")
            continue
        for name, lazy in _imports(path, module):
            top = name.split(".")[0]
            if top in PROJECT_PACKAGES:
                if _find(package, name) is not None:
                    queue.append(name)
                elif "." not in name or _find(package, name.rpartition(".")[0]) is None:  # else an attribute
                    problems.append(f"{module}: {name} is not in the package")
            elif top in stdlib or top == "__future__":
                continue
            elif top in not_deployed or top in FROM_LAYERS:
                if not lazy and top in not_deployed:
                    problems.append(f"{module}: imports {top} at module level, but it is not deployed")
            elif _find(package, top) is None:
                problems.append(f"{module}: {top} does not resolve inside the package")
            elif "." in name and _find(package, name) is None and _find(package, name.rpartition(".")[0]) is None:
                problems.append(f"{module}: {name} does not resolve inside the package")
    return problems


def test_every_import_of_the_handler_resolves_inside_the_package(package):
    spec = yaml.safe_load((ROOT / "serverless.yml").read_text())["functions"][FUNCTION]["handler"]
    module = spec.rsplit(".", 1)[0].replace("/", ".")  # functions/health.handler -> functions.health
    assert unresolved_imports(package, module) == []


def test_import_check_notices_a_missing_library_and_a_missing_module(package, tmp_path):
    broken = tmp_path / "pkg"
    broken.mkdir()
    (broken / "functions").mkdir()
    (broken / "functions" / "__init__.py").write_text("")
    (broken / "functions" / "f.py").write_text("import boto3\nfrom shared import gone\n")
    assert set(unresolved_imports(broken, "functions.f")) == {
        "functions.f: shared is not in the package", "functions.f: shared.gone is not in the package",
        "functions.f: boto3 does not resolve inside the package"}
    (broken / "functions" / "f.py").write_text("import uvicorn\n")
    assert unresolved_imports(broken, "functions.f") == [
        "functions.f: imports uvicorn at module level, but it is not deployed"]


def test_every_dependency_of_a_packaged_distribution_is_packaged(package):
    dists = _dists(package)
    env = {**default_environment(), **TARGET_ENV, "extra": ""}
    missing = []
    for name, info in dists.items():
        for line in (info / "METADATA").read_text(errors="replace").splitlines():
            if not line.startswith("Requires-Dist:"):
                continue
            req = Requirement(line.split(":", 1)[1].strip())
            applies = req.marker is None or req.marker.evaluate(env)
            if applies and canonicalize_name(req.name) not in dists:
                missing.append(f"{name} needs {req.name}")
    assert missing == []
