"""The router's modules import each other without a cycle, so each one can be read and tested alone.

Edges are the intra-package imports of every ``router/*.py`` file, at module level and inside
functions (an import run late is still an import), and the ``cimport``s of the ``.pxd`` files: the
compiled build imports a cimported module when it loads, for its C types. Imports under
``if TYPE_CHECKING:`` only name types for annotations and never run, so they do not count as
edges; a second test checks that they close no cycle either.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import router

PKG = Path(router.__file__).parent
MODULES = sorted(p.stem for p in PKG.glob("*.py"))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _target(module: str | None, names: list[str], level: int) -> list[str]:
    """The router modules an import statement loads (``__init__`` for the package itself)."""
    if level == 0:  # absolute: ``import router.x`` / ``from router.x import y`` / ``from router import x``
        if module is None or not (module == "router" or module.startswith("router.")):
            return []
        module = module[len("router."):] if module.startswith("router.") else None
    elif level > 1:
        return []  # above the package
    if module:
        return [module.split(".")[0]]
    return [n if (PKG / f"{n}.py").exists() else "__init__" for n in names]


def py_imports(source: str, type_checking: bool) -> set[str]:
    """Intra-package imports of one module; those under ``if TYPE_CHECKING:`` only if asked."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in (node.body if type_checking else []) + node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom):
            found.update(_target(node.module, [a.name for a in node.names], node.level))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                found.update(_target(alias.name, [], 0) if alias.name.startswith("router.") else [])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return found


def pxd_cimports(source: str) -> set[str]:
    return set(re.findall(r"^\s*from\s+\.(\w+)\s+cimport\b", source, re.M)) | set(
        re.findall(r"^\s*from\s+router\.(\w+)\s+cimport\b", source, re.M))


def graph(type_checking: bool = False) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for m in MODULES:
        deps = py_imports((PKG / f"{m}.py").read_text(), type_checking)
        pxd = PKG / f"{m}.pxd"
        if pxd.exists():
            deps |= pxd_cimports(pxd.read_text())
        edges[m] = deps - {m}
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path that ends where it starts, or None (depth-first, three colours)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := dfs(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := dfs(start)) is not None:
            return found
    return None


def test_the_graph_reader_sees_imports_of_every_kind() -> None:
    src = (
        "from . import COMPILED\nfrom .status import snapshot\nimport router.limits\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .app import Router\n"
        "def f():\n    from .admin import InternalRequest\n"
    )
    assert py_imports(src, False) == {"__init__", "status", "limits", "admin"}
    assert py_imports(src, True) == {"__init__", "status", "limits", "admin", "app"}
    assert pxd_cimports("cimport cython\nfrom .core cimport RouterCore\n") == {"core"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_module_graph_has_no_cycle() -> None:
    edges = graph()
    assert edges["app"] >= {"server", "exchange", "admin", "core"}  # the reader found the edges
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_annotation_only_imports_close_no_cycle_either() -> None:
    cycle = find_cycle(graph(type_checking=True))
    assert cycle is None, "import cycle through `if TYPE_CHECKING:` imports: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("module", [m for m in MODULES if m not in ("__init__", "__main__")])
def test_each_module_imports_alone(module: str) -> None:
    proc = subprocess.run([sys.executable, "-c", f"import router.{module}"], cwd=PKG.parent,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr[-2000:]
