"""Helpers of the array-operation rules (differences, integrals, convolutions, selections,
interpolation); generated code calls them. Each linear helper comes with its adjoint, and the
two rules point at each other (in `s2sad.rules.shape` and `s2sad.rules.reductions`), so the
derivatives can be differentiated again.
"""

from __future__ import annotations

import numpy as np

from s2sad.errors import S2SADError
from s2sad.runtime.core import foreign_array, size, unbroadcast


def _along(v, ndim: int, axis: int):
    """A 1-D `v` shaped to broadcast along `axis` of an array with `ndim` dimensions."""
    shape = [1] * ndim
    shape[axis] = -1
    return np.reshape(v, shape)


def _edges(n: int, ndim: int, axis: int, front: int, back: int) -> list[tuple[int, int]]:
    widths = [(0, 0)] * ndim
    widths[axis % ndim] = (front, back)
    return widths


# ---------------------------------------------------------------- np.diff


def diff_adjoint(g, n=1, axis=-1, x=None):
    """The adjoint of `np.diff(x, n, axis)`: each difference x[i+1] - x[i] sends its cotangent
    +1 to x[i+1] and -1 to x[i]; applied n times. (With n above the length of x the result is
    empty: zeros shaped like x.)"""
    if x is not None and n > np.shape(x)[axis]:
        return np.zeros(np.shape(x))
    for _ in range(n):
        g = -np.diff(np.pad(g, _edges(1, np.ndim(g), axis, 1, 1)), axis=axis)
    return g


# ---------------------------------------------------------------- np.trapezoid


def trapezoid_weights(y, x=None, dx=1.0, axis=-1):
    """The weight of each sample of `y` in `np.trapezoid(y, x, dx, axis)`: (h[i-1] + h[i]) / 2
    with h the spacings (dx, or the differences of x). Linear in x; broadcasts against y."""
    ndim, n = np.ndim(y), np.shape(y)[axis]
    like = y if foreign_array(y) else None  # (the spacings in y's library)
    h = np.full(n - 1, dx, dtype=float, like=like) if x is None else np.diff(x, axis=axis if np.ndim(x) > 1 else -1)
    hdim = np.ndim(h)
    w = 0.5 * (np.pad(h, _edges(1, hdim, axis if hdim > 1 else -1, 1, 0))
               + np.pad(h, _edges(1, hdim, axis if hdim > 1 else -1, 0, 1)))
    return _along(w, ndim, axis) if hdim == 1 and ndim > 1 else w


def trapezoid_weights_adjoint(c, y, x, axis=-1):
    """The adjoint of `trapezoid_weights` in x: `c`, a cotangent of the weights (shaped like y
    or broadcasting against it), back to a cotangent shaped like x."""
    ndim = np.ndim(y)
    if np.ndim(x) == 1 and ndim > 1:
        c = np.sum(c, axis=tuple(i for i in range(ndim) if i != axis % ndim))
        axis = -1
    c = 0.5 * (_part(c, axis, slice(1, None)) + _part(c, axis, slice(None, -1)))
    return np.reshape(diff_adjoint(c, 1, axis), np.shape(x))


def _part(c, axis: int, part: slice):
    """`c` sliced by `part` along `axis` (a slice: no index array, which a GPU array would
    need on the device)."""
    index = [slice(None)] * np.ndim(c)
    index[axis] = part
    return c[tuple(index)]


# ---------------------------------------------------------------- np.convolve, np.correlate


def _conv_offset(n: int, m: int, mode: str, how: str) -> int:
    """Where the result of `mode` starts inside the full convolution (or correlation)."""
    if mode == "full":
        return 0
    if mode == "valid":
        return min(n, m) - 1
    if how == "correlate" and n < m:
        return min(n, m) // 2
    return (min(n, m) - 1) // 2


def conv_embed(g, a, v, mode="full", how="convolve"):
    """A cotangent of `np.convolve(a, v, mode)` (or np.correlate) placed where its entries sit in
    the full result (zeros elsewhere): the adjoint of `conv_cut`."""
    n, m = size(a), size(v)
    start = _conv_offset(n, m, mode, how)
    g = g.astype(float) if foreign_array(g) else np.asarray(g, dtype=float)
    return np.pad(g, (start, n + m - 1 - start - size(g)))


def conv_cut(c, a, v, mode="full", how="convolve"):
    """The entries of a full convolution (or correlation) that `mode` keeps: the adjoint of
    `conv_embed`."""
    n, m = size(a), size(v)
    start = _conv_offset(n, m, mode, how)
    length = {"full": n + m - 1, "same": max(n, m), "valid": max(n, m) - min(n, m) + 1}[mode]
    return c[start:start + length]


# ---------------------------------------------------------------- np.select


def select_none(condlist, choicelist):
    """Where no condition holds (np.select takes the default there), broadcast to the result."""
    shape = np.broadcast_shapes(*(np.shape(c) for c in condlist), *(np.shape(c) for c in choicelist))
    return np.broadcast_to(~np.any(np.broadcast_arrays(*condlist, np.zeros(shape, bool))[:-1], axis=0)
                           if len(condlist) else np.ones(shape, bool), shape)


def select_tangent(d, condlist, choicelist):
    """The tangent of `np.select(condlist, choicelist)` in its choices: np.select of the choices'
    tangents `d` (None for a constant choice), each broadcast to the result."""
    shape = np.broadcast_shapes(*(np.shape(c) for c in condlist), *(np.shape(c) for c in choicelist))
    pieces = [np.zeros(shape) if t is None else np.broadcast_to(t, shape) for t in d]
    return np.select([np.broadcast_to(c, shape) for c in condlist], pieces, 0.0)


def select_adjoint(g, condlist, choicelist):
    """The adjoint of `np.select(condlist, choicelist)` in its choices: each choice gets the
    cotangent where it was taken (the first condition that holds), summed to its shape."""
    taken = np.zeros(np.shape(g), bool)
    out = []
    for cond, choice in zip(condlist, choicelist):
        here = np.broadcast_to(cond, np.shape(g)) & ~taken
        taken = taken | here
        out.append(unbroadcast(np.where(here, g, 0.0), choice))
    return type(choicelist)(out) if isinstance(choicelist, (list, tuple)) else out


# ---------------------------------------------------------------- np.interp


def _bracket(x, xp):
    """For each query point, the segment of xp it lies in (i, i + 1) and its place t in it;
    points outside [xp[0], xp[-1]] get the end segment and are flagged."""
    xp = np.asarray(xp, dtype=float)
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, max(len(xp) - 2, 0))
    j = np.minimum(i + 1, len(xp) - 1)
    span = xp[j] - xp[i]
    t = np.divide(np.asarray(x, dtype=float) - xp[i], span, out=np.zeros(np.shape(x)), where=span != 0)
    inside = (np.asarray(x) >= xp[0]) & (np.asarray(x) <= xp[-1])
    return i, j, t, inside


def _no_period(period) -> None:
    if period is not None:
        raise S2SADError("np.interp with a period has no derivative rule in s2sad; map x into one period "
                         "first (x % period, with xp and fp covering it) and call np.interp without it")


def interp_values(dfp, x, xp, left=None, right=None, period=None):
    """The tangent of `np.interp(x, xp, fp, left, right)` in fp: the same interpolation of dfp,
    except that a given `left` / `right` value (a constant) takes no part."""
    _no_period(period)
    return np.interp(x, xp, dfp, left=None if left is None else 0.0, right=None if right is None else 0.0)


def interp_values_adjoint(g, x, xp, fp, left=None, right=None, period=None):
    """The adjoint of `interp_values` in dfp: each query point sends its cotangent to the two
    samples it lies between, weighted 1 - t and t (all to the end sample outside, unless a
    `left` / `right` value replaces it there)."""
    _no_period(period)
    i, j, t, inside = _bracket(x, xp)
    x = np.asarray(x)
    g = np.broadcast_to(g, np.shape(x))
    lo = np.where(inside, 1.0 - t, 0.0) + ((x < xp[0]) & (left is None))
    hi = np.where(inside, t, 0.0) + ((x > xp[-1]) & (right is None))
    out = np.zeros(np.shape(fp))
    np.add.at(out, np.where(x < xp[0], 0, i), g * lo)
    np.add.at(out, np.where(x > xp[-1], len(out) - 1, j), g * hi)
    return out


def interp_slope(x, xp, fp, left=None, right=None, period=None):
    """d np.interp / dx: the slope of the segment each point lies in, 0 outside [xp[0], xp[-1]].
    At a sample between two segments (a kink) the minimum-norm subgradient: 0 where the slopes
    have opposite signs, else the smaller one. Linear in fp."""
    _no_period(period)
    xp, fp = np.asarray(xp, dtype=float), np.asarray(fp, dtype=float)
    slopes = np.diff(fp) / np.diff(xp)
    return _slope_at(x, xp, slopes)


def _slope_at(x, xp, slopes):
    x = np.asarray(x, dtype=float)
    if len(slopes) == 0:
        return np.zeros(np.shape(x))
    i, _, _, inside = _bracket(x, xp)
    here = slopes[i]
    at_knot = np.isin(x, xp[1:-1])
    before = slopes[np.maximum(i - 1, 0)]
    kink = np.where(before * here > 0, np.where(np.abs(before) < np.abs(here), before, here), 0.0)
    return np.where(inside, np.where(at_knot, kink, here), 0.0)


def interp_slope_adjoint(c, x, xp, fp, left=None, right=None, period=None):
    """The adjoint of `interp_slope` in fp: each point's slope (fp[j] - fp[i]) / (xp[j] - xp[i])
    sends c / span to fp[j] and -c / span to fp[i]."""
    _no_period(period)
    xp = np.asarray(xp, dtype=float)
    basis = np.eye(len(xp))
    # the slope is linear in fp: its matrix, one column per sample, applied transposed
    columns = np.stack([interp_slope(x, xp, e) for e in basis], axis=-1)
    return np.tensordot(np.broadcast_to(c, np.shape(columns)[:-1]), columns, axes=np.ndim(columns) - 1)



# ---------------------------------------------------------------- shapes and axes


def rolled_to(x, axis, start=0):
    """Where `np.rollaxis(x, axis, start)` puts `axis`: the destination of the same np.moveaxis."""
    n = np.ndim(x)
    axis, start = axis % n, start + n if start < 0 else start
    return start - 1 if start > axis else start


def split_axis(x, axis):
    """The axis np.hsplit (axis 1) splits along: axis 0 for a 1-D array."""
    return axis if np.ndim(x) > 1 else 0


# ---------------------------------------------------------------- np.gradient


def _gradient_axes(f, axis) -> tuple[int, ...]:
    ndim = np.ndim(f)
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))


def _gradient_matrix(n: int, spacing, edge_order: int) -> np.ndarray:
    """The n-by-n matrix of np.gradient along one axis of length n (column j: the gradient of
    the j-th unit vector)."""
    return np.stack([np.gradient(e, *spacing, edge_order=edge_order) for e in np.eye(n)], axis=-1)


def gradient_along(f, spacing=None, axis=None, edge_order=1):
    """`np.gradient(f, spacing, axis=axis, edge_order=edge_order)` (no spacing argument for
    None): the tangent of np.gradient in f (it is linear in f)."""
    out = np.gradient(f, *(() if spacing is None else (spacing,)), axis=axis, edge_order=edge_order)
    one = isinstance(out, list) and len(_gradient_axes(f, axis)) == 1
    return out[0] if one else out  # (Dask's np.gradient gives a list of one array where NumPy's gives it)


def gradient_adjoint(g, f, spacing=None, axis=None, edge_order=1):
    """The adjoint of np.gradient in f: each axis's derivative matrix applied transposed along
    that axis, summed over the axes (`g` holds one cotangent per axis when there are several;
    None for one not used)."""
    axes = _gradient_axes(f, axis)
    pieces = (g,) if len(axes) == 1 else tuple(g)
    out = np.zeros(np.shape(f))
    for a, piece in zip(axes, pieces):
        if piece is None:
            continue
        matrix = _gradient_matrix(np.shape(f)[a], () if spacing is None else (spacing,), edge_order)
        if foreign_array(piece):  # the matrix and the sum in the cotangent's library
            matrix, out = np.asarray(matrix, like=piece), np.asarray(out, like=piece)
        out = out + np.moveaxis(np.tensordot(matrix.T, np.moveaxis(piece, a, 0), axes=1), 0, a)
    return out
