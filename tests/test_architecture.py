"""The package's shape (STYLE.md 9-11): layers that import only downwards, no import cycle, modules a reader can
hold in mind, and functions whose signature fits on a line or two."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import grimp

from kpi.core import paths

KPI = paths.ROOT / "kpi"
MAX_LINES = 400
MAX_PARAMETERS = 8


def test_the_layer_contracts_hold():
    """import-linter checks [tool.importlinter] in pyproject.toml: cli on top, then run, outputs, report and demo,
    province, indicators, intake, plan, and core at the bottom."""
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--config", str(paths.ROOT / "pyproject.toml")], capture_output=True,
                          text=True, cwd=paths.ROOT, env={**os.environ, "PYTHONPATH": str(paths.ROOT)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each a set of modules importing each other."""
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for m in modules:
        if m not in index:
            visit(m)
    return found


def test_no_import_cycle_in_kpi():
    assert _cycles(grimp.build_graph("kpi")) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for m in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(m)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert _cycles(graph) == [["a.x", "a.y"]]


def _sources() -> list[Path]:
    return sorted(p for p in KPI.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_over_400_lines():
    long = {p.relative_to(paths.ROOT).as_posix(): n for p in _sources()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_function_with_more_than_8_parameters_outside_the_cli():
    wide = []
    for p in _sources():
        if "cli" in p.relative_to(KPI).parts[:1]:  # kpi/cli/: argparse's commands take what the user typed
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                names = [x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs] if x.arg not in ("self", "cls")]
                if len(names) > MAX_PARAMETERS:
                    wide.append(f"{p.relative_to(paths.ROOT).as_posix()}:{node.lineno} {node.name} ({len(names)})")
    assert wide == []
