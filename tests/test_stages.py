"""The stages flow one way: the import graph of s2sad/ has no circle and no stage imports a
later one or the face; the user's function is normalised once per call; the pipeline runs the
transform its TRANSFORMS table names for the mode.

The import graph is read from the source with `ast` (top-level imports and imports made inside
functions alike: a lazy import ties two modules as firmly as a top-level one).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import numpy as np

import s2sad
from s2sad import cache, pipeline
from s2sad.core import ir, modes, targets
from s2sad.pipeline import Request

PACKAGE = Path(s2sad.__file__).parent

LAYERS = ["errors", "runtime", "core", "rules", "front", "analyses", "transforms", "back", "pipeline", "cache"]
"""Each part of the package, lowest first: a module imports only modules of its own part or
of a lower one. Everything else (api, custom, higher, testing, cli) is the face, on top."""

ACCEPTED = {("core.ir", "core.syntax")}
"""Circles of two modules that another change of the restructuring resolves (the IR printer)."""


def _modules() -> dict[str, Path]:
    mods = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def _imported(node: ast.AST, current: str, mods: dict[str, Path]) -> list[str]:
    """The package modules (names relative to the package) one import statement names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        names = [f"{base}.{alias.name}" for alias in node.names] + [base]
    found = []
    for name in names:
        if not (name == "s2sad" or name.startswith("s2sad.")):
            continue
        name = name.removeprefix("s2sad").removeprefix(".")
        while name and name not in mods:
            name = name.rpartition(".")[0]
        if name and name != current:
            found.append(name)
    return found


def _edges() -> dict[str, dict[str, tuple[int, str]]]:
    """module -> imported module -> (line, the import's own line of text)."""
    mods = _modules()
    edges: dict[str, dict[str, tuple[int, str]]] = {name: {} for name in mods}
    for name, path in mods.items():
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _imported(node, name, mods):
                    edges[name].setdefault(target, (node.lineno, lines[node.lineno - 1]))
    return edges


def _circles(edges: dict[str, dict]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _deliberate(circle: set[str], edges: dict) -> bool:
    """A circle closed by a lazy load that says why (a comment on its line), or one accepted."""
    if any({a, b} == circle for a, b in ACCEPTED):
        return True
    return any("#" in edges[a][b][1] and edges[a][b][1].startswith((" ", "\t"))
               for a in circle for b in edges[a] if b in circle)


def test_no_import_circle():
    edges = _edges()
    circles = [sorted(c) for c in _circles(edges) if not _deliberate(c, edges)]
    assert not circles, f"import circles in s2sad/: {circles}"


def _layer(module: str) -> int:
    head = module.split(".")[0]
    return LAYERS.index(head) if head in LAYERS else len(LAYERS)


def test_no_stage_imports_a_later_stage_or_the_face():
    wrong = [f"{a} imports {b} (its line {line})" for a, targets_ in _edges().items()
             for b, (line, _) in targets_.items() if _layer(b) > _layer(a)]
    assert not wrong, "\n".join(wrong)


def test_the_circle_check_finds_a_circle():
    assert _circles({"a": {"b": 0}, "b": {"c": 0}, "c": {"a": 0}, "d": {"a": 0}}) == [{"a", "b", "c"}]


# ------------------------------------------------------------------ one target record


def _counting(monkeypatch, fun: object) -> dict[str, int]:
    """Count the normalisations of `fun` (unwrapping it to its plain function, replacing a
    custom-rule object by its caller) wherever the package calls them."""
    counts = {"unwrap": 0, "as_function": 0}

    def counter(original, label):
        def counted(obj, *args, **kwargs):
            counts[label] += obj is fun
            return original(obj, *args, **kwargs)
        return counted

    for original, label in ((targets._plain, "unwrap"), (targets.as_function, "as_function")):
        wrapper = counter(original, label)
        for name, module in list(sys.modules.items()):
            if name == "s2sad" or name.startswith("s2sad."):
                for attr, value in list(vars(module).items()):
                    if value is original:
                        monkeypatch.setattr(module, attr, wrapper)
    return counts


def test_the_function_is_normalised_once_per_call(monkeypatch):
    def f(x, y):
        return np.sin(x) * y + x ** 2

    counts = _counting(monkeypatch, f)
    assert np.isclose(s2sad.grad(f)(2.0, 5.0), 5.0 * np.cos(2.0) + 4.0)
    assert counts == {"unwrap": 1, "as_function": 1}


def test_a_callee_is_normalised_where_its_derivative_is_looked_up(monkeypatch):
    def g(x):
        return x * x

    def f(x):
        return g(x) + 1.0

    counts = _counting(monkeypatch, g)
    assert np.isclose(s2sad.grad(f)(3.0), 6.0)
    assert counts["unwrap"] >= 1  # through `derive`, which the cache hands the pipeline


def test_a_target_is_passed_through_as_is():
    def f(x):
        return x * 2.0

    target = targets.target_of(f)
    assert targets.target_of(target) is target
    assert target.plain is f and target.params == ("x",) and target.bound is targets.UNBOUND


# ------------------------------------------------------------------ one table of transforms


def test_every_mode_has_a_transform():
    assert set(pipeline.TRANSFORMS) == {modes.JVP, *modes.REVERSE_FORMS, modes.TAYLOR}
    assert set(modes.DIRECTIONS.values()) <= set(pipeline.TRANSFORMS)
    assert modes.family(modes.taylor_mode(5)) == modes.TAYLOR and modes.taylor_order(modes.taylor_mode(5)) == 5
    assert modes.family(modes.JVP) == modes.JVP and modes.taylor_order(modes.JVP) is None


def _toy(primal: ir.Function, ctx) -> ir.Function:
    """A transform that returns the primal itself, renamed: its derivative is the function."""
    assert ctx.request.mode == "toy" and ctx.request.wrt == ("x",)
    return ir.Function(primal.name + "_toy", list(primal.params), list(primal.body), primal.filename,
                       primal.firstline, primal.lines, set(primal.temps))


def test_the_pipeline_runs_the_transform_its_table_names(monkeypatch):
    def f(x):
        return np.sin(x) * 3.0

    monkeypatch.setitem(pipeline.TRANSFORMS, "toy", _toy)
    built = cache.get(f, Request("toy", ("x",)))
    assert "def f_toy(x):" in built.source
    assert np.isclose(built.fun(0.5), np.sin(0.5) * 3.0)


def test_modes_are_compared_by_their_names_in_one_place():
    """No comparison in the package spells a mode: they use the constants of core.modes."""
    names = {modes.JVP, modes.GRAD, modes.VALUE_AND_GRAD, modes.VJP, modes.FORWARD, modes.REVERSE}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "modes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                consts = [n.value for n in ast.walk(node) if isinstance(n, ast.Constant)]
                found += [f"{path.relative_to(PACKAGE)}:{node.lineno}" for c in consts if c in names]
    assert not found, found
