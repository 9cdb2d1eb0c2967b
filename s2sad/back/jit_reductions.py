"""Reductions along an axis for the Numba backend: `x.max(axis=1, keepdims=True)` and the like.

Numba compiles `x.sum(axis=1)` but neither `keepdims` nor `max`, `min` or `mean` along an axis.
`along_axes` rewrites such calls (of the array methods and of `np.sum`, `np.max`, ...) into
the helpers below, one per reduction and `keepdims`; `register` gives them Numba
implementations for vectors and matrices (other arrays stay refused when Numba types them).
Each helper is also plain NumPy, so the code runs the same without Numba.
"""

from __future__ import annotations

import builtins

import numpy as np

from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Ref, Var


def sum_axis(x, axis):
    return np.sum(x, axis=axis)


def sum_axis_kept(x, axis):
    return np.sum(x, axis=axis, keepdims=True)


def mean_axis(x, axis):
    return np.mean(x, axis=axis)


def mean_axis_kept(x, axis):
    return np.mean(x, axis=axis, keepdims=True)


def max_axis(x, axis):
    return np.max(x, axis=axis)


def max_axis_kept(x, axis):
    return np.max(x, axis=axis, keepdims=True)


def min_axis(x, axis):
    return np.min(x, axis=axis)


def min_axis_kept(x, axis):
    return np.min(x, axis=axis, keepdims=True)


_KINDS = {"sum": (sum_axis, sum_axis_kept), "mean": (mean_axis, mean_axis_kept),
          "max": (max_axis, max_axis_kept), "amax": (max_axis, max_axis_kept),
          "min": (min_axis, min_axis_kept), "amin": (min_axis, min_axis_kept)}
HELPERS = frozenset(f for pair in _KINDS.values() for f in pair)


def _kind(op: object) -> str | None:
    name = getattr(op, "__name__", None)
    if name in _KINDS and (op is getattr(np, name, None) or getattr(op, "__objclass__", None) is np.ndarray):
        return name
    return None


def along_axes(body: list[ir.Stmt], table: dict | None = None) -> list[ir.Stmt]:
    """Each reduction along a constant integer axis made a call of its helper; Python's
    `sum(m)` of a matrix (`table`: shape classes), which Numba does not compile, the sum down
    its columns (the same additions in the same order: row after row)."""
    out: list[ir.Stmt] = []
    for stmt in body:
        stmt = ir.rebuild(stmt, lambda block: along_axes(block, table))
        if isinstance(stmt, Assign) and isinstance(stmt.value, Call):
            stmt = Assign(stmt.target, _down_columns(stmt.value, table or {}) or _along_axis(stmt.value), stmt.line)
        out.append(stmt)
    return out


def _down_columns(call: Call, table: dict) -> Call | None:
    if call.op.value is not builtins.sum or len(call.args) != 1 or call.kwargs or not isinstance(call.args[0], Var):
        return None
    shape = table.get(call.args[0].name)
    if not (isinstance(shape, tuple) and len(shape) == 2):
        return None
    return Call(Ref(sum_axis, ("sum_axis",)), (call.args[0], Const(0)))


def _along_axis(call: Call) -> ir.Expr:
    kind = _kind(call.op.value)
    if kind is None:
        return call
    options = dict(call.kwargs)
    if len(call.args) > 1:
        options.setdefault("axis", call.args[1])
    if set(options) - {"axis", "keepdims"} or not isinstance(options.get("axis"), Const):
        return call
    axis, kept = options["axis"].value, options.get("keepdims", Const(False))
    if type(axis) is not int or not isinstance(kept, Const) or type(kept.value) is not bool:
        return call
    helper = _KINDS[kind][kept.value]
    return Call(Ref(helper, (helper.__name__,)), (call.args[0], Const(axis)))


# ------------------------------------------------------------------ Numba implementations
#
# Plain loops, one function per helper, number of axes and (for a matrix) axis, with no call
# inside: Numba compiles them in a fraction of the time its generic `np.sum(..., axis)`
# machinery takes (and of what the same loops take split over several small compiled functions:
# the small network's reductions took 1.7 s of its 5.7 s compile that way; one function with
# the loops for both axes, chosen at run time, 0.8 s, one per axis 0.5 s). A kept axis is made
# as such (`np.empty((n, 1))`), not reshaped after: `reshape` took 0.1 s of each. The axis is a
# constant in the generated code, so Numba types it as a literal and the implementation for
# that axis is chosen while compiling. Sums go in NumPy's order along axis 0 (row by row);
# along a row, one by one (NumPy sums eight at a time: the last bits may differ). `max` and
# `min` propagate NaN.

_COMBINE = {"sum": "found + v", "mean": "found + v", "max": "v if v > found or v != v else found",
            "min": "v if v < found or v != v else found"}

_COLUMNS = """
def impl(x, axis):
    out = x[{first}].copy()
    for i in range(1, x.shape[0]):
        for j in range(x.shape[1]):
            found = out[{at}]
            v = x[i, j]
            out[{at}] = {combine}
    if {mean}:
        for j in range(x.shape[1]):
            out[{at}] = out[{at}] / x.shape[0]
    return out
"""

_ROWS = """
def impl(x, axis):
    out = np.empty({shape})
    for i in range(x.shape[0]):
        found = x[i, 0]
        for j in range(1, x.shape[1]):
            v = x[i, j]
            found = {combine}
        out[{at}] = found / x.shape[1] if {mean} else found
    return out
"""

_VECTOR = """
def impl(x, axis):
    found = x[0]
    for j in range(1, x.size):
        v = x[j]
        found = {combine}
    found = found / x.size if {mean} else found
    return {result}
"""


def _defined(template: str, **fields: str):
    """The function `template` defines with `fields` filled in."""
    namespace: dict = {"np": np}
    exec(template.format(**fields), namespace)  # noqa: S102 - a template of this module's
    return namespace["impl"]


def register(numba, types, overload) -> None:
    """Numba implementations of the helpers, for vectors and matrices of floats."""
    for kind, (flat, kept) in _KINDS.items():
        if kind.startswith("a"):
            continue  # amax, amin: the helpers of max, min
        fields = {"combine": _COMBINE[kind], "mean": str(kind == "mean")}
        for helper, columns, rows, result in (
                (flat, {"first": "0", "at": "j"}, {"shape": "x.shape[0]", "at": "i"}, "found"),
                (kept, {"first": "0:1", "at": "0, j"}, {"shape": "(x.shape[0], 1)", "at": "i, 0"},
                 "np.full(1, found)")):
            _overload(overload, types, helper, _defined(_VECTOR, result=result, **fields),
                      _defined(_COLUMNS, **columns, **fields), _defined(_ROWS, **rows, **fields))


def _overload(overload, types, helper, vector, columns, rows) -> None:
    """`helper`'s implementations; for a matrix, the loop along its axis alone, which Numba
    compiles in half the time of both: the axis must be a constant, as `along_axes` writes it."""

    @overload(helper, prefer_literal=True)
    def implementation(x, axis):
        if isinstance(x, types.Array) and x.ndim == 1:
            return vector
        if not (isinstance(x, types.Array) and x.ndim == 2):
            return None
        if isinstance(axis, types.IntegerLiteral):
            return columns if axis.literal_value % 2 == 0 else rows
        return None
