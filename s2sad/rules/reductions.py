"""Reductions over axes: sum, mean, prod, max/min, var/std, average, cumsum/cumprod.

Every rule takes `axis` as None (all axes), an int (negative counts from the end) or a tuple,
and `keepdims`. `unreduce(g, x, axis, keepdims)` spreads a cotangent of the reduced shape back
over the reduced axes; `reduced_size(x, axis)` is the number of elements combined into one.
"""

import numpy as np

from s2sad.rules.registry import define, linear
from s2sad.runtime import (
    collapse_weights,
    div_or_zero,
    expand_weights,
    from_last,
    prod_others,
    reduced_size,
    tie_weights,
    to_last,
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
        low = np.tri(np.shape(z)[-1], dtype=bool)
        weights = prod_others(np.where(low, np.expand_dims(z, -2), 1.0), -1) * low
        return from_last(np.sum(weights * np.expand_dims(to_last(dx, axis), -2), axis=-1), out, axis)

    def bx(g, x, axis):
        z = to_last(x, axis)
        low = np.tri(np.shape(z)[-1], dtype=bool)
        weights = prod_others(np.where(low, np.expand_dims(z, -2), 1.0), -1) * low
        return from_last(np.sum(weights * np.expand_dims(to_last(g, axis), -1), axis=-2), x, axis)
