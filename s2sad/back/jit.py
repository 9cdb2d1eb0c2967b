"""The Numba backend: the derivative's code compiled by Numba in nopython mode.

`prepare` makes the optimized IR what Numba types: a loop's kept numbers go in one float64
array made before the loop (`s_trips = np.empty(trips)`, not a list of `None`s), and every
call is of an operator, a `math` or NumPy function, a builtin Numba knows, or a runtime helper
given a Numba implementation (`jit_helpers`, `jit_reductions`); dicts of parameters are passed
as their arrays (`jit_boundary`). Anything else is refused at the user's line (`BackendError`)
before Numba sees it. `Jitted` wraps the compiled function: it compiles on
the first call with a new signature (Numba's lazy compilation), adds the seconds to
`compile_seconds`, and turns a Numba typing error into a `BackendError` at the user's line.
"""

from __future__ import annotations

import builtins
import operator
import os
import re
import time
import types
import warnings
from collections.abc import Callable

import numpy as np

from s2sad import runtime
from s2sad.analyses import shapes
from s2sad.analyses.trip_slots import is_trip_list, trip_list_seeds
from s2sad.back import jit_ahead, jit_batched, jit_helpers, jit_loops, jit_reductions
from s2sad.back.jit_boundary import Boundary, at_boundary
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Ref, Var
from s2sad.core.naming import builtin_ref, numpy_ref
from s2sad.core.syntax import operator_ref
from s2sad.errors import BackendError, Location

BACKENDS = ("python", "numba")
MAX_FOLDED = 64
"""The most operations the emitter folds into one expression for this backend (4 for Python's
readable lines): Numba compiles an expression of elementwise array operations as one loop over
the elements, with no temporary array between them."""
EXTRA_HINT = 'install it with: pip install "s2sad[numba]"'

_BUILTINS = {builtins.range, builtins.len, builtins.reversed, builtins.abs, builtins.min, builtins.max,
             builtins.float, builtins.int, builtins.bool, builtins.getattr,
             builtins.sum}
_STATEMENTS = (runtime.setitem, runtime.add_into)
"""In-place helpers the emitter writes as statements (`x[i] = v`, `x[i] += v`)."""
_LIST_TAPE = (runtime.make_list, runtime.list_append, runtime.tape_pop)
"""A tape of numbers Numba types as a list of floats (of mixed kinds it is refused when typed)."""


def numba_module():
    """The `numba` module, its helpers registered; a `BackendError` naming the extra without it."""
    try:
        import numba
    except ImportError:
        raise BackendError("backend='numba' needs Numba, which is not installed", None, hint=EXTRA_HINT) from None
    jit_helpers.register(numba)
    return numba


def check_backend(backend: str, cache_dir: object = None) -> str | None:
    """Refuse an unknown backend, the Numba one where Numba is missing, and a cache without it;
    the cache folder as a string (None: no cache)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, not {backend!r}")
    if backend == "numba":
        numba_module()
    if cache_dir is None:
        return None
    if backend != "numba":
        raise ValueError("cache_dir is Numba's on-disk cache: give it with backend='numba'")
    return os.fspath(cache_dir)


# ------------------------------------------------------------------ the IR Numba compiles


def prepare(fn: ir.Function, start: dict | None = None) -> tuple[ir.Function, Boundary]:
    """`fn` with typed storage for the numbers and arrays loops keep, dicts of parameters and of
    gradients as their values at the boundary (see `jit_boundary`), every call checked for
    Numba. `start`: the classes of the parameters (see `analyses.shapes`)."""
    table = shapes.classes(fn, start or {})
    fn = jit_ahead.compute_ahead(fn, table)
    kept = _kept_shapes(fn, table)
    fn, boundary = at_boundary(fn)
    feeds = trip_list_seeds(fn.body)
    body = _rewrite(jit_reductions.along_axes(_counted_down(fn), table), feeds, kept, fn)
    body = _zeros(_placeholders(body, {**_listed_placeholders(fn, table), **kept}), table)
    prepared = ir.Function(fn.name, fn.params, body, fn.filename, fn.firstline, fn.lines, fn.temps, fn.defaults,
                           fn.tape)
    prepared = jit_batched.stack_products(jit_batched.batch_products(prepared, table), table)
    return jit_loops.fuse(prepared, table), boundary


def _kept_shapes(fn: ir.Function, table: dict) -> dict[str, tuple]:
    """Per trip list (`v_trips = seed * trips`, see `analyses.trip_slots`), the shape of the
    values it keeps (`()` for numbers), and per kept variable the same (`v`)."""
    found: dict[str, tuple] = {}
    seeds = trip_list_seeds(fn.body)
    lists = {s.target.name for s in ir.walk(fn.body) if isinstance(s, Assign) and is_trip_list(s.value, seeds)}
    for stmt in ir.walk(fn.body):
        value = stmt.value if isinstance(stmt, Assign) else None
        if not (isinstance(value, Call) and value.op.value is runtime.setitem and isinstance(value.args[2], Var)):
            continue
        cls = table.get(value.args[2].name)
        shape = () if cls == shapes.SCALAR else cls if isinstance(cls, tuple) else None
        if shape is not None and isinstance(value.args[0], Var) and value.args[0].name in lists:
            found[value.args[0].name] = found[value.args[2].name] = shape
    return found


def _listed_placeholders(fn: ir.Function, table: dict) -> dict[str, tuple]:
    """Per temporary pushed on a list tape (`tape.append(t9)`) and bound to `None` (its value
    before the loop's first trip bound it), the shape of its values where they are arrays of one
    known shape: its placeholder is then zeros of that shape, so that the tape holds arrays (a
    list of optional arrays made Numba fail inside its own code). A number's `None` stays: a
    list of optional numbers Numba types, and 0.0 would not be a bool's placeholder."""
    pushed = {s.value.args[1].name for s in ir.walk(fn.body) if isinstance(s, Assign) and isinstance(s.value, Call)
              and s.value.op.value is runtime.list_append and isinstance(s.value.args[1], Var)}
    return {name: table[name] for name in pushed & fn.temps if isinstance(table.get(name), tuple) and table[name]}


def _placeholders(body: list[ir.Stmt], kept: dict[str, tuple]) -> list[ir.Stmt]:
    """`v = None` made `v = 0.0` (or zeros of its shape) where v is a value a loop keeps by trip
    (`v_trips[_] = v` saves the value v had before the trip bound it: on the first trip, the
    placeholder; it is restored after that trip's adjoint and read by nothing)."""
    out: list[ir.Stmt] = []
    for s in body:
        if isinstance(s, Assign) and s.value == Const(None) and s.target.name in kept:
            shape = kept[s.target.name]
            s = Assign(s.target, Const(0.0) if shape == () else Call(numpy_ref("zeros"), (Const(shape),)), s.line)
        out.append(s)
    return out


def _counted_down(fn: ir.Function) -> list[ir.Stmt]:
    """`reversed(r)` of a `r = range(n)` bound once, written `range(n - 1, -1, -1)`: Numba then
    compiles no `reversed` of a range (about 0.1 s, with the range's attributes it reads)."""
    ranges = {}
    for stmt in ir.walk(fn.body):
        if isinstance(stmt, Assign) and isinstance(stmt.value, Call) and stmt.value.op.value is builtins.range:
            ranges[stmt.target.name] = stmt.value if stmt.target.name not in ranges else None
    names = set(fn.params) | {n for s in ir.walk(fn.body) for n in ir.reads(s) | ir.writes(s)}

    def count_down(body: list[ir.Stmt]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for stmt in body:
            value = stmt.value if isinstance(stmt, Assign) else None
            made = ranges.get(value.args[0].name) if isinstance(value, Call) and value.op.value is builtins.reversed \
                and len(value.args) == 1 and isinstance(value.args[0], Var) else None
            if made is None or len(made.args) != 1 or made.kwargs:
                out.append(ir.rebuild(stmt, count_down))
                continue
            n = made.args[0]
            if isinstance(n, Const) and type(n.value) is int:
                first: ir.Atom = Const(n.value - 1)
            elif isinstance(n, Var) and f"{stmt.target.name}_first" not in names:
                first = Var(f"{stmt.target.name}_first")
                out.append(Assign(first, Call(operator_ref(operator.sub), (n, Const(1))), stmt.line))
            else:
                out.append(stmt)
                continue
            out.append(Assign(stmt.target, Call(builtin_ref("range"), (first, Const(-1), Const(-1))), stmt.line))
        return out
    return count_down(fn.body)


_ZEROS_ARRAY = Ref(jit_helpers.zeros_array, ("zeros_array",))
_ZEROS_AS = Ref(jit_helpers.zeros_as, ("zeros_as",))


def _zeros(body: list[ir.Stmt], table: dict) -> list[ir.Stmt]:
    """`np.zeros(shape)` of a constant shape and `np.zeros_like(x)` of an array of known shape
    written as the helpers Numba compiles as intrinsics (`jit_helpers.INTRINSICS`)."""
    out: list[ir.Stmt] = []
    for stmt in body:
        value = stmt.value if isinstance(stmt, Assign) else None
        if not isinstance(value, Call) or value.kwargs or len(value.args) != 1:
            out.append(ir.rebuild(stmt, lambda block: _zeros(block, table)))
            continue
        op, arg = value.op.value, value.args[0]
        if op is np.zeros and isinstance(arg, Const) and isinstance(arg.value, tuple) and all(
                type(n) is int for n in arg.value):
            stmt = Assign(stmt.target, Call(_ZEROS_ARRAY, (arg,)), stmt.line)
        elif op is np.zeros_like and isinstance(arg, Var) and isinstance(table.get(arg.name), tuple):
            stmt = Assign(stmt.target, Call(_ZEROS_AS, (arg,)), stmt.line)
        out.append(stmt)
    return out


def _rewrite(body: list[ir.Stmt], seeds: set[str], kept: dict[str, tuple], fn: ir.Function) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            out.append(ir.rebuild(stmt, lambda block: _rewrite(block, seeds, kept, fn)))
            continue
        if isinstance(stmt, Assign) and stmt.target.name in seeds:
            continue  # the `[None]` a trip list was made of
        if isinstance(stmt, Assign) and is_trip_list(stmt.value, seeds):
            out.append(_storage(stmt, kept.get(stmt.target.name), fn))
            continue
        if isinstance(stmt, Assign) and _array_trip_write(stmt.value, kept):
            stmt = Assign(stmt.target, Call(Ref(jit_helpers.store_trip, ("store_trip",)), stmt.value.args), stmt.line)
        if isinstance(stmt, (ir.Save, ir.Restore)):
            raise ir.unknown(stmt, "the Numba backend")
        _check(stmt, fn)
        out.append(stmt)
    return out


def _storage(stmt: Assign, shape: tuple | None, fn: ir.Function) -> Assign:
    """`v_trips = np.empty(trips)` for numbers, `trip_storage(trips, shape)` (one row a trip)
    for arrays of a known shape; values of another kind are refused."""
    trips = stmt.value.args[1]
    if shape == ():
        return Assign(stmt.target, Call(numpy_ref("empty"), (trips,)), stmt.line)
    if shape is not None:
        return Assign(stmt.target, Call(Ref(jit_helpers.trip_storage, ("trip_storage",)), (trips, Const(shape))),
                      stmt.line)
    raise BackendError("the numba backend does not compile a loop that keeps values of unknown shape yet",
                       _where(fn, stmt.line), hint="use the default backend for this function")


def _array_trip_write(value: ir.Expr, kept: dict[str, tuple]) -> bool:
    """`v_trips[_] = v` into the rows of a `trip_storage` (an array a trip)."""
    return (isinstance(value, Call) and value.op.value is runtime.setitem and isinstance(value.args[0], Var)
            and kept.get(value.args[0].name, ()) != () and value.args[0].name.endswith("_trips"))


def _check(stmt: ir.Stmt, fn: ir.Function) -> None:
    value = stmt.value if isinstance(stmt, (Assign, ir.Return)) else None
    if not isinstance(value, Call):
        return
    op = value.op.value
    if not _compiles(op):
        what = value.op.dotted
        if type(op).__name__ == "Deferred":
            what = f"a recursive call ({what})"
        elif getattr(op, "__s2sad_generated__", False):
            what = f"a call of another function's derivative ({what}), which is not compiled with this one,"
        elif (getattr(op, "__module__", None) or "").startswith("s2sad."):
            what = f"s2sad's helper {what}, which this line's derivative calls,"
        raise BackendError(f"the numba backend does not compile {what} yet", _where(fn, stmt.line, value.op.dotted),
                           hint="use the default backend for this function")


def _compiles(op: object) -> bool:
    if isinstance(op, Jitted):
        return True  # a callee's derivative, compiled by this backend too
    if op in jit_helpers.CHOOSERS or op in _BUILTINS or op in _LIST_TAPE or op in jit_reductions.HELPERS:
        return True
    if getattr(op, "__qualname__", "").startswith("ndarray.") or getattr(op, "__objclass__", None) is np.ndarray:
        return True  # an array's method (`x.sum(axis=0)`)
    module = getattr(op, "__module__", None) or ""
    if op in _STATEMENTS or op in jit_helpers.INTRINSICS:
        return True
    return module in ("_operator", "operator", "math") or module.startswith("numpy") or isinstance(op, np.ufunc)


def _where(fn: ir.Function, line: int, *names: str) -> Location:
    """The user's line (a generated statement with none: the function's `def`)."""
    line = line or fn.firstline
    return Location.of(fn.filename, line, fn.lines.get(line, ""), *names)


# ------------------------------------------------------------------ the compiled function


class Jitted:
    """A derivative's function compiled by Numba: called like it, compiling per signature.

    A call goes straight to Numba's dispatcher; for arguments of a new signature Numba calls
    its `_compile_for_args`, which this object replaces by `_compiling` (Numba looks it up on
    the dispatcher object): there, and only there, Numba's performance advice about the
    generated code is silenced, the seconds are counted and a typing error becomes a
    `BackendError` at the user's line. Nothing is checked on a call that needs no compiling. An
    argument Numba cannot type at all (an empty list: a `vjp`'s tape of a loop of no trips) runs
    the same code as Python."""

    def __init__(self, fun: Callable, filename: str, lines: dict[int, int], user_lines: dict[int, str],
                 boundary: Boundary | None = None, cache: bool = False) -> None:
        numba = numba_module()
        self.python = fun
        self.boundary = boundary if boundary is not None and not boundary.plain else None
        for name, value in list(fun.__globals__.items()):  # callees' derivatives: called compiled
            if isinstance(value, Jitted):
                fun.__globals__[name] = value.dispatcher
        self.dispatcher = numba.njit(_with_intrinsics(fun), cache=cache)  # cache: `fun` is in a file (`jit_cache`)
        self.compile_seconds = 0.0
        self._errors = numba.core.errors.NumbaError  # any failure to compile (typing, lowering, ...)
        self._advice = (numba.core.errors.NumbaPerformanceWarning, numba.core.errors.NumbaPendingDeprecationWarning)
        """Numba's advice about the generated code, not the user's: its performance hints, and its
        notice that a list passed in (a `vjp`'s tape, among the residuals) is reflected."""
        self._compile_for_args = self.dispatcher._compile_for_args
        self.dispatcher._compile_for_args = self._compiling
        self._where = (filename, lines, user_lines)
        self.__name__ = fun.__name__
        self.__code__ = fun.__code__  # where errors of the generated code are located (`api._locate`)
        self.__s2sad_generated__ = True

    def __call__(self, *args):
        try:
            if self.boundary is None:
                return self.dispatcher(*args)
            return self.boundary.rebuilt(self.dispatcher(*self.boundary.arguments(args)))
        except ValueError as err:  # an argument Numba cannot type: a `vjp`'s tape of no trips
            if "fingerprint of empty list" not in str(err):
                raise
            return self._as_python(args)
        except SystemError as err:  # a result Numba cannot hand back to Python (a range in a loop's residuals)
            cause = _unboxable(err)
            if cause is None:
                raise
            raise BackendError(f"numba cannot return the derivative's result to Python: {cause}", None,
                               hint="use the default backend for this function") from None

    def _as_python(self, args: tuple):
        """The same code run as Python, for arguments Numba cannot type (an empty list has no
        item type): the same operations, so the same results."""
        if self.boundary is None:
            return self.python(*args)
        return self.boundary.rebuilt(self.python(*self.boundary.arguments(args)))

    def _compiling(self, *args, **kwargs):
        """Numba compiling for arguments of a new signature (and loading from its cache)."""
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                for advice in self._advice:
                    warnings.simplefilter("ignore", advice)
                return self._compile_for_args(*args, **kwargs)
        except self._errors as err:
            raise self._refusal(err) from None
        except Exception as err:  # Numba failing inside itself (its typing templates' `TypeError`s):
            raise self._refusal(err, internal=True) from None  # nothing ran yet, only compiling
        finally:
            self.compile_seconds += time.perf_counter() - start

    def _refusal(self, err: Exception, internal: bool = False) -> BackendError:
        """Numba's typing error as a `BackendError` at the user's line its generated line came
        from (`internal`: an error of Numba's own code, at the function's first line)."""
        filename, lines, user_lines = self._where
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(err))
        found = [int(n) for n in re.findall(r'File "(?:<s2sad[^"]*|s2sad_[0-9a-f]+\.py)", line (\d+)', text)]
        line = next((lines[n] for n in found if n in lines), 0)
        if internal:
            line = line or min((n for n in lines.values() if n), default=0)
            text = f"{type(err).__name__} inside Numba: {text}"
        first = next((t.strip() for t in text.splitlines() if t.strip() and not t.startswith("Failed in")), text)
        return BackendError(f"numba cannot compile the derivative: {first}",
                            Location.of(filename, line, user_lines.get(line, "")) if line else None,
                            hint="use the default backend for this function")


def _unboxable(err: BaseException) -> BaseException | None:
    """The error, among `err`'s causes, of a value Numba could not make a Python object of."""
    while err is not None:
        if "cannot convert native" in str(err):
            return err
        err = err.__cause__
    return None


def _with_intrinsics(fun: Callable) -> Callable:
    """`fun` reading the Numba intrinsics of the helpers that have one (`jit_helpers.INTRINSICS`)
    under their names: a copy with its own globals, so that `fun` itself stays plain Python."""
    swapped = {name: jit_helpers.INTRINSICS[value] for name, value in fun.__globals__.items()
               if type(value) is types.FunctionType and value in jit_helpers.INTRINSICS}
    if not swapped:
        return fun
    copy = types.FunctionType(fun.__code__, {**fun.__globals__, **swapped}, fun.__name__, fun.__defaults__,
                              fun.__closure__)
    copy.__qualname__, copy.__module__ = fun.__qualname__, fun.__module__
    return copy


def jitted(funs: list, boundaries: list[Boundary], filename: str, lines: dict[int, int],
           user_lines: dict[int, str], cache: bool = False) -> list:
    return [Jitted(f, filename, lines, user_lines, b, cache) for f, b in zip(funs, boundaries)]


__all__ = ["BACKENDS", "Jitted", "check_backend", "jitted", "numba_module", "prepare"]
