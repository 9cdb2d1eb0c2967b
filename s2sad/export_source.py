"""The face, export: reading and rewriting the source text an export is made of.

Which global names a piece of source reads (`free_names`, from `symtable`), renaming some of
them in place with the rest of the text as it was (`rename`), the module-level statement that
makes one of s2sad's runtime globals (`assignment_source`), literals, and which objects come
from a library the exported module imports rather than copies.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import re
import symtable
import sys
import types
from collections.abc import Sequence

import numpy as np

MISSING = object()
"""What a scope holds for a name it does not have."""


def with_checks(source: str, name: str, checks: list[str]) -> str:
    """The generated function `name` in `source` with the lines `checks` first in its body."""
    if not checks:
        return source
    lines = source.splitlines(True)
    at = next(i for i, line in enumerate(lines) if line.startswith(f"def {name}("))
    return "".join(lines[:at + 1] + [line + "\n" for line in checks] + lines[at + 1:])


def assignment_source(module: str, name: str) -> str | None:
    """The source of the top-level statement `name = ...` of one of s2sad's modules."""
    source = inspect.getsource(sys.modules[module])
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) and node.value is not None else []
        if [t.id for t in targets if isinstance(t, ast.Name)] == [name] and len(targets) == 1:
            return ast.get_source_segment(source, node) + "\n"
    return None


def decorated(obj: object) -> bool:
    """A function wrapped by a decorator (`functools.lru_cache`, say): copied with its decorators."""
    return callable(obj) and isinstance(getattr(obj, "__wrapped__", None), types.FunctionType)


def is_builtin(obj: object, name: str) -> bool:
    return getattr(builtins, name, MISSING) is obj and not isinstance(obj, (bool, type(None)))


def library_module(module: str) -> bool:
    """A module of the standard library or an installed package (imported, not copied)."""
    top = module.partition(".")[0]
    if not top or top == "__main__":
        return False
    if top in sys.stdlib_module_names or top in ("numpy", "scipy"):
        return True
    found = sys.modules.get(top)
    path = getattr(found, "__file__", None) or ""
    return "site-packages" in path or "dist-packages" in path


def library_object(obj: object) -> bool:
    """A function, ufunc or class of a library module that the module can import by its name."""
    return import_path(obj) is not None


def import_path(obj: object) -> tuple[str, str] | None:
    """(module, name) to import `obj` from: its own module's, or for a ufunc that names none
    (SciPy's), the library module that holds it under its name."""
    module, name = getattr(obj, "__module__", None), getattr(obj, "__name__", None)
    if not isinstance(name, str):
        return None
    places = [module] if isinstance(module, str) else []
    if isinstance(obj, np.ufunc):
        places += ["numpy", "scipy.special"]
    for place in places:
        if library_module(place) and getattr(sys.modules.get(place), name, MISSING) is obj:
            return place, name
    return None


def float_literal(value: float) -> str:
    if math.isnan(value):
        return "float('nan')"
    if math.isinf(value):
        return "float('inf')" if value > 0 else "-float('inf')"
    return repr(value)


def display(kind: type, items: list[str]) -> str:
    if kind is tuple:
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if kind is list:
        return "[" + ", ".join(items) + "]"
    inner = "{" + ", ".join(items) + "}" if items else ""
    return f"{kind.__name__}({inner})"


def import_order(line: str) -> tuple[int, str]:
    return (0 if line.startswith("import ") else 1, line)


# -- names a piece of source reads ---------------------------------------------------------------


def free_names(source: str) -> tuple[set[str], set[str]]:
    """The global names `source` (one function or class, or several) reads, and the names that
    are local to one of its functions or classes (annotations left out: the module does not
    evaluate them)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            node.annotation = None
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
        elif isinstance(node, ast.AnnAssign):
            node.annotation = ast.Constant(None)
    top = symtable.symtable(ast.unparse(tree), "<export>", "exec")
    reads = {s.get_name() for s in top.get_symbols()
             if s.is_referenced() and not (s.is_assigned() or s.is_imported())}
    local: set[str] = set()
    for child in top.get_children():
        _scope_names(child, reads, local)
    return reads, local


def _scope_names(table: symtable.SymbolTable, reads: set[str], local: set[str]) -> None:
    for symbol in table.get_symbols():
        if symbol.is_global() and (symbol.is_referenced() or symbol.is_assigned()):
            reads.add(symbol.get_name())
        elif symbol.is_local() or symbol.is_parameter():
            local.add(symbol.get_name())
    for child in table.get_children():
        _scope_names(child, reads, local)


def runtime_attributes(source: str, scope: dict) -> tuple[list[tuple[ast.Attribute, object]], set[str]]:
    """The `runtime.helper` spellings in `source` (a name bound to one of s2sad's runtime
    modules, then an attribute) with the helper each names, and the module names read only so."""
    found, names = [], []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            names.append(node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = scope.get(node.value.id)
            if isinstance(module, types.ModuleType) and module.__name__.startswith("s2sad.runtime"):
                found.append((node, getattr(module, node.attr)))
    through = {node.value.id for node, _ in found}
    only = {name for name in through if names.count(name) == sum(node.value.id == name for node, _ in found)}
    return [(node, obj) for node, obj in found if node.value.id in only], only


def rename(source: str, renames: dict[str, str], spelled: Sequence[tuple[ast.Attribute, str]] = ()) -> str:
    """`source` with the global names and the `def`/`class` names in `renames` renamed, and each
    (attribute, name) of `spelled` written as the name; the rest of the text (comments, layout)
    as it was."""
    lines = source.splitlines(True)
    edits = [(node.lineno, node.col_offset, node.end_col_offset, name) for node, name in spelled]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id in renames:
            edits.append((node.lineno, node.col_offset, node.end_col_offset, renames[node.id]))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in renames:
            text = lines[node.lineno - 1].encode()
            found = re.compile(rb"(def|class)\s+(" + re.escape(node.name.encode()) + rb")\b").search(
                text, node.col_offset)
            edits.append((node.lineno, found.start(2), found.end(2), renames[node.name]))
    for line, start, end, new in sorted(edits, reverse=True):
        text = lines[line - 1].encode()
        lines[line - 1] = (text[:start] + new.encode() + text[end:]).decode()
    return "".join(lines)


def first_paragraphs(source: str) -> str:
    """`source` with each docstring cut to its first paragraph: s2sad's helpers keep their summary
    in an exported module, not the examples and argument lists written for s2sad's own docs."""
    lines = source.splitlines(True)
    nodes = [n for n in ast.walk(ast.parse(source))
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and ast.get_docstring(n)]
    for node in sorted(nodes, key=lambda n: n.body[0].lineno, reverse=True):
        first = node.body[0]
        summary = ast.get_docstring(node).split("\n\n")[0]
        if summary == ast.get_docstring(node) or '"""' in summary or "\\" in summary:
            continue
        indent = lines[first.lineno - 1][:first.col_offset]
        body = summary.replace("\n", "\n" + indent)
        lines[first.lineno - 1:first.end_lineno] = [f'{indent}"""{body}"""\n']
    return "".join(lines)
