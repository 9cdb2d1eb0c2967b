"""Strong zeros and the helpers of the special-point conventions (docs/conventions.md)."""

from __future__ import annotations

import math

import numpy as np

from s2sad.runtime.core import foreign_array

# ---------------------------------------------------------------- special points: strong zeros
# Used only by rules whose local partial can be inf or NaN (sqrt, log, division, power...), so
# that a zero (co)tangent contributes exactly zero there; see docs/conventions.md.

_REALS = (float, int, np.float64, np.float32)


def _has_nan(t) -> bool:
    """One reduction: a NaN (or inf − inf, a harmless false alarm) makes the sum NaN. For a Dask
    or CuPy array, True without looking (looking would compute a Dask array now): the zeros are
    then put in by the array's own `where`, lazily."""
    if foreign_array(t):
        return True
    total = t.sum()
    return total != total


def _strong(t, zero):
    """`t` (which holds a NaN) with 0 wherever `zero` holds: 0 * inf and 0 / 0 become 0."""
    return np.where(zero, 0.0, t)[()]


def strong_mul(d, p):
    """`d * p`, but exactly 0 where either factor is 0, even if the other is inf or NaN (a
    "strong zero")."""
    if type(p) in _REALS and -np.inf < p < np.inf and p != 0:
        return d * p
    t = np.multiply(d, p)
    return _strong(t, np.equal(d, 0) | np.equal(p, 0)) if _has_nan(t) else t


def strong_div(d, q):
    """`d / q`, but exactly 0 where `d == 0` even if `q` is 0 or NaN; ±inf (IEEE) where Python
    floats would raise ZeroDivisionError."""
    if type(q) in _REALS and q != 0 and q == q:
        return d / q
    t = np.divide(d, q)
    return _strong(t, np.equal(d, 0)) if _has_nan(t) else t


def power_term(d, x, y):
    """`d * y * x ** (y - 1)`, the tangent of `x ** y` along `d`: exactly 0 where `d == 0` or
    `y == 0` (so x**0 is constant, also at x = 0), IEEE ±inf at x = 0 for y < 1."""
    if type(y) is int and y >= 1:
        return d * (y * x ** (y - 1))
    return strong_mul(d * y, np.power(x, y - 1))


def log_base(base):
    """`ln(base)` for `math.log(x, base)`; 1.0 when the base is omitted (natural log)."""
    return 1.0 if base is None else float(np.log(base))


def ties(out, x, y, z=None, w=None):
    """How many of the arguments of the builtin `max`/`min` equal its result (they share it)."""
    return max(sum(1 for v in (x, y, z, w) if v is not None and v == out), 1)


def sigmoid(t):
    """1 / (1 + exp(-t)), the partials of `np.logaddexp` without its value, to a few units in
    the last place for every t. NaN stays NaN. For a Python float, only exp(-|t|) is computed
    (no overflow). For arrays the formula as written, with NumPy's overflow warning off: where
    exp(-t) overflows (t below about -709, where the true value is below the smallest normal
    float64), 1 / (1 + inf) is 0; three passes over the array, not the eight of the float's form."""
    if type(t) is float:
        if t >= 0:
            return 1.0 / (1.0 + math.exp(-t))
        e = math.exp(t)
        return e / (1.0 + e)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-t))


def clip_weights(x, a_min, a_max):
    """(∂x, ∂a_min, ∂a_max) of `np.clip` as `minimum(maximum(x, a_min), a_max)`, ties split
    evenly; an absent bound (None) gets weight 0."""
    lo = -np.inf if a_min is None else a_min
    hi = np.inf if a_max is None else a_max
    wm = (1 + np.sign(hi - np.maximum(x, lo))) / 2
    wx = wm * (1 + np.sign(x - lo)) / 2
    return wx, wm - wx, 1 - wm


def not_implemented(x, what):
    """Stands for a derivative s2sad does not implement; raises when it is computed."""
    raise NotImplementedError(f"s2sad does not implement {what}")
