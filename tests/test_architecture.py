"""The import graph of ``toolgym``: no import cycle, and no module imports a layer above its own.

The graph is read from the source (``ast``), so it counts every import: top-level ones,
function-level ones and those under ``if TYPE_CHECKING:``. ``from a.b import c`` is an edge to
the module ``a.b.c`` when there is one, else to ``a.b``; ``import a.b`` is an edge to ``a.b``
only (the implicit import of a parent package is not counted).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "toolgym"

LAYERS: list[tuple[str, list[str]]] = [
    (
        "core",
        [
            "answers",
            "argument_text",
            "canonical",
            "content",
            "generation",
            "gold",
            "pickling",
            "runlog",
            "settings",
            "state_compare",
            "suite",
            "suite_folders",
            "tasks",
            "tooling",
        ],
    ),
    (
        "records",
        ["episode", "formats", "limits", "spaces", "tokens", "tracking", "trajectory_rows"],
    ),
    ("llm", ["llm"]),
    ("rewards and users", ["rewards", "users"]),
    ("env", ["", "bfcl", "env", "mcp", "registry", "validate"]),
    ("agents", ["collector", "policies"]),
    ("applications", ["audit", "eval", "serve", "spec_docs", "train"]),
    (
        "command line",
        ["__main__", "cli", "cli_config", "cli_content", "cli_mcp", "cli_run", "cli_user"],
    ),
]
"""Layers, bottom to top: a module may import its own layer and those below it.

An entry names a module of ``toolgym`` and every module under it (``"tokens"`` is the package
``toolgym.tokens`` and its modules; ``""`` is ``toolgym`` itself, the package's public API); the
longest entry that fits a module gives its layer.
"""


def module_name(path: Path) -> str:
    """The dotted name of a source file of the package (a package is its ``__init__``)."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of ``toolgym`` by dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(module: str, path: Path) -> Iterator[str]:
    """The ``toolgym`` modules that ``module`` imports anywhere in its source."""
    known = modules()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                while name and name not in known:  # ``import a.b.C`` is not valid, but be safe
                    name = name.rpartition(".")[0]
                if name.startswith("toolgym"):
                    yield name
        elif isinstance(node, ast.ImportFrom):
            base = _from_module(module, path, node)
            if base != "toolgym" and not base.startswith("toolgym."):
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in known:
                    yield full
                elif base in known:
                    yield base


def _from_module(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module of a ``from ... import`` (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


@cache
def graph() -> dict[str, frozenset[str]]:
    """Module -> the other ``toolgym`` modules it imports."""
    return {name: frozenset(imported(name, path)) - {name} for name, path in modules().items()}


def strongly_connected(edges: dict[str, frozenset[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or not (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
            elif target not in index:
                index[target] = low[target] = len(index)
                stack.append(target)
                on_stack.add(target)
                work.append((target, iter(sorted(edges[target]))))
            elif target in on_stack:
                low[node] = min(low[node], index[target])
    return groups


def one_cycle(group: list[str], edges: dict[str, frozenset[str]]) -> list[str]:
    """A shortest import cycle through the first module of ``group`` (breadth-first)."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(edges[node] & members):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"{group} is not a cycle")


def layer_of(module: str) -> int | None:
    """The index in ``LAYERS`` of the longest entry that fits ``module``, or None."""
    best: tuple[int, int] | None = None
    for position, (_, entries) in enumerate(LAYERS):
        for entry in entries:
            name = f"toolgym.{entry}" if entry else "toolgym"
            fits = module == name or (module.startswith(name + ".") and entry)
            if fits and (best is None or len(name) > best[0]):
                best = (len(name), position)
    return None if best is None else best[1]


def test_the_graph_sees_function_level_and_from_imports():
    edges = graph()
    assert "toolgym.llm.sampler" in edges["toolgym.llm.backends"]  # inside LocalBackend
    assert "toolgym.llm.backends" in edges["toolgym.rewards.judge"]  # ``from ... import ...``
    assert "toolgym.rewards.components" in edges["toolgym.rewards"]  # a submodule by name


def test_no_import_cycle():
    edges = graph()
    cycles = [" -> ".join(one_cycle(group, edges)) for group in strongly_connected(edges)]
    assert not cycles, "import cycles in toolgym:\n" + "\n".join(cycles)


def test_every_layer_entry_is_listed_once():
    entries = [entry for _, layer in LAYERS for entry in layer]
    assert len(entries) == len(set(entries)), sorted(e for e in entries if entries.count(e) > 1)


@pytest.mark.parametrize("module", sorted(modules()))
def test_module_has_a_layer(module):
    assert layer_of(module) is not None, (
        f"{module} is in no layer: add it (or its package) to LAYERS in {Path(__file__).name}"
    )


def test_no_upward_import():
    upward = []
    for module, targets in sorted(graph().items()):
        own = layer_of(module)
        for target in sorted(targets):
            above = layer_of(target)
            if own is not None and above is not None and above > own:
                upward.append(f"{module} ({LAYERS[own][0]}) imports {target} ({LAYERS[above][0]})")
    assert not upward, "imports of a higher layer:\n" + "\n".join(upward)
