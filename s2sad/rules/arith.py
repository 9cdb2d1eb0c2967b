"""Arithmetic: the Python operators, their NumPy spellings and the builtin `pow`.

Division and powers use the strong-zero helpers (`strong_div`, `power_term`, `strong_mul`):
their partials are inf or NaN at special points (a zero denominator, x = 0 with y < 1), and a
zero (co)tangent must still contribute exactly zero there (docs/conventions.md).
"""

import builtins
import operator

import numpy as np

from s2sad.rules.registry import define, elementwise, linear, taylor_of
from s2sad.runtime import (
    broadcast_like,
    power_term,
    series_div,
    series_minus,
    series_mul,
    series_plus,
    series_pow,
    strong_div,
    strong_mul,
    unbroadcast,
)


@define(operator.add, "x, y", also=(np.add,), shape="elementwise", foldable=True)
class add:
    def dx(dx, out):
        return broadcast_like(dx, out)

    def bx(g, x):
        return unbroadcast(g, x)

    def dy(dy, out):
        return broadcast_like(dy, out)

    def by(g, y):
        return unbroadcast(g, y)

    def taylor(x_c, y_c, out):
        return series_plus(x_c, y_c, out)


@define(operator.sub, "x, y", also=(np.subtract,), shape="elementwise", foldable=True)
class sub:
    def dx(dx, out):
        return broadcast_like(dx, out)

    def bx(g, x):
        return unbroadcast(g, x)

    def dy(dy, out):
        return broadcast_like(-dy, out)

    def by(g, y):
        return unbroadcast(-g, y)

    def taylor(x_c, y_c, out):
        return series_minus(x_c, y_c, out)


@define(operator.mul, "x, y", also=(np.multiply,), shape="elementwise", foldable=True)
class mul:
    def dx(dx, y):
        return dx * y

    def bx(g, x, y):
        return unbroadcast(g * y, x)

    def dy(dy, x):
        return x * dy

    def by(g, x, y):
        return unbroadcast(x * g, y)

    def taylor(x, x_c, y, y_c):
        return series_mul(x, x_c, y, y_c)


@define(operator.truediv, "x, y", also=(np.divide, np.true_divide), shape="elementwise", foldable=True)
class truediv:
    """x / y. At y = 0 the partials are infinite; a zero (co)tangent still contributes 0, so
    `np.where(y != 0, x / y, 0.0)` has a finite derivative at y = 0."""

    def dx(dx, y):
        return strong_div(dx, y)

    def bx(g, x, y):
        return unbroadcast(strong_div(g, y), x)

    def dy(dy, y, out):
        return strong_div(strong_mul(-dy, out), y)

    def by(g, y, out):
        return unbroadcast(strong_div(strong_mul(-g, out), y), y)

    def taylor(x, x_c, y, y_c):
        return series_div(x, x_c, y, y_c)


@define(operator.pow, "x, y", also=(np.power, np.float_power, builtins.pow), shape="elementwise",
        foldable=True)
class pow:
    """x ** y. ∂x = y·x^(y−1), taken as 0 where y = 0: x**0 is constant, also at x = 0.
    ∂y = x^y·ln x, taken as 0 where x^y = 0: 0**y is constant for y > 0. At x = 0 with y < 1,
    ∂x is inf (IEEE), and a zero (co)tangent contributes 0. (np.float_power computes in
    float64, and so do its derivatives.)"""

    def dx(dx, x, y):
        return power_term(dx, x, y)

    def bx(g, x, y):
        return unbroadcast(power_term(g, x, y), x)

    def dy(dy, x, out):
        return strong_mul(dy, strong_mul(out, np.log(x)))

    def by(g, x, y, out):
        return unbroadcast(strong_mul(g, strong_mul(out, np.log(x))), y)

    def taylor(x, x_c, y, y_c, out):
        return series_pow(x, x_c, y, y_c, out)


@define(operator.mod, "x, y", also=(np.mod,), shape="elementwise", taylor="each")
class mod:
    """x % y = x − y·⌊x/y⌋: slope 1 in x, −⌊x/y⌋ in y (the jumps are not differentiated)."""

    def dx(dx, out):
        return broadcast_like(dx, out)

    def bx(g, x):
        return unbroadcast(g, x)

    def dy(dy, x, y):
        return -dy * (x // y)

    def by(g, x, y):
        return unbroadcast(-g * (x // y), y)


@define(np.fmod, "x, y", shape="elementwise", taylor="each")
class fmod:
    """C's fmod, x − y·trunc(x/y): slope 1 in x, −trunc(x/y) in y."""

    def dx(dx, out):
        return broadcast_like(dx, out)

    def bx(g, x):
        return unbroadcast(g, x)

    def dy(dy, x, y):
        return -dy * np.trunc(x / y)

    def by(g, x, y):
        return unbroadcast(-g * np.trunc(x / y), y)


@linear(operator.neg, "x", also=(np.negative,), shape="elementwise", foldable=True)
class neg:
    def bx(g):
        return -g


@linear(operator.pos, "x", also=(np.positive,), shape="elementwise")
class pos:
    def bx(g):
        return g


@elementwise(np.square)
def square(x):
    return 2 * x


@taylor_of(np.square)
def square_series(x, x_c):
    return series_mul(x, x_c, x, x_c)


@elementwise(np.reciprocal, strong="mul")
def reciprocal(x, out):
    """1/x: ∂ = −1/x², −inf at 0."""
    return -out * out


@taylor_of(np.reciprocal)
def reciprocal_series(x, x_c):
    return series_div(1.0, None, x, x_c)
