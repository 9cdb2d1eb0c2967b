"""Reductions along an axis for the Numba backend: `x.max(axis=1, keepdims=True)` and the like.

Numba compiles `x.sum(axis=1)` but neither `keepdims` nor `max`, `min` or `mean` along an axis.
`along_axes` rewrites such calls (of the array methods and of `np.sum`, `np.max`, ...) into
the helpers below, one per reduction and `keepdims`; `register` gives them Numba
implementations for vectors and matrices (other arrays stay refused when Numba types them).
Each helper is also plain NumPy, so the code runs the same without Numba.
"""

from __future__ import annotations

import numpy as np

from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Ref


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


def along_axes(body: list[ir.Stmt]) -> list[ir.Stmt]:
    """Each reduction along a constant integer axis made a call of its helper."""
    out: list[ir.Stmt] = []
    for stmt in body:
        stmt = ir.rebuild(stmt, along_axes)
        if isinstance(stmt, Assign) and isinstance(stmt.value, Call):
            stmt = Assign(stmt.target, _along_axis(stmt.value), stmt.line)
        out.append(stmt)
    return out


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
# Plain loops: Numba compiles them in a fraction of the time its generic `np.sum(..., axis)`
# machinery takes. Sums go in NumPy's order along axis 0 (row by row); along a row, one by
# one (NumPy sums eight at a time: the last bits may differ). `max` and `min` propagate NaN.


def _add(total, v):
    return total + v


def _larger(best, v):
    return v if v > best or v != v else best


def _smaller(best, v):
    return v if v < best or v != v else best


def _along_row(combine):
    def impl(row):
        found = row[0]
        for j in range(1, row.size):
            found = combine(found, row[j])
        return found
    return impl


def _down_columns(combine):
    def impl(x):
        out = x[0].copy()
        for i in range(1, x.shape[0]):
            for j in range(x.shape[1]):
                out[j] = combine(out[j], x[i, j])
        return out
    return impl


def _matrix(along_row, down_columns, mean):
    def impl(x, axis):
        if (axis + 2) % 2 == 0:
            out = down_columns(x)
            return out / x.shape[0] if mean else out
        out = np.empty(x.shape[0])
        for i in range(x.shape[0]):
            out[i] = along_row(x[i])
        return out / x.shape[1] if mean else out
    return impl


def _vector(along_row, mean):
    def impl(x, axis):
        return along_row(x) / x.size if mean else along_row(x)
    return impl


def _kept(flat):
    def matrix(x, axis):
        found = flat(x, axis)
        return found.reshape((1, found.size)) if (axis + 2) % 2 == 0 else found.reshape((found.size, 1))
    return matrix


def _vector_kept(flat):
    def impl(x, axis):
        out = np.empty(1)
        out[0] = flat(x, axis)
        return out
    return impl


def register(numba, types, overload) -> None:
    """Numba implementations of the helpers, for vectors and matrices of floats."""
    combines = {"sum": (_add, False), "mean": (_add, True), "max": (_larger, False), "min": (_smaller, False)}
    for kind, (flat, kept) in _KINDS.items():
        if kind.startswith("a"):
            continue  # amax, amin: the helpers of max, min
        combine, mean = combines[kind]
        combine = numba.njit(combine)
        along_row, down = numba.njit(_along_row(combine)), numba.njit(_down_columns(combine))
        vector, matrix = numba.njit(_vector(along_row, mean)), numba.njit(_matrix(along_row, down, mean))
        _overload(overload, types, flat, vector, matrix)
        _overload(overload, types, kept, numba.njit(_vector_kept(vector)), numba.njit(_kept(matrix)))


def _overload(overload, types, helper, vector, matrix) -> None:
    @overload(helper)
    def implementation(x, axis):
        if isinstance(x, types.Array) and x.ndim == 1:
            return lambda x, axis: vector(x, axis)
        if isinstance(x, types.Array) and x.ndim == 2:
            return lambda x, axis: matrix(x, axis)
        return None
