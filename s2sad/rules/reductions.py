"""Reductions over axes: sum, mean, prod, max/min, var/std, average, cumsum/cumprod; and
calculus on samples: differences (diff), integrals (trapezoid), filters (convolve, correlate),
piecewise linear interpolation (interp).

Every rule takes `axis` as None (all axes), an int (negative counts from the end) or a tuple,
and `keepdims`. `unreduce(g, x, axis, keepdims)` spreads a cotangent of the reduced shape back
over the reduced axes; `reduced_size(x, axis)` is the number of elements combined into one.
"""

import numpy as np

from s2sad import runtime
from s2sad.rules.registry import define, linear, nondiff
from s2sad.runtime import (
    broadcast_like,
    collapse_weights,
    conv_cut,
    conv_embed,
    diff_adjoint,
    div_or_zero,
    expand_weights,
    from_last,
    gradient_adjoint,
    gradient_along,
    interp_slope,
    interp_slope_adjoint,
    interp_values,
    interp_values_adjoint,
    prod_others,
    reduced_size,
    square_mask,
    tie_weights,
    to_last,
    trapezoid_weights,
    trapezoid_weights_adjoint,
    unbroadcast,
    unreduce,
)


@linear(np.sum, "x, axis=None, dtype=None, keepdims=False", reduction=True)
class sum:
    def bx(g, x, axis, keepdims):
        return unreduce(g, x, axis, keepdims)


@linear(np.mean, "x, axis=None, dtype=None, keepdims=False", reduction=True)
class mean:
    def bx(g, x, axis, keepdims):
        return unreduce(g, x, axis, keepdims) / reduced_size(x, axis)


@define(np.prod, "x, axis=None, dtype=None, keepdims=False")
class prod:
    """d prod = sum(dx * prod of the others). The product of the others is built from prefix
    and suffix products, never as out / x, so zeros in x get their exact derivative."""

    def dx(dx, x, axis, keepdims):
        return np.sum(dx * prod_others(x, axis), axis=axis, keepdims=keepdims)

    def bx(g, x, axis, keepdims):
        return unreduce(g, x, axis, keepdims) * prod_others(x, axis)


@define(np.max, "x, axis=None, keepdims=False", also=(np.amax, np.min, np.amin))
class max:
    """max and min: the derivative flows to the elements equal to the result. When k elements
    tie, each gets 1/k of it (the minimum-norm subgradient), so max(x, x) has gradient 1/2."""

    def dx(dx, x, axis, keepdims, out):
        return np.sum(dx * tie_weights(x, out, axis, keepdims), axis=axis, keepdims=keepdims)

    def bx(g, x, axis, keepdims, out):
        return unreduce(g, x, axis, keepdims) * tie_weights(x, out, axis, keepdims)


@define(np.var, "x, axis=None, dtype=None, ddof=0, keepdims=False")
class var:
    """var = sum((x - mean)**2) / (n - ddof); the mean's own variation cancels out."""

    def dx(dx, x, axis, ddof, keepdims):
        centered = x - np.mean(x, axis=axis, keepdims=True)
        return 2 * np.sum(centered * dx, axis=axis, keepdims=keepdims) / (reduced_size(x, axis) - ddof)

    def bx(g, x, axis, ddof, keepdims):
        centered = x - np.mean(x, axis=axis, keepdims=True)
        return 2 * unreduce(g, x, axis, keepdims) * centered / (reduced_size(x, axis) - ddof)


@define(np.std, "x, axis=None, dtype=None, ddof=0, keepdims=False")
class std:
    """std = sqrt(var). Where all elements are equal (std = 0) the derivative is 0: std is a
    norm of the centred values, and 0 is the minimum-norm subgradient at a kink of a norm."""

    def dx(dx, x, axis, ddof, keepdims, out):
        centered = x - np.mean(x, axis=axis, keepdims=True)
        spread = np.sum(centered * dx, axis=axis, keepdims=keepdims)
        return div_or_zero(spread, (reduced_size(x, axis) - ddof) * out)

    def bx(g, x, axis, ddof, keepdims, out):
        centered = x - np.mean(x, axis=axis, keepdims=True)
        scaled = div_or_zero(g, (reduced_size(x, axis) - ddof) * out)
        return unreduce(scaled, x, axis, keepdims) * centered


@define(np.average, "x, axis=None, weights=None, keepdims=False")
class average:
    """sum(w * x) / sum(w). Weights may be shaped like x or, with an int axis, one-dimensional
    along it; `expand_weights` broadcasts them to x's shape (ones when None)."""

    def dx(dx, axis, weights, keepdims):
        return np.average(dx, axis=axis, weights=weights, keepdims=keepdims)

    def bx(g, x, axis, weights, keepdims):
        w = expand_weights(weights, x, axis)
        return unreduce(g, x, axis, keepdims) * w / np.sum(w, axis=axis, keepdims=True)

    def dweights(dweights, x, axis, weights, keepdims, out):
        total = np.sum(expand_weights(weights, x, axis), axis=axis, keepdims=keepdims)
        centered = x - unreduce(out, x, axis, keepdims)
        moved = np.sum(centered * expand_weights(dweights, x, axis), axis=axis, keepdims=keepdims)
        return moved / total

    def bweights(g, x, axis, weights, keepdims, out):
        total = np.sum(expand_weights(weights, x, axis), axis=axis, keepdims=keepdims)
        centered = x - unreduce(out, x, axis, keepdims)
        return collapse_weights(unreduce(g / total, x, axis, keepdims) * centered, weights, x, axis)


@linear(np.cumsum, "x, axis=None, dtype=None")
class cumsum:
    """The adjoint of a running sum is the running sum taken from the other end. With axis
    None the result is flat, and so is its cotangent until it is reshaped like x."""

    def bx(g, x, axis):
        return np.reshape(np.flip(np.cumsum(np.flip(g, axis), axis), axis), np.shape(x))


@define(np.cumprod, "x, axis=None, dtype=None")
class cumprod:
    """d out[i] = sum over j <= i of dx[j] * prod(x[k] for k <= i, k != j). The weights form a
    lower-triangular n-by-n matrix per line along `axis` (built without division, so zeros in x
    are exact); memory grows as n**2 along the axis."""

    def dx(dx, x, axis, out):
        z = to_last(x, axis)
        low = square_mask(np.shape(z)[-1], z, lower=True)
        weights = prod_others(np.where(low, np.expand_dims(z, -2), 1.0), -1) * low
        return from_last(np.sum(weights * np.expand_dims(to_last(dx, axis), -2), axis=-1), out, axis)

    def bx(g, x, axis):
        z = to_last(x, axis)
        low = square_mask(np.shape(z)[-1], z, lower=True)
        weights = prod_others(np.where(low, np.expand_dims(z, -2), 1.0), -1) * low
        return from_last(np.sum(weights * np.expand_dims(to_last(g, axis), -1), axis=-2), x, axis)


# ---------------------------------------------------------------- differences, integrals, filters


@linear(np.diff, "x, n=1, axis=-1")
class diff:
    """The n-th difference along an axis; its adjoint sends each difference x[i+1] - x[i] back
    as +g to x[i+1] and -g to x[i], n times (`diff_adjoint`)."""

    def bx(g, x, n, axis):
        return diff_adjoint(g, n, axis, x)


@linear(runtime.diff_adjoint, "g, n=1, axis=-1, x=None", linear_in="g")
class diff_adjoint_rule:
    def bg(c, n, axis):
        return np.diff(c, n, axis)


@define(np.trapezoid, "y, x=None, dx=1.0, axis=-1")
class trapezoid:
    """sum over i of (x[i+1] - x[i]) * (y[i] + y[i+1]) / 2, the same as sum(w * y) with weights
    w[i] = (h[i-1] + h[i]) / 2 (h the spacings, `trapezoid_weights`): linear in y, and w is
    linear in x. A scalar spacing dx is a constant (an active one is refused)."""

    def dy(dy, x, dx, axis):
        return np.trapezoid(dy, x, dx, axis)

    def by(g, y, x, dx, axis):
        return np.expand_dims(g, axis) * trapezoid_weights(y, x, dx, axis)

    def dx(tx, y, axis):
        return np.sum(y * trapezoid_weights(y, tx, 1.0, axis), axis=axis)

    def bx(g, y, x, axis):
        return trapezoid_weights_adjoint(np.expand_dims(g, axis) * y, y, x, axis)


@linear(runtime.trapezoid_weights, "y, x=None, dx=1.0, axis=-1", linear_in="x")
class trapezoid_weights_rule:
    def bx(c, y, x, axis):
        return trapezoid_weights_adjoint(c, y, x, axis)


@linear(runtime.trapezoid_weights_adjoint, "c, y, x, axis=-1", linear_in="c")
class trapezoid_weights_adjoint_rule:
    def bc(e, c, y, axis):
        return broadcast_like(trapezoid_weights(y, e, 1.0, axis), c)


@define(np.convolve, "a, v, mode='full'")
class convolve:
    """Bilinear: out[k] = sum over i of a[i] v[k - i]. The adjoint in a correlates the cotangent,
    placed where its entries sit in the full result (`conv_embed`), with v; the same in v."""

    def da(da, v, mode):
        return np.convolve(da, v, mode)

    def ba(g, a, v, mode):
        return np.correlate(conv_embed(g, a, v, mode, "convolve"), v, "valid")

    def dv(dv, a, mode):
        return np.convolve(a, dv, mode)

    def bv(g, a, v, mode):
        return np.correlate(conv_embed(g, a, v, mode, "convolve"), a, "valid")


@define(np.correlate, "a, v, mode='valid'")
class correlate:
    """Bilinear: the full correlation is np.convolve(a, v reversed) (real arrays); `mode` keeps a
    part of it (`conv_cut`), and the adjoints start from the cotangent placed back in the full
    result (`conv_embed`)."""

    def da(da, v, mode):
        return np.correlate(da, v, mode)

    def ba(g, a, v, mode):
        return np.correlate(conv_embed(g, a, v, mode, "correlate"), np.flip(v), "valid")

    def dv(dv, a, mode):
        return np.correlate(a, dv, mode)

    def bv(g, a, v, mode):
        return np.flip(np.correlate(conv_embed(g, a, v, mode, "correlate"), a, "valid"))


@linear(runtime.conv_embed, "g, a, v, mode='full', how='convolve'", linear_in="g")
class conv_embed_rule:
    def bg(c, a, v, mode, how):
        return conv_cut(c, a, v, mode, how)


@linear(runtime.conv_cut, "c, a, v, mode='full', how='convolve'", linear_in="c")
class conv_cut_rule:
    def bc(e, a, v, mode, how):
        return conv_embed(e, a, v, mode, how)


@define(np.interp, "x, xp, fp, left=None, right=None, period=None")
class interp:
    """Piecewise linear in x: the slope of the segment x lies in, 0 outside [xp[0], xp[-1]]
    (the end values, or left/right, are constants there); at a sample where two segments meet,
    the minimum-norm subgradient (0 between slopes of opposite signs, else the smaller slope).
    Linear in fp: each point is (1 - t) fp[i] + t fp[i+1]. The sample points xp are constants
    (an active xp is refused); so is a period (refused when x or fp is differentiated)."""

    def dx(dx, x, xp, fp, left, right, period):
        return dx * interp_slope(x, xp, fp, left, right, period)

    def bx(g, x, xp, fp, left, right, period):
        return unbroadcast(g * interp_slope(x, xp, fp, left, right, period), x)

    def dfp(dfp, x, xp, left, right, period):
        return interp_values(dfp, x, xp, left, right, period)

    def bfp(g, x, xp, fp, left, right, period):
        return interp_values_adjoint(g, x, xp, fp, left, right, period)


@linear(runtime.interp_values, "dfp, x, xp, left=None, right=None, period=None", linear_in="dfp")
class interp_values_rule:
    def bdfp(c, x, xp, dfp, left, right, period):
        return interp_values_adjoint(c, x, xp, dfp, left, right, period)


@linear(runtime.interp_values_adjoint, "g, x, xp, fp, left=None, right=None, period=None", linear_in="g")
class interp_values_adjoint_rule:
    def bg(c, x, xp, left, right, period):
        return interp_values(c, x, xp, left, right, period)


@linear(runtime.interp_slope, "x, xp, fp, left=None, right=None, period=None", linear_in="fp")
class interp_slope_rule:
    """Linear in fp; piecewise constant in x (its derivative there is 0 between samples)."""

    def bfp(c, x, xp, fp, left, right, period):
        return interp_slope_adjoint(c, x, xp, fp, left, right, period)


@linear(runtime.interp_slope_adjoint, "c, x, xp, fp, left=None, right=None, period=None", linear_in="c")
class interp_slope_adjoint_rule:
    def bc(e, c, x, xp, left, right, period):
        return broadcast_like(interp_slope(x, xp, e, left, right, period), c)


@define(np.gradient, "f, spacing=None, *, axis=None, edge_order=1", structural=True)
class gradient:
    """Central differences inside, one-sided ones at the ends (of order edge_order): linear in f,
    one array per axis (a tuple of them for several axes). One spacing (a number, or the
    coordinates along a single axis) is a constant; several spacings, one per axis, have no
    rule (the call is refused: differentiate per axis with `axis=`)."""

    def df(df, spacing, axis, edge_order):
        return gradient_along(df, spacing, axis, edge_order)

    def bf(g, f, spacing, axis, edge_order):
        return gradient_adjoint(g, f, spacing, axis, edge_order)


@linear(runtime.gradient_along, "f, spacing=None, axis=None, edge_order=1", linear_in="f", structural=True)
class gradient_along_rule:
    def bf(c, f, spacing, axis, edge_order):
        return gradient_adjoint(c, f, spacing, axis, edge_order)


@linear(runtime.gradient_adjoint, "g, f, spacing=None, axis=None, edge_order=1", linear_in="g", same_shape_as=1)
class gradient_adjoint_rule:
    def bg(c, f, spacing, axis, edge_order):
        return gradient_along(c, spacing, axis, edge_order)


nondiff(np.digitize, np.bincount, family="reductions")
nondiff(np.histogram, family="reductions", structural=True)
"""Counts and bin indices: piecewise constant in the values, so an active input gives zero
derivative. (np.histogram's edges, when computed from the range of the values, move with them;
they are constants here: pass `range=` or explicit bins if that matters.)"""
