"""The Numba backend: the derivative's code compiled by Numba in nopython mode.

`prepare` makes the optimized IR what Numba types: a loop's kept numbers go in one float64
array made before the loop (`s_trips = np.empty(trips)`, not a list of `None`s), and every
call is of an operator, a `math` or NumPy function, a builtin Numba knows, or a runtime helper
given a Numba implementation here (`_register`). Anything else is refused at the user's line
(`BackendError`) before Numba sees it. `Jitted` wraps the compiled function: it compiles on
the first call with a new signature (Numba's lazy compilation), adds the seconds to
`compile_seconds`, and turns a Numba typing error into a `BackendError` at the user's line.
"""

from __future__ import annotations

import builtins
import math
import operator
import re
import time
from collections.abc import Callable

import numpy as np

from s2sad import runtime
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Var
from s2sad.core.naming import numpy_ref
from s2sad.errors import BackendError, Location

BACKENDS = ("python", "numba")
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
    _register(numba)
    return numba


def check_backend(backend: str) -> None:
    """Refuse an unknown backend, and the Numba one where Numba is missing (when asked for)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, not {backend!r}")
    if backend == "numba":
        numba_module()


# ------------------------------------------------------------------ the IR Numba compiles


def prepare(fn: ir.Function) -> ir.Function:
    """`fn` with typed storage for the numbers loops keep, every call checked for Numba."""
    feeds = _trip_list_seeds(fn.body)
    body = _rewrite(fn.body, feeds, fn)
    body = _numbers_before_loops(body)
    return ir.Function(fn.name, fn.params, body, fn.filename, fn.firstline, fn.lines, fn.temps, fn.defaults, fn.tape)


def _numbers_before_loops(body: list[ir.Stmt]) -> list[ir.Stmt]:
    """`v = None` made `v = 0.0` where v is a number a loop keeps by trip (`v_trips[_] = v`
    saves the value v had before the trip bound it: on the first trip, the placeholder; it is
    restored after that trip's adjoint and read by nothing)."""
    arrays = {s.target.name for s in ir.walk(body) if isinstance(s, Assign) and isinstance(s.value, Call)
              and s.value.op.value is np.empty}
    kept = {s.value.args[2].name for s in ir.walk(body) if isinstance(s, Assign) and isinstance(s.value, Call)
            and s.value.op.value is runtime.setitem and isinstance(s.value.args[0], Var)
            and s.value.args[0].name in arrays and isinstance(s.value.args[2], Var)}
    return [Assign(s.target, Const(0.0), s.line) if isinstance(s, Assign) and s.value == Const(None)
            and s.target.name in kept else s for s in body]


def _trip_list_seeds(body: list[ir.Stmt]) -> set[str]:
    """Names bound to `[None]` that only seed a trip list (`v = seed * trips`)."""
    seeds = {s.target.name for s in ir.walk(body) if isinstance(s, Assign) and isinstance(s.value, Call)
             and s.value.op.value is runtime.make_list and s.value.args == (Const(None),)}
    return seeds


def _rewrite(body: list[ir.Stmt], seeds: set[str], fn: ir.Function) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            out.append(ir.rebuild(stmt, lambda block: _rewrite(block, seeds, fn)))
            continue
        if isinstance(stmt, Assign) and stmt.target.name in seeds:
            continue  # the `[None]` a trip list was made of
        if isinstance(stmt, Assign) and _is_trip_list(stmt.value, seeds):
            trips = stmt.value.args[1]
            out.append(Assign(stmt.target, Call(numpy_ref("empty"), (trips,)), stmt.line))
            continue
        if isinstance(stmt, (ir.Save, ir.Restore)):
            raise ir.unknown(stmt, "the Numba backend")
        _check(stmt, fn)
        out.append(stmt)
    return out


def _is_trip_list(value: ir.Expr, seeds: set[str]) -> bool:
    return (isinstance(value, Call) and value.op.value is operator.mul and len(value.args) == 2
            and isinstance(value.args[0], Var) and value.args[0].name in seeds)


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
    if op in _HELPERS or op in _BUILTINS or op in _LIST_TAPE:
        return True
    if getattr(op, "__qualname__", "").startswith("ndarray.") or getattr(op, "__objclass__", None) is np.ndarray:
        return True  # an array's method (`x.sum(axis=0)`)
    module = getattr(op, "__module__", None) or ""
    if op in _STATEMENTS:
        return True
    return module in ("_operator", "operator", "math") or module.startswith("numpy") or isinstance(op, np.ufunc)


def _where(fn: ir.Function, line: int, *names: str) -> Location:
    """The user's line (a generated statement with none: the function's `def`)."""
    line = line or fn.firstline
    return Location.of(fn.filename, line, fn.lines.get(line, ""), *names)


# ------------------------------------------------------------------ runtime helpers in Numba


def _seed(out, where=""):
    return 1.0


def _zeros_like_number(x):
    return 0.0


def _zeros_like_array(x):
    return np.zeros(x.shape)


def _same(g, like):
    return g


def _summed(g, like):
    return np.sum(g)


def _shape(x):
    return x.shape


def _no_shape(x):
    return ()


def _times(g, x, y):
    return g * y


def _times_x(g, x, y):
    return x * g


def _g_yt(g, x, y):
    return g @ y.T


def _xt_g(g, x, y):
    return x.T @ g


def _outer_g_y(g, x, y):
    return np.outer(g, y)


def _outer_x_g(g, x, y):
    return np.outer(x, g)


def _y_g(g, x, y):
    return y @ g


def _plus(a, b):
    return a + b


def _filled(g, like):
    return np.full(like.shape, g)


def _reversed_range(r):
    return range(r.stop - r.step, r.start - r.step, -r.step)


def _item(values, trip):
    return values[trip]


def _sigmoid_number(t):
    if t >= 0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


def _sigmoid_array(t):
    return 1.0 / (1.0 + np.exp(-t))


def _unreduce_number(g, x, axis=None, keepdims=False):
    return g


def _unreduce_full(g, x, axis=None, keepdims=False):
    return np.full(x.shape, g)


def _copy(x):
    return x.copy()


def _itself(x):
    return x


def _size(x, axis=None):
    return x.size


def _strong_div(d, q):
    if d == 0:
        return 0.0
    return d / q


def _strong_mul(d, p):
    if d == 0 or p == 0:
        return 0.0
    return d * p


_HELPERS = {runtime.seed, runtime.zeros_like, runtime.unbroadcast, runtime.strong_div, runtime.strong_mul,
            runtime.trip_value, runtime.sigmoid, runtime.unreduce, runtime.reduced_size,
            runtime.copy_value, runtime.as_sequence, runtime.broadcast_like,
            runtime.add, runtime.shape_of, runtime.matmul_adjoint_x, runtime.matmul_adjoint_y,
            runtime.like_structure}
_REGISTERED = [False]


def _register(numba) -> None:
    """Numba implementations of the runtime helpers the compiled code calls, by argument type."""
    if _REGISTERED[0]:
        return
    from numba.core import types
    from numba.extending import overload

    number = (types.Float, types.Integer, types.Boolean)

    @overload(runtime.seed)
    def seed(out, where=""):
        if isinstance(out, number):
            return _seed

    @overload(runtime.zeros_like)
    def zeros_like(x):
        if isinstance(x, number):
            return _zeros_like_number
        if isinstance(x, types.Array):
            return _zeros_like_array

    @overload(runtime.unbroadcast)
    def unbroadcast(g, like):
        if isinstance(g, number) and isinstance(like, number):
            return _same
        if isinstance(g, types.Array) and isinstance(like, number):
            return _summed

    @overload(runtime.broadcast_like)
    def broadcast_like(g, like):
        if isinstance(g, number) and isinstance(like, number):
            return _same
        if isinstance(g, number) and isinstance(like, types.Array):
            return _filled

    @overload(runtime.add)
    def add(a, b):
        if isinstance(a, (*number, types.Array)) and isinstance(b, (*number, types.Array)):
            return _plus

    @overload(runtime.like_structure)
    def like_structure(g, x):
        if isinstance(g, number) and isinstance(x, number):
            return _same
        if isinstance(g, types.Array) and isinstance(x, types.Array) and g.ndim == x.ndim:
            return _same

    @overload(runtime.shape_of)
    def shape_of(x):
        if isinstance(x, types.Array):
            return _shape
        if isinstance(x, number):
            return _no_shape

    @overload(runtime.matmul_adjoint_x)
    def matmul_adjoint_x(g, x, y):
        return _matmul_adjoint(types, x, y, {(2, 2): _g_yt, (2, 1): _outer_g_y, (1, 2): _y_g, (1, 1): _times})

    @overload(runtime.matmul_adjoint_y)
    def matmul_adjoint_y(g, x, y):
        return _matmul_adjoint(types, x, y, {(2, 2): _xt_g, (2, 1): _xt_g, (1, 2): _outer_x_g, (1, 1): _times_x})

    @overload(runtime.strong_div)
    def strong_div(d, q):
        if isinstance(d, number) and isinstance(q, number):
            return _strong_div

    @overload(runtime.strong_mul)
    def strong_mul(d, p):
        if isinstance(d, number) and isinstance(p, number):
            return _strong_mul

    @overload(runtime.trip_value)
    def trip_value(values, trip):
        if isinstance(values, types.Array):
            return _item

    @overload(runtime.sigmoid)
    def sigmoid(t):
        if isinstance(t, number):
            return _sigmoid_number
        if isinstance(t, types.Array):
            return _sigmoid_array

    @overload(runtime.unreduce)
    def unreduce(g, x, axis=None, keepdims=False):
        if isinstance(x, number):
            return _unreduce_number
        if isinstance(x, types.Array) and isinstance(g, number) and _none(axis):
            return _unreduce_full

    @overload(runtime.reduced_size)
    def reduced_size(x, axis=None):
        if isinstance(x, types.Array) and _none(axis):
            return _size

    @overload(runtime.copy_value)
    def copy_value(x):
        if isinstance(x, number):
            return _itself
        if isinstance(x, types.Array):
            return _copy

    @overload(runtime.as_sequence)
    def as_sequence(items):
        if isinstance(items, (types.Array, types.RangeType)):
            return _itself

    @overload(builtins.reversed)
    def reversed_range(r):
        if isinstance(r, types.RangeType):
            return _reversed_range

    _REGISTERED[0] = True


def _matmul_adjoint(types, x, y, by_ndims: dict):
    """The implementation for matrices and vectors (by the operands' dimensions), else none."""
    if isinstance(x, types.Array) and isinstance(y, types.Array):
        return by_ndims.get((x.ndim, y.ndim))
    return None


def _none(axis) -> bool:
    """`axis` left out or None, as Numba types it."""
    return axis is None or type(axis).__name__ in ("NoneType", "Omitted")


# ------------------------------------------------------------------ the compiled function


class Jitted:
    """A derivative's function compiled by Numba: called like it, compiling per signature."""

    def __init__(self, fun: Callable, filename: str, lines: dict[int, int], user_lines: dict[int, str]) -> None:
        numba = numba_module()
        self.python = fun
        for name, value in list(fun.__globals__.items()):  # callees' derivatives: called compiled
            if isinstance(value, Jitted):
                fun.__globals__[name] = value.dispatcher
        self.dispatcher = numba.njit(fun)
        self.compile_seconds = 0.0
        self._errors = numba.core.errors.TypingError, numba.core.errors.UnsupportedError
        self._where = (filename, lines, user_lines)
        self.__name__ = fun.__name__
        self.__code__ = fun.__code__  # where errors of the generated code are located (`api._locate`)
        self.__s2sad_generated__ = True

    def __call__(self, *args):
        known = len(self.dispatcher.signatures)
        start = time.perf_counter()
        try:
            result = self.dispatcher(*args)
        except self._errors as err:
            raise self._refusal(err) from None
        except SystemError as err:  # a result Numba cannot hand back to Python (a range, say)
            if "cannot convert native" not in str(err.__cause__):
                raise
            raise BackendError(f"numba cannot return the derivative's result to Python: {err.__cause__}", None,
                               hint="use the default backend for this function") from None
        if len(self.dispatcher.signatures) != known:
            self.compile_seconds += time.perf_counter() - start
        return result

    def _refusal(self, err: Exception) -> BackendError:
        """Numba's typing error as a `BackendError` at the user's line its generated line came from."""
        filename, lines, user_lines = self._where
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(err))
        found = [int(n) for n in re.findall(r'File "<s2sad[^"]*", line (\d+)', text)]
        line = next((lines[n] for n in found if n in lines), 0)
        first = next((t.strip() for t in text.splitlines() if t.strip() and not t.startswith("Failed in")), text)
        return BackendError(f"numba cannot compile the derivative: {first}",
                            Location.of(filename, line, user_lines.get(line, "")) if line else None,
                            hint="use the default backend for this function")


def jitted(funs: list, filename: str, lines: dict[int, int], user_lines: dict[int, str]) -> list:
    return [Jitted(f, filename, lines, user_lines) for f in funs]


__all__ = ["BACKENDS", "Jitted", "check_backend", "jitted", "numba_module", "prepare"]
