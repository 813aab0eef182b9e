"""The rooms of the house and their allowed imports (docs/architecture.md, DESIGN.md), read from the source.

Rooms from low to high: settings, i18n, registry, law, model, screening, vision, plans, service, cli. A module may import
its own room and any lower one, never a higher one; and no chain of imports between modules comes back
to where it started. Every import counts — at the top of a module or inside a function (a deferred
import is still a dependency) — except those under ``if TYPE_CHECKING:``, which never run.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOMS = ("settings", "i18n", "registry", "law", "model", "screening", "vision", "plans", "service", "cli")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((SRC / "atauly").rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    """Every import statement, skipping the bodies of ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child
            stack.append(child)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@cache
def imports() -> dict[str, set[str]]:
    """Module → the modules of ours it imports (``from pkg import sub`` counts as importing ``pkg.sub``)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        found: set[str] = set()
        for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _resolve(module, is_package, node)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                while target and target not in modules:  # `import atauly.law.compute as c` and the like
                    target = target.rpartition(".")[0]
                if target.startswith("atauly") and target != module:
                    found.add(target)
        graph[module] = found
    return graph


def room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ROOMS else None


def upward_imports(graph: dict[str, set[str]] | None = None) -> list[str]:
    out = []
    for module, targets in sorted((graph or imports()).items()):
        own = room(module)
        for target in sorted(targets):
            other = room(target)
            if own and other and ROOMS.index(other) > ROOMS.index(own):
                out.append(f"{module} ({own}) imports {target} ({other})")
    return out


def cycles(graph: dict[str, set[str]] | None = None) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    graph = graph or imports()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_the_graph_is_read():
    graph = imports()
    assert "atauly.law.compute" in graph["atauly.cli.law"]
    assert "atauly.registry.io" in graph["atauly.registry"]  # a package's own submodules count
    assert all(room(m) for m in graph if m.count(".") >= 1), "a module outside the rooms"


def test_the_checks_catch_what_they_look_for():
    # The checks themselves, on a graph with one upward import and one circle.
    fake = {
        "atauly.registry.a": {"atauly.service.b"},
        "atauly.service.b": {"atauly.registry.a"},
        "atauly.law.c": set(),
    }
    assert upward_imports(fake) == ["atauly.registry.a (registry) imports atauly.service.b (service)"]
    assert cycles(fake) == [["atauly.registry.a", "atauly.service.b"]]


@pytest.mark.parametrize("lower", ROOMS[:-1])
def test_no_room_imports_a_higher_one(lower):
    bad = [line for line in upward_imports() if f"({lower}) imports" in line]
    assert not bad, "imports that run up the house:\n" + "\n".join(bad)


def test_no_import_cycles():
    found = cycles()
    assert not found, "import cycles:\n" + "\n".join(" ↔ ".join(c) for c in found)
