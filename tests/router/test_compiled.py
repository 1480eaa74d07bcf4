"""The compiled build: loaded only when it matches the sources, and reported by the router.

`make test` builds it (`python -m router.build`) and runs the router tests twice, once on each build,
so the rest of the suite is what shows both builds behave alike.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import router
from router.compiled import BUILD_DIR, MANIFEST, MODULES, ext_suffix, source_digest, usable_build

PKG = Path(router.__file__).parent
PURE = os.environ.get("ROUTER_PURE_PYTHON", "") not in ("", "0")


def fake_build(pkg: Path) -> Path:
    """A package folder holding copies of the sources and a build made from them (empty files
    stand in for the extension modules: only the loader's checks are under test)."""
    pkg.mkdir()
    for m in MODULES:
        for suffix in (".py", ".pxd"):
            if (PKG / (m + suffix)).exists():
                shutil.copy(PKG / (m + suffix), pkg)
    build = pkg / BUILD_DIR
    build.mkdir()
    for m in MODULES:
        (build / (m + ext_suffix())).write_bytes(b"")
    sources = {m: source_digest(str(pkg), m) for m in MODULES}
    (build / MANIFEST).write_text(json.dumps({"ext_suffix": ext_suffix(), "sources": sources}))
    return build


def test_a_build_is_used_only_while_it_matches_the_sources(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ROUTER_PURE_PYTHON", raising=False)
    pkg = tmp_path / "router"
    build = fake_build(pkg)
    assert usable_build(str(pkg)) == str(build)

    monkeypatch.setenv("ROUTER_PURE_PYTHON", "1")
    assert usable_build(str(pkg)) is None
    monkeypatch.setenv("ROUTER_PURE_PYTHON", "0")
    assert usable_build(str(pkg)) == str(build)

    pxd = pkg / "server.pxd"  # a changed declaration makes the build stale, like a changed .py
    pxd.write_text(pxd.read_text() + "\n")
    assert usable_build(str(pkg)) is None
    pxd.write_text(pxd.read_text()[:-1])
    assert usable_build(str(pkg)) == str(build)

    with (pkg / "exchange.py").open("a") as fh:
        fh.write("# edited\n")
    assert usable_build(str(pkg)) is None


def _drop_a_module(build: Path) -> None:
    (build / ("attempt" + ext_suffix())).unlink()


def _other_interpreter(build: Path) -> None:
    manifest = json.loads((build / MANIFEST).read_text())
    (build / MANIFEST).write_text(json.dumps({**manifest, "ext_suffix": ".cpython-39-x86_64-linux-gnu.so"}))


def _garbled_manifest(build: Path) -> None:
    (build / MANIFEST).write_text("{not json")


@pytest.mark.parametrize("spoil", [_drop_a_module, _other_interpreter, _garbled_manifest])
def test_an_incomplete_or_foreign_build_is_ignored(tmp_path: Path, monkeypatch, spoil) -> None:
    monkeypatch.delenv("ROUTER_PURE_PYTHON", raising=False)
    pkg = tmp_path / "router"
    build = fake_build(pkg)
    assert usable_build(str(pkg)) == str(build)
    spoil(build)
    assert usable_build(str(pkg)) is None


def _pxd_classes(pxd: Path) -> dict[str, tuple[str | None, set[str]]]:
    """class name -> (base class, attributes declared ``cdef public``) in one .pxd file."""
    classes: dict[str, tuple[str | None, set[str]]] = {}
    current = None
    for line in pxd.read_text().splitlines():
        head = re.match(r"cdef class (\w+)(?:\((\w+)\))?:", line)
        if head:
            current = head.group(1)
            classes[current] = (head.group(2), set())
        elif current and (attrs := re.match(r"\s+cdef public \w+ (.+?)\s*(#.*)?$", line)):
            classes[current][1].update(a.strip() for a in attrs.group(1).split(","))
    return classes


def _py_attributes(cls: ast.ClassDef) -> set[str]:
    """What instances of a class hold: its ``__slots__``, or every ``self.x =`` in a class without
    ``__slots__``, and its class-level annotations (the contract of a base class or mixin whose
    subclass sets them)."""
    slots: set[str] | None = None
    annotated = set()
    for node in cls.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__slots__" for t in node.targets):
            slots = set(ast.literal_eval(node.value))
        elif isinstance(node, ast.AnnAssign) and node.value is None and isinstance(node.target, ast.Name):
            annotated.add(node.target.id)
    if slots is not None:
        return slots | annotated
    targets = (t for node in ast.walk(cls) for t in getattr(node, "targets", [getattr(node, "target", None)]))
    assigned = {t.attr for t in targets if isinstance(t, ast.Attribute) and getattr(t.value, "id", "") == "self"}
    return annotated | assigned


def _hierarchy(name: str, bases: dict[str, str | None], attrs: dict[str, set[str]]) -> set[str]:
    found: set[str] = set()
    current: str | None = name
    while current is not None:
        found |= attrs[current]
        current = bases.get(current)
    return found


@pytest.mark.parametrize("module", [m for m in MODULES if (PKG / f"{m}.pxd").exists()])
def test_each_pxd_declares_exactly_the_attributes_of_its_classes(module: str) -> None:
    """A compiled class has no __dict__: an attribute the .py sets but the .pxd does not declare
    would fail only in the compiled build, and only when that line runs."""
    pxd_bases: dict[str, str | None] = {}
    pxd_attrs: dict[str, set[str]] = {}
    for pxd in PKG.glob("*.pxd"):
        for name, (base, attrs) in _pxd_classes(pxd).items():
            pxd_bases[name], pxd_attrs[name] = base, attrs
    py_bases: dict[str, str | None] = {}
    py_attrs: dict[str, set[str]] = {}
    for m in MODULES:
        for c in ast.parse((PKG / f"{m}.py").read_text()).body:
            if isinstance(c, ast.ClassDef):
                py_bases[c.name] = next((b.id for b in c.bases if isinstance(b, ast.Name)), None)
                py_attrs[c.name] = _py_attributes(c)
    for name in _pxd_classes(PKG / f"{module}.pxd"):
        assert name in py_attrs, f"{module}.pxd declares {name}, which the .py files do not define"
        assert (_hierarchy(name, pxd_bases, pxd_attrs) == _hierarchy(name, py_bases, py_attrs)), \
            f"{module}.{name}: the .pxd and the .py disagree on its attributes"


def test_the_router_reports_the_build_it_runs(start_backend, start_router) -> None:
    if not PURE and usable_build(str(PKG)) is None:
        pytest.skip("no compiled build matches the sources: run `python -m router.build` (make test does)")
    b = start_backend("a")
    expected = "python" if PURE else "compiled"
    r = start_router([b.url])
    assert r.status()["build"] == expected
    metrics = httpx.get(r.url + "/__router/metrics", timeout=5).text
    assert f"router_compiled {int(expected == 'compiled')}" in metrics
    assert httpx.get(r.url + "/hello", timeout=5).status_code == 200

    pure = start_router([b.url], env={"ROUTER_PURE_PYTHON": "1"})
    assert pure.status()["build"] == "python"
    assert httpx.get(pure.url + "/hello", timeout=5).status_code == 200


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_first(module: str) -> None:
    """Compiled modules load each other's C types as they start: whichever a program imports first
    loads, with what it cimports, without a half-loaded name (``test_module_graph.py``: no cycle)."""
    proc = subprocess.run([sys.executable, "-c", f"import router.{module}"], cwd=PKG.parent,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_without_a_c_compiler_the_build_steps_aside_only_when_asked(tmp_path: Path) -> None:
    """`make run` and `make test` pass --if-possible: on a machine with Python alone the router runs
    its .py files. Render's build does not, so a deploy never ships the slower build silently."""
    shutil.copytree(PKG, tmp_path / "router", ignore=shutil.ignore_patterns(BUILD_DIR, "__pycache__"))
    env = {**os.environ, "PATH": str(tmp_path / "empty")}  # no gcc / cc to be found
    run = [sys.executable, "-m", "router.build", "--quiet"]
    asked = subprocess.run([*run, "--if-possible"], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=60)
    assert asked.returncode == 0, asked.stderr
    assert "not compiled: no C compiler" in asked.stdout
    assert not (tmp_path / "router" / BUILD_DIR).exists()
    plain = subprocess.run(run, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 1
    assert "compiled build failed" in plain.stderr
