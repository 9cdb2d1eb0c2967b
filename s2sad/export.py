"""The face, export: a derivative written out as a standalone Python module.

`export(f)` builds the derivative `s2sad.show(f)` prints and writes a module that defines it
with exactly what its code reads: the runtime helpers it calls (their source, and the helpers,
constants and imports those read in turn), the user's constants and functions it calls (their
source: the file is self-contained), the derivatives of the user's callees (their generated
code) and the imports of numpy, math and the like. The module imports neither s2sad nor the
user's module.

What each piece of code reads is found from its source with `symtable` (the names it reads as
globals), resolved in the namespace the piece runs in (`__globals__`), and written once each
into the module, dependencies first. A name two pieces use for different objects is renamed in
one of them (`helper_1`). What cannot be written down as source (a function value whose
derivative is looked up when the code runs, a custom rule, `checkpoint`, an object's method, a
closure, an object with no literal form) is an `ExportError` naming it: the exported file
either runs as s2sad's code does or is not written.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import keyword
import os
import sys
import textwrap
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from s2sad import cache
from s2sad.analyses.shapes import NUMBER
from s2sad.api import Argnums, Transformed, _show_signature
from s2sad.core.modes import DIRECTIONS, FORWARD, REVERSE, TAYLOR, taylor_mode
from s2sad.core.targets import UNBOUND, is_variadic, target_of
from s2sad.errors import ExportError, Location, UsageError, caller
from s2sad.export_source import (
    MISSING,
    assignment_source,
    decorated,
    display,
    first_paragraphs,
    float_literal,
    free_names,
    import_order,
    import_path,
    is_builtin,
    library_module,
    library_object,
    rename,
    runtime_attributes,
    with_checks,
)
from s2sad.pipeline import Built
from s2sad.runtime.series import Series
from s2sad.version import __version__

__all__ = ["export"]

_RUNTIME, _USER, _GENERATED = "runtime", "user", "generated"
_SECTIONS = {_RUNTIME: "s2sad's runtime helpers that the code calls (s2sad.runtime, s2sad.errors)",
             _USER: "from the user's modules: the constants and functions the code reads",
             _GENERATED: "the derivative code s2sad generated"}
"""The module's sections, in order: each reads only from itself and those above it when the
module is imported."""

_OWN_SOURCE = ("s2sad.runtime", "s2sad.errors")
"""s2sad modules whose functions and classes are copied into an export (the rest are refused)."""
_DISPATCH = "s2sad.runtime.dispatch"
"""Where calls of function values look their derivative up when the code runs (refused)."""


def export(fun: Callable, path: str | os.PathLike | None = None, *, mode: str = REVERSE, argnums: Argnums = 0,
           kinds: Sequence[str | None] | None = None, shapes: Sequence[tuple | None] | None = None,
           order: int = 2, optimize: bool = True) -> str:
    """The derivative of `fun` as the text of a standalone module that needs numpy alone.

    The module holds the generated derivative function and exactly what its code reads: s2sad's
    runtime helpers it calls (copied from their source), the derivatives of your functions it
    calls, your functions and module constants. A header says what it was made from and how to
    call it. `s2sad export TARGET -o file.py` is the same on the command line.

    Args:
        fun: The function, defined with `def` in a file, as for `grad`.
        path: Where to write the module; None writes nothing (the text is returned either way).
        mode: "reverse" (the entry returns what `grad(fun, argnums)` returns), "forward"
            (`entry(*args, *tangents)` returns `(out, tangent)`, as `jvp`) or "taylor"
            (`entry(primals, series)`, as `s2sad.taylor`).
        argnums: The parameters to differentiate with respect to, as for `grad`.
        kinds: "scalar" or "array" (or None: anything) per parameter: export the code
            specialised to such arguments. By default, the code for floats or arrays of any shape.
        shapes: An array's shape (or None) per parameter, with `kinds`; "float" for a Python
            float or int (the code then writes the zero and seed of numbers made from it as
            `0.0` and `1.0`).
        order: With mode="taylor", the order of the Taylor coefficients.
        optimize: Export the optimized code (the default) or the code before optimization.

    Returns:
        The module's text.

    Raises:
        ExportError: The derivative reads something that cannot stand alone: a function value
            whose derivative is looked up when it runs, a custom rule or `checkpoint`, a method,
            a closure, or a global with no literal form.
        UsageError: `kinds` or `shapes` does not give one entry per parameter.

    Examples:
        >>> import s2sad
        >>> from s2sad.testing import make_function
        >>> f = make_function("def f(x):\\n    return x * x * 3.0\\n")
        >>> text = s2sad.export(f, kinds=("scalar",))
        >>> print(text.splitlines()[0])
        # Exported by s2sad ... (s2sad.export): the gradient of f.
        >>> namespace = {}
        >>> exec(compile(text, "f_grad.py", "exec"), namespace)
        >>> namespace["f_grad"](2.0)
        12.0
    """
    transformed = _transformed(fun, mode, argnums, order, optimize)
    _check_per_parameter(transformed, kinds, "kinds")
    _check_per_parameter(transformed, shapes, "shapes")
    signature = _show_signature(transformed, mode, kinds, shapes)
    built = transformed.built(*signature)
    text = _Module(transformed, built, mode, order, signature).text()
    if path is not None:
        Path(path).write_text(text)
    return text


def _transformed(fun: Callable, mode: str, argnums: Argnums, order: int, optimize: bool) -> Transformed:
    if mode not in DIRECTIONS and mode != TAYLOR:
        raise ValueError(f"export: mode must be 'reverse', 'forward' or 'taylor', not {mode!r}")
    target = target_of(fun)
    name = getattr(target.fun, "__qualname__", repr(target.fun))
    where = _def_location(target.plain)
    if target.bound is not UNBOUND:
        raise ExportError(f"cannot export {name}: it is a bound method, and its derivative takes the object "
                          "(`self`) as its first argument", where,
                          hint="export a module-level function that takes what the method reads as arguments")
    if is_variadic(target):
        raise ExportError(f"cannot export {name}: it takes *args or **kwargs, and s2sad builds its derivative "
                          "per call shape", where, hint="give it named parameters for export")
    mode_name = taylor_mode(order) if mode == TAYLOR else DIRECTIONS[mode]
    return Transformed(fun, mode_name, argnums, optimize)


def _check_per_parameter(transformed: Transformed, given: Sequence | None, what: str) -> None:
    params = transformed.target.params
    if given is not None and len(given) != len(params):
        raise UsageError(f"export: {what} gives {len(given)} entries but {transformed.target.plain.__qualname__} "
                         f"takes {len(params)} parameters {list(params)}", caller(),
                         hint="give one entry per parameter (None: anything)")


def _def_location(fun: Any) -> Location:
    code = fun.__code__
    return Location(code.co_filename, code.co_firstlineno)


def _callee_entries(built: Built, found: dict[int, Built]) -> dict[int, Built]:
    """Every entry `built` was made from, transitively, by the id of each function it defines."""
    for entry, _ in built.callees:
        if id(entry.fun) not in found:
            found[id(entry.fun)] = entry
            if entry.bwd is not None:
                found[id(entry.bwd)] = entry
            _callee_entries(entry, found)
    return found


class _Module:
    """One exported module: its imports, its definitions (dependencies first) and its entry."""

    def __init__(self, transformed: Transformed, built: Built, mode: str, order: int,
                 signature: tuple[tuple, tuple | None]) -> None:
        self.transformed, self.built, self.mode, self.order = transformed, built, mode, order
        self.kinds, self.shapes = signature
        self.names: dict[str, object] = {}
        """Name in the module -> the object it holds."""
        self.by_id: dict[int, str] = {}
        self.imports: dict[str, str] = {}
        """Name -> the import statement that binds it."""
        self.defs: dict[str, list[str]] = {group: [] for group in _SECTIONS}
        """The definitions of each section, each list dependencies first."""
        self.entries = _callee_entries(built, {id(built.fun): built})
        self.where = _def_location(transformed.target.plain)
        self.reader: tuple[Built | None, str] = (None, "")
        """The piece of code whose reads are being bound (see `_bind_read`)."""
        self.constant = ""
        """The global whose value is being written as a literal (errors point where it is read)."""

    # -- the text --------------------------------------------------------------------------------

    def text(self) -> str:
        entry = self.bind(self.built.fun, self.built.fun.__name__)
        checks = [line for p, k, s in zip(self.transformed.target.params, self.kinds,
                                          self.shapes or (None,) * len(self.kinds))
                  for line in self._check(p, k, s, entry)]
        self.defs[_GENERATED][-1] = with_checks(self.defs[_GENERATED][-1], entry, checks)
        if self.mode == TAYLOR:
            entry = self._taylor_entry(entry)
        imports = "\n".join(sorted(self.imports.values(), key=import_order))
        body = "\n\n\n".join(f"# {_SECTIONS[group]}\n\n" + "\n\n\n".join(d.rstrip("\n") for d in defs)
                             for group, defs in self.defs.items() if defs)
        head = f"{_header(self, entry)}\nfrom __future__ import annotations\n" + (f"\n{imports}\n" if imports else "")
        return f"{head}\n\n{body}\n\n\n__all__ = [{entry!r}]\n"

    # -- binding one object to one name ----------------------------------------------------------

    def bind(self, obj: object, preferred: str, avoid: frozenset[str] = frozenset(), user: str = "") -> str:
        """The module's name for `obj` (written into the module on first use), `preferred` if
        it is free; `avoid`: the local names of the code that reads it; `user`: who reads it."""
        known = self.by_id.get(id(obj))
        if known is not None:
            if known in avoid:
                raise ExportError(f"cannot export: {known!r} is a global of one piece of the code and a local "
                                  f"variable of {user or 'another'}", self.where, hint="rename one of them")
            return known
        if is_builtin(obj, preferred):
            return self._reserve(obj, preferred)
        if isinstance(obj, cache.Deferred):  # a recursive call: the entry being built then, built now
            return self.bind(self._deferred(obj), preferred, avoid, user)
        if isinstance(obj, types.ModuleType):
            return self._import_module(obj, preferred, avoid)
        if getattr(obj, "__s2sad_generated__", False) and id(obj) in self.entries:
            return self._generated(obj, preferred, avoid)
        if getattr(type(obj), "__s2sad_rule__", None) is not None:
            raise ExportError(f"cannot export: the code calls {preferred}, a function with a custom rule "
                              "(custom_vjp, custom_jvp or checkpoint), which s2sad applies through its own objects",
                              self._user_location(preferred), hint="export a function without custom rules")
        if isinstance(obj, (types.FunctionType, type)) or decorated(obj):
            return self._definition(obj, preferred, avoid, user)
        if library_object(obj):
            return self._import_object(obj, preferred, avoid)
        return self._constant(obj, preferred, avoid, user)

    def _deferred(self, stub: cache.Deferred) -> types.FunctionType:
        entry = cache.get(stub.target, stub.request)
        self.entries.update(_callee_entries(entry, {id(part): entry for part in (entry.fun, entry.bwd) if part}))
        return stub.__s2sad_source_function__

    def _choose(self, preferred: str, obj: object, avoid: frozenset[str]) -> str:
        name, n = preferred, 0
        while (name in self.names or name in avoid or keyword.iskeyword(name) or name == "annotations"
               or (hasattr(builtins, name) and getattr(builtins, name) is not obj)):
            n += 1
            name = f"{preferred}_{n}"
        return name

    def _reserve(self, obj: object, name: str) -> str:
        self.names[name] = obj
        self.by_id[id(obj)] = name
        return name

    def _import_module(self, module: types.ModuleType, preferred: str, avoid: frozenset[str]) -> str:
        full = module.__name__
        if full.partition(".")[0] == "s2sad":
            raise ExportError(f"cannot export: the code calls s2sad itself ({preferred}: the module {full}), "
                              "for example s2sad.checkpoint or a derivative taken inside the function",
                              self.where, hint="export a function whose code calls no s2sad function")
        name = self._reserve(module, self._choose(preferred, module, avoid))
        last = full.rpartition(".")[2]
        self.imports[name] = f"import {full}" if name == full else (
            f"from {full.rpartition('.')[0]} import {last}" + ("" if name == last else f" as {name}")
            if "." in full else f"import {full} as {name}")
        return name

    def _import_object(self, obj: object, preferred: str, avoid: frozenset[str]) -> str:
        found = import_path(obj)
        assert found is not None  # (only objects with an import path come here)
        module, own = found
        name = self._reserve(obj, self._choose(preferred, obj, avoid))
        self.imports[name] = f"from {module} import {own}" + ("" if name == own else f" as {name}")
        return name

    def _generated(self, fun: Any, preferred: str, avoid: frozenset[str]) -> str:
        """The generated code of a derivative (all the functions of its source, a vjp's two sweeps)."""
        entry = self.entries[id(fun)]
        renames = {}
        for part in (entry.fun, entry.bwd):
            if part is not None:
                name = self._reserve(part, self._choose(preferred if part is fun else part.__name__, part, avoid))
                renames[part.__name__] = name
        self.defs[_GENERATED].append(self._resolve(entry.source, entry.fun.__globals__, renames, entry))
        return self.by_id[id(fun)]

    def _definition(self, obj: Any, preferred: str, avoid: frozenset[str], user: str) -> str:
        """A function or class copied by its source: one of s2sad's runtime helpers or the user's."""
        module = getattr(obj, "__module__", None) or ""
        if module == _DISPATCH:
            raise ExportError(f"cannot export: the code calls a function value ({user or 'the derivative'} uses "
                              f"{obj.__name__}): a function passed in, taken from a container or made when the "
                              "code runs (such as s2sad.checkpoint(f)), whose derivative s2sad looks up then",
                              self._user_location(preferred), hint="call the function by its name (a fixed "
                              "function, not one passed in, chosen or taken from a list) for export")
        if module.partition(".")[0] == "s2sad" and not module.startswith(_OWN_SOURCE):
            raise ExportError(f"cannot export: the code uses s2sad's {obj.__qualname__} ({module})", self.where,
                              hint="export a function whose code calls no s2sad function")
        if module.partition(".")[0] != "s2sad" and library_module(module):
            return self._import_object(obj, preferred, avoid)
        source, scope = self._source_of(inspect.unwrap(obj), user)
        name = self._reserve(obj, self._choose(preferred, obj, avoid))
        group = _RUNTIME if module.startswith(_OWN_SOURCE) else _USER
        self.defs[group].append(self._resolve(source, scope, {inspect.unwrap(obj).__name__: name}, None))
        return name

    def _source_of(self, obj: types.FunctionType | type, user: str) -> tuple[str, dict]:
        what = f"{obj.__qualname__} (used by {user or 'the derivative'})"
        if isinstance(obj, types.FunctionType):
            code = obj.__code__
            if obj.__closure__ or "<locals>" in obj.__qualname__ or obj.__name__ == "<lambda>":
                raise ExportError(f"cannot export {what}: it is a lambda or is defined inside another function, "
                                  "and its source does not stand alone", _def_location(obj),
                                  hint="define it with def at the top level of its module")
            if code.co_filename.startswith("<"):
                raise ExportError(f"cannot export {what}: it is code s2sad made for a custom rule "
                                  "(custom_vjp, custom_jvp, defvjp) or a function value, with no file of its own",
                                  self.where, hint="export a function without custom rules")
        try:
            source = textwrap.dedent(inspect.getsource(obj))
            if getattr(obj, "__module__", "").startswith(_OWN_SOURCE):
                source = first_paragraphs(source)
        except (OSError, TypeError):
            raise ExportError(f"cannot export {what}: its source cannot be read", self.where,
                              hint="define it in a file") from None
        scope = obj.__globals__ if isinstance(obj, types.FunctionType) else vars(sys.modules[obj.__module__])
        return source, scope

    def _constant(self, obj: object, preferred: str, avoid: frozenset[str], user: str) -> str:
        """A module global that is a value: its assignment as written in s2sad's runtime (a
        singleton, a thread-local store), else a literal of its value."""
        module = self.reader[1]
        statement = assignment_source(module, preferred) if module.startswith(_OWN_SOURCE) else None
        if statement is not None:
            name = self._reserve(obj, self._choose(preferred, obj, avoid))
            scope = vars(sys.modules[module])
            self.defs[_RUNTIME].append(self._resolve(statement, scope, {preferred: name}, None))
            return name
        self.constant = preferred
        text = self.literal(obj, f"{preferred} (read by {user or 'the derivative'})")
        name = self._reserve(obj, self._choose(preferred, obj, avoid))
        self.defs[_RUNTIME if module.startswith(_OWN_SOURCE) else _USER].append(f"{name} = {text}\n")
        return name

    # -- source pieces ---------------------------------------------------------------------------

    def _resolve(self, source: str, scope: dict, renames: dict[str, str], entry: Built | None) -> str:
        """`source` with each global it reads bound in the module (renamed where the module's
        name differs; `runtime.helper` read from s2sad's runtime package, the helper itself)."""
        reads, local = free_names(source)
        user = next(iter(renames), "")
        reader = (entry, scope.get("__name__") or "")
        spelled, through = runtime_attributes(source, scope)
        edits = [(node, self._bind_read(obj, node.attr, frozenset(local), user, reader)) for node, obj in spelled]
        for name in sorted(reads - through):
            if name in renames:
                continue
            obj = scope.get(name, MISSING)
            if obj is MISSING:
                obj = getattr(builtins, name, MISSING)
            if obj is MISSING:
                raise ExportError(f"cannot export {user}: it reads the global {name!r}, which is not defined",
                                  self.where, hint=f"define {name} at the top level of its module")
            new = self._bind_read(obj, name, frozenset(local), user, reader)
            if new != name:
                renames[name] = new
        changed = {old: new for old, new in renames.items() if old != new}
        if set(changed) & local:
            raise ExportError(f"cannot export {user}: a global it reads would be renamed, and the name is "
                              "also a local variable there", self.where, hint="rename the local variable")
        return rename(source, changed, edits) if changed or edits else source

    def _bind_read(self, obj: object, name: str, local: frozenset[str], user: str, reader: tuple) -> str:
        """`bind` for a name read by a piece of code; `reader`: the piece's generated entry (None
        for copied source) and its module's name, which say where errors point and where a
        constant goes."""
        saved, self.reader = self.reader, reader
        try:
            return self.bind(obj, name, local, user)
        finally:
            self.reader = saved

    def _user_location(self, name: str) -> Location:
        """The user's line where the derivative code reads `name` (the function's `def` if unknown)."""
        entry = self.reader[0] or (None if self.reader[1] else self.built)  # copied source: its def
        if entry is None:
            return self.where
        for node in ast.walk(ast.parse(entry.source)):
            if isinstance(node, ast.Name) and node.id == name:
                line = entry.lines.get(node.lineno)
                if line is not None:
                    primal = entry.primal
                    return Location(primal.filename, line, 0, primal.lines.get(line, ""))
        return self.where

    # -- literals --------------------------------------------------------------------------------

    def literal(self, obj: Any, what: str) -> str:
        """Python source that makes `obj` again (a number, string, array, container of those)."""
        kind = type(obj)
        if obj is None or kind in (bool, int, str, bytes):
            return repr(obj)
        if kind is float:
            return float_literal(obj)
        if kind is complex:
            return f"complex({float_literal(obj.real)}, {float_literal(obj.imag)})"
        if kind in (tuple, list, set, frozenset):
            items = [self.literal(item, what) for item in obj]
            return display(kind, items)
        if kind is dict and "__builtins__" in obj:
            raise ExportError(f"cannot export: {what} is a module's namespace: the function keeps state in its "
                              "module (a `global` statement), which an exported module cannot share",
                              self._user_location(self.constant),
                              hint="pass the state in and return it, or leave the `global` statement out")
        if kind is dict:
            pairs = ", ".join(f"{self.literal(k, what)}: {self.literal(v, what)}" for k, v in obj.items())
            return "{" + pairs + "}"
        return self._numpy_literal(obj, what)

    def _numpy_literal(self, obj: object, what: str) -> str:
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType, types.ModuleType)) or decorated(
                obj) or library_object(obj):  # in a container (a constant's own value is never one of these)
            return self.bind(obj, getattr(obj, "__name__", "value").rpartition(".")[2])
        np_name = lambda: self.bind(np, "np")  # noqa: E731 - bound only when needed
        if isinstance(obj, np.dtype):
            return f"{np_name()}.dtype({str(obj)!r})"
        if isinstance(obj, np.ndarray) and obj.dtype.kind in "biufc":
            flat = ", ".join(self.literal(v, what) for v in obj.ravel().tolist())
            return f"{np_name()}.array([{flat}], dtype={str(obj.dtype)!r}).reshape({obj.shape!r})"
        if isinstance(obj, np.generic) and obj.dtype.kind in "biufc":
            return f"{np_name()}.{obj.dtype.name}({self.literal(obj.item(), what)})"
        raise ExportError(f"cannot export: {what} is an object of type {type(obj).__name__}, which has no "
                          "literal form to write into a module", self._user_location(self.constant),
                          hint="make it a number, a string, a NumPy array or a tuple, list or dict of those, or "
                               "pass it to the function as an argument")

    # -- the entry -------------------------------------------------------------------------------

    def _check(self, param: str, kind: str | None, shape: tuple | None, entry: str) -> list[str]:
        """The lines at the top of the entry that check `param` is of the kind and shape the
        code was built for (none for a parameter that may be anything)."""
        np_name = self.bind(np, "np")
        if shape == NUMBER:
            test, wanted = f"type({param}) in (float, int)", "a Python float or int"
        elif kind == "scalar":
            test, wanted = f"type({param}) in (float, int, {np_name}.float64, {np_name}.float32)", "a float"
        elif shape is not None and shape[:1] not in (("dict",), ("tuple",), ("list",)):
            test, wanted = (f"isinstance({param}, {np_name}.ndarray) and {param}.shape == {shape!r}",
                            f"an array of shape {shape!r}")
        elif kind == "array":
            test, wanted = f"isinstance({param}, (float, int, {np_name}.ndarray, {np_name}.number))", \
                "a number or an array"
        else:
            return []
        message = (f"{entry} was exported for {param} {wanted}, not {{type({param}).__name__}}: export again with "
                   f"the kinds of this call (None for a container)")
        return [f"    if not {f'({test})' if ' and ' in test else test}:", f"        raise TypeError(f{message!r})"]

    def _taylor_entry(self, code: str) -> str:
        """`entry(primals, series) -> (out, [c_1, ..., c_K])`, as `s2sad.taylor` calls it."""
        series = self.bind(Series, "Series")
        entry = self._reserve(_TAYLOR_ENTRY, self._choose(f"{self.transformed.target.plain.__name__}_taylor",
                                                          _TAYLOR_ENTRY, frozenset()))
        self.defs[_GENERATED].append(
            f"def {entry}(primals, series):\n"
            f'    """(out, [c_1, ..., c_{self.order}]): the value and its Taylor coefficients along the path whose\n'
            '    coefficients are `series` (one sequence per differentiated argument)."""\n'
            f"    out, coefficients = {code}(*primals, *[{series}(list(terms)) for terms in series])\n"
            "    return out, list(coefficients)\n")
        return entry


_TAYLOR_ENTRY = object()
"""Stands for the Taylor entry the module adds, reserving its name."""


# -- the header ----------------------------------------------------------------------------------


def _header(module: _Module, entry: str) -> str:
    transformed = module.transformed
    plain = transformed.target.plain
    params = list(transformed.target.params)
    wrt = transformed.request.wrt
    argnums = transformed.argnums
    lines = [
        f"# Exported by s2sad {__version__} (s2sad.export): the {_what(module.mode, module.order)} of "
        f"{plain.__qualname__}.",
        f"# From: {_shown_path(plain.__code__.co_filename)}:{plain.__qualname__} "
        f"(line {plain.__code__.co_firstlineno})",
        f"# Mode: {module.mode}{f' (order {module.order})' if module.mode == TAYLOR else ''}; "
        f"argnums: {argnums!r} ({', '.join(wrt)})",
        f"# Specialised to: {_specialised(module, params)}",
        *_convention(module, entry, params, wrt),
        "# Needs: numpy (no s2sad); generated code, do not edit: export again instead.",
    ]
    return "\n".join(lines) + "\n"


def _what(mode: str, order: int) -> str:
    return {REVERSE: "gradient", FORWARD: "forward-mode derivative (jvp)"}.get(
        mode, f"Taylor expansion to order {order}")


def _shown_path(filename: str) -> str:
    """The source file, relative to the working directory when it is under it."""
    if filename.startswith("<"):
        return filename
    try:
        return str(Path(filename).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return filename


def _specialised(module: _Module, params: list[str]) -> str:
    if module.kinds == module.transformed.numeric_kinds() and module.shapes is None:
        return "numbers or arrays of any shape (the generic code; other arguments raise TypeError)"
    shapes = module.shapes or (None,) * len(params)
    parts = []
    for param, kind, shape in zip(params, module.kinds, shapes):
        text = kind or "anything"
        if shape == NUMBER:
            parts.append(f"{param} a Python float or int")
        else:
            parts.append(f"{param} {text}" + (f" of shape {shape!r}" if shape is not None else ""))
    checked = any(kind is not None for kind in module.kinds[:len(params)])
    return ", ".join(parts) + (" (other arguments raise TypeError)" if checked else "")


def _convention(module: _Module, entry: str, params: list[str], wrt: tuple[str, ...]) -> list[str]:
    call = f"{entry}({', '.join(params)})"
    name = module.transformed.target.plain.__qualname__
    argnums = module.transformed.argnums
    if module.mode == REVERSE:
        result = (f"the gradient with respect to {wrt[0]}" if module.transformed.request.single
                  else f"a tuple of the gradients with respect to ({', '.join(wrt)})")
        return [f"# Call: {call} -> {result},",
                f"#   as s2sad.grad({name}, argnums={argnums!r})({', '.join(params)}) (float64 arguments)"]
    if module.mode == FORWARD:
        tangents = module.built.fun.__code__.co_varnames[len(params):module.built.fun.__code__.co_argcount]
        return [f"# Call: {entry}({', '.join(params + list(tangents))}) -> (out, the tangent of out), the tangents "
                f"({', '.join(tangents)}) being those of ({', '.join(wrt)})"]
    return [f"# Call: {entry}(primals, series) -> (out, [c_1, ..., c_{module.order}]),",
            f"#   as s2sad.taylor({name}, order={module.order}, argnums={argnums!r})(primals, series)"]
