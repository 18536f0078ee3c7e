"""The product's layout: rooms of at most 400 lines, no import cycle, dependencies that point one way.

Pure file reading: every product module is parsed with ``ast`` (nothing is imported), and its
imports, those inside functions included, are resolved to the product modules they load. A
package's ``__init__.py`` is the module named after the package, and loading ``a.b.c`` loads
``a.b`` too (its ``__init__`` runs first) unless the importer is inside ``a.b`` already;
``from X import Y`` loads ``X.Y`` when Y is a submodule, else ``X``. Imports of anything outside
the product are ignored.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("analysis", "slo", "reports", "loadgate", "scenarios", "contract", "demo_api")
SCRIPTS = ("locustfile.py",)
MAX_LINES = 400
#: Each layer may import none of these (``contract`` is allowed everywhere, and imports nothing).
FORBIDDEN = {
    "analysis": ("slo", "reports", "loadgate"),
    "slo": ("reports", "loadgate"),
    "reports": ("loadgate",),
    "scenarios": ("analysis", "slo", "reports", "loadgate"),
    "demo_api": ("analysis", "slo", "reports", "loadgate"),
    "locustfile": ("analysis", "slo", "reports", "loadgate", "demo_api"),
    "contract": ("analysis", "slo", "reports", "loadgate", "scenarios", "demo_api", "locustfile"),
}
#: ``import locust`` patches the whole process with gevent, so these never import it.
NO_LOCUST = ("analysis", "slo", "reports", "contract")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def _modules() -> dict[str, Path]:
    """Every product module by dotted name."""
    paths = [p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))] + [REPO / s for s in SCRIPTS]
    return {_module_name(p): p for p in paths}


@functools.cache
def _tree(name: str) -> ast.Module:
    path = _modules()[name]
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _import_nodes(name: str) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement in the module, those inside functions and ``if`` blocks included."""
    return [node for node in ast.walk(_tree(name)) if isinstance(node, (ast.Import, ast.ImportFrom))]


def _is_package(name: str) -> bool:
    return _modules()[name].name == "__init__.py"


def _resolve(importer: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The product modules an import statement names (a package's submodule when it names one)."""
    modules = _modules()
    if isinstance(node, ast.Import):
        found = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = importer if _is_package(importer) else importer.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}".strip(".")
        found = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    out = []
    for name in found:
        # ``import a.b.c`` where only ``a.b`` is ours (``c`` a name in it) still loads ``a.b``.
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name:
            out.append(name)
    return out


@functools.cache
def _imports() -> dict[str, tuple[tuple[str, int], ...]]:
    """For every product module, the product modules it imports (anywhere in it), each with its line."""
    graph = {}
    for name in _modules():
        edges = {(target, node.lineno) for node in _import_nodes(name) for target in _resolve(name, node)}
        graph[name] = tuple(sorted(edges, key=lambda e: (e[1], e[0])))
    return graph


def _loads(importer: str, target: str) -> list[str]:
    """What importing ``target`` runs: its packages' ``__init__`` first (those not already around
    the importer), then the module itself."""
    out = [target]
    parent = target.rpartition(".")[0]
    while parent and not (importer == parent or importer.startswith(parent + ".")):
        out.append(parent)
        parent = parent.rpartition(".")[0]
    return out


def _where(name: str, line: int) -> str:
    return f"{_modules()[name].relative_to(REPO)}:{line}"


def _components(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """The strongly connected components with more than one module, or a module importing itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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
            if len(component) > 1 or v in graph[v]:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _shortest_cycle(graph: dict[str, dict[str, str]], start: str, within: set[str]) -> list[str]:
    """A shortest import cycle through ``start`` inside one component: the edges' sentences."""
    paths = {start: [start]}
    queue = [start]
    for v in queue:
        for w in sorted(graph[v]):
            if w == start:
                path = paths[v] + [start]
                return [graph[a][b] for a, b in zip(path, path[1:])]
            if w in within and w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    return []


def test_the_layout_sees_every_product_package_and_resolves_imports_between_them():
    modules = _modules()
    assert {"loadgate.cli", "slo.rules", "analysis.prom_source", "contract", "locustfile"} <= set(modules)
    targets = {target for edges in _imports().values() for target, _ in edges}
    assert {"contract", "analysis.queries", "slo.model"} <= targets


def test_every_product_module_is_at_most_400_lines():
    too_long = [f"{path.relative_to(REPO)}: {n} lines" for path in _modules().values()
                if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not too_long, "\n".join(too_long)


def test_no_product_modules_import_each_other_in_a_cycle_counting_imports_inside_functions():
    # Each edge says where it is first made: "slo/spec.py:21 imports slo.model", or, for a package
    # whose __init__ runs because one of its submodules is imported, "... imports slo.openslo.read
    # (running slo.openslo's __init__)".
    graph: dict[str, dict[str, str]] = {name: {} for name in _modules()}
    for name, edges in _imports().items():
        for target, line in edges:
            for loaded in _loads(name, target):
                running = "" if loaded == target else f" (running {loaded}'s __init__)"
                graph[name].setdefault(loaded, f"{_where(name, line)} imports {target}{running}")
    # The shortest cycle through each module of a tangle, each cycle once.
    cycles = {frozenset(cycle): cycle for component in _components(graph) for start in component
              if (cycle := _shortest_cycle(graph, start, set(component)))}
    assert not cycles, "\n\n".join("\n".join(cycle) for cycle in cycles.values())


def test_dependencies_point_one_way_from_loadgate_to_reports_to_slo_to_analysis():
    violations = [f"{_where(name, line)} imports {target}"
                  for name, edges in _imports().items()
                  for target, line in edges
                  if target.partition(".")[0] in FORBIDDEN.get(name.partition(".")[0], ())]
    assert not violations, "\n".join(violations)


def test_no_command_module_imports_another_command():
    def command(name: str) -> bool:
        return name.startswith("loadgate.cmd_")

    violations = [f"{_where(name, line)} imports {target}"
                  for name, edges in _imports().items() if command(name)
                  for target, line in edges if command(target) and target != name]
    assert not violations, "\n".join(violations)


def test_the_analysis_slo_reports_and_contract_never_import_locust_or_gevent():
    violations = [f"{_where(name, node.lineno)} imports {module}"
                  for name in _modules() if name.partition(".")[0] in NO_LOCUST
                  for node in _import_nodes(name)
                  for module in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""])
                  if module.partition(".")[0] in ("locust", "gevent", "geventhttpclient")]
    assert not violations, "\n".join(violations)
