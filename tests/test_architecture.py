"""The package's architecture: no import cycle, and data flowing one way through the layers.

The import graph is read from the source with `ast` (imports inside functions count; imports
under `if TYPE_CHECKING:` count for the layers but not for cycles, since they never run). The
layers follow the brief: scenario -> people/network -> engine(mechanisms) -> results ->
analysis -> report/CLI. The engine builds the results, so in imports the results sit below the
engine; nothing below the analyses may import an analysis, a report or a command.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "chistka"

LAYERS = (
    ("errors", "rng", "kernels", "record", "scenario", "outputs", "provenance", "figures"),
    ("network", "people", "state"),
    ("results",),
    ("mechanisms", "engine"),
    ("analysis", "regression"),
    ("report",),
    ("commands", "cli", "__main__", "web"),
)
"""Top-level modules and subpackages of chistka, lowest layer first: each imports only from its
own layer or lower ones."""


def find_modules(src: Path, package: str) -> dict[str, Path]:
    """Every module of the package under `src`, by dotted name (a package by its __init__)."""
    found = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _under_type_checking(tree: ast.AST) -> set[int]:
    """Ids of the import nodes inside `if TYPE_CHECKING:` blocks."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            inside |= {
                id(sub) for sub in ast.walk(node) if isinstance(sub, ast.Import | ast.ImportFrom)
            }
    return inside


def import_graph(src: Path, package: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Imports between the package's modules: (all edges, edges that run at import or call).

    An import of a name from a module is an edge to that module; of a submodule, to the
    submodule. Edges into a package that contains the importing module (its face, such as
    `from chistka import __version__`) are left out.
    """
    modules = find_modules(src, package)
    every: dict[str, set[str]] = {name: set() for name in modules}
    running: dict[str, set[str]] = {name: set() for name in modules}

    def known(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = _under_type_checking(tree)
        own_package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = own_package.split(".")
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                targets = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                module = known(target)
                if module is None or module == name or name.startswith(module + "."):
                    continue
                every[name].add(module)
                if id(node) not in typing_only:
                    running[name].add(module)
    return every, running


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_of(module: str) -> int:
    """The layer of a module of chistka, by its top-level module or subpackage."""
    top = module.split(".")[1] if "." in module else module
    for level, names in enumerate(LAYERS):
        if top in names:
            return level
    raise AssertionError(f"{module} is in no layer: add '{top}' to LAYERS in {__file__}")


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Imports from a lower layer into a higher one, as 'importer -> imported'."""
    return sorted(
        f"{name} -> {target}"
        for name, targets in graph.items()
        if name != PACKAGE
        for target in targets
        if layer_of(target) > layer_of(name)
    )


@pytest.fixture(scope="module")
def graphs() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    return import_graph(SRC, PACKAGE)


def test_the_package_has_no_import_cycle(graphs):
    _, running = graphs
    assert len(running) > 40  # the walk found the package
    assert cycles(running) == []


def test_every_import_goes_down_the_layers(graphs):
    every, _ = graphs
    assert upward_imports(every) == []


def test_results_engine_and_mechanisms_import_no_analysis_report_or_command(graphs):
    every, _ = graphs
    above = ("analysis", "report", "commands", "cli", "regression", "web")
    for name, targets in every.items():
        if name.split(".")[1:2] and name.split(".")[1] in ("results", "engine", "mechanisms"):
            assert not [t for t in targets if t.split(".")[1] in above], name


def test_the_walk_finds_a_cycle_and_an_upward_import(tmp_path):
    """The checks can fail: a package with a cycle through a function's import, and a results
    module that imports a report."""
    package = tmp_path / PACKAGE
    (package / "report").mkdir(parents=True)
    (package / "__init__.py").write_text("from chistka.results import Results\n")
    (package / "results.py").write_text("def load():\n    from .report import draw\n")
    (package / "report" / "__init__.py").write_text("from chistka.report.page import draw\n")
    (package / "report" / "page.py").write_text(
        "from typing import TYPE_CHECKING\nimport chistka.results\n"
        "if TYPE_CHECKING:\n    from chistka.engine import Sim\n"
    )
    (package / "engine.py").write_text("from chistka import results\n")
    every, running = import_graph(tmp_path, PACKAGE)
    assert cycles(running) == [["chistka.report", "chistka.report.page", "chistka.results"]]
    assert "chistka.engine" in every["chistka.report.page"]
    assert "chistka.engine" not in running["chistka.report.page"]
    assert upward_imports(every) == ["chistka.results -> chistka.report"]


README = SRC.parent / "README.md"

HELPERS_MARK = "Beside them, three modules that are no mechanism:"
"""Where the README's list of the mechanisms ends and that of the other modules of the folder
begins."""


def readme_mechanisms() -> tuple[set[str], set[str]]:
    """The modules the README's model section names in its Mechanisms item: (mechanisms, others)."""
    text = README.read_text(encoding="utf-8")
    start = text.index("- **Mechanisms** (`mechanisms/`)")
    item = " ".join(text[start : text.index("\n- **", start + 1)].split())
    assert HELPERS_MARK in item
    mechanisms, others = item.split(HELPERS_MARK)
    named = re.compile(r"`([a-z_]+)\.py`")
    listed = set(named.findall(mechanisms))
    return listed, set(named.findall(others)) - listed  # a helper's users are named beside it


def test_the_readme_names_every_module_of_the_mechanisms_and_says_which_are_mechanisms():
    """QA of session 42: regional.py, a helper, was missing from the README's list, which gave
    base.py and registry.py only in passing. Every module of mechanisms/ is named once, among
    the mechanisms exactly those that hold a mechanism of the registry's order."""
    from chistka.mechanisms.registry import ORDER

    modules = {
        path.stem for path in (SRC / PACKAGE / "mechanisms").glob("*.py") if path.stem != "__init__"
    }
    stepping = {cls.__module__.rpartition(".")[2] for cls in ORDER}
    mechanisms, others = readme_mechanisms()
    assert mechanisms == stepping
    assert others == modules - stepping == {"base", "registry", "regional"}
