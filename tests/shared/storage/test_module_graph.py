"""shared/storage imports form no circle: every module can be read (and imported) after the ones it needs.

Both module-level and function-level imports count (a lazy import only hides a circle until the call);
imports under `if TYPE_CHECKING:` do not, since they never run. Only imports of modules inside the
package are edges; the implicit import of a parent package is not.
"""

from __future__ import annotations

import ast
from pathlib import Path

from shared.config import PROJECT_ROOT

PACKAGE = "shared.storage"
ROOT = PROJECT_ROOT / "shared" / "storage"


def module_name(path: Path, base: Path) -> str:
    parts = path.relative_to(base).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(root: Path = ROOT, base: Path = PROJECT_ROOT, package: str = PACKAGE) -> dict[str, set[str]]:
    """module → the modules of the package it imports (anywhere in its body, TYPE_CHECKING excepted);
    `base` is the directory module names are relative to."""
    modules = {module_name(path, base): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, *([base] if base else [])])
                # `from pkg import sub` names a module when `pkg.sub` is one; else a name inside `pkg`
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                while target and target not in modules and target.startswith(package):
                    target = target.rpartition(".")[0]  # `import a.b.c` where only a.b is ours
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_shared_storage_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "shared.storage.factory" in graph and "shared.storage.replication.replicate" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " → ".join(cycle or [])


def test_the_checker_sees_function_level_imports_and_skips_type_checking(tmp_path: Path) -> None:
    pkg = tmp_path / "shared" / "storage"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from shared.storage import b\n")
    (pkg / "b.py").write_text("def later():\n    from shared.storage.c import x\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from shared.storage import a\n")

    def names(graph: dict[str, set[str]]) -> dict[str, set[str]]:
        return {k.rpartition(".")[2]: {v.rpartition(".")[2] for v in vs} for k, vs in graph.items()}

    graph = import_graph(pkg, tmp_path)
    assert names(graph) == {"storage": set(), "a": {"b"}, "b": {"c"}, "c": set()}
    assert find_cycle(graph) is None
    (pkg / "c.py").write_text("from . import a\n")
    cycle = find_cycle(import_graph(pkg, tmp_path))
    assert cycle is not None and [n.rpartition(".")[2] for n in cycle] == ["a", "b", "c", "a"]
