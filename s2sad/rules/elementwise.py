"""NumPy's elementwise functions: exponentials, logarithms, roots, trigonometry, selections.

A function whose partial is finite everywhere is written with the `elementwise` shorthand (the
partial, written with `out` where that is cheaper: exp' = out, tanh' = 1 − out²). One whose
partial can be inf or NaN at a special point (roots at 0, logarithms at 0, arcsin at ±1) uses
the shorthand's strong-zero form (`strong="div"`: the function gives the divisor, and the terms
are `strong_div(dx, q)`), so that a zero (co)tangent contributes exactly zero there
(docs/conventions.md). Constants are Python floats, so float32 stays float32; in a partial of
`out` (always a float or complex) even the small integers are written as floats (`1.0 - out * out`):
the same numbers, and on Python floats (`math.tanh`) CPython's float-only arithmetic, not the
mixed int-float path.
"""

import math

import numpy as np

from s2sad.rules.registry import define, elementwise, linear, taylor_of
from s2sad.runtime import (
    abs_unit,
    angle_unit,
    broadcast_like,
    clip_weights,
    series_cos,
    series_cosh,
    series_exp,
    series_exp2,
    series_expm1,
    series_log,
    series_power,
    series_scale,
    series_sigmoid,
    series_sin,
    series_sinh,
    series_sqrt,
    series_tan,
    series_tanh,
    sigmoid,
    strong_div,
    unbroadcast,
)

LN2 = 0.6931471805599453
LN10 = 2.302585092994046
PI = 3.141592653589793
DEG = PI / 180.0
"""Radians per degree."""
SINC1, SINC3, SINC5 = -PI ** 2 / 3, PI ** 4 / 30, -PI ** 6 / 840
"""sinc'(x) = SINC1·x + SINC3·x³ + SINC5·x⁵ + O(x⁷)."""

# ---------------------------------------------------------------- exponentials and logarithms


@elementwise(np.exp, also=(math.exp,))
def exp(x, out):
    return out


@taylor_of(np.exp, math.exp)
def exp_series(x_c, out):
    """y' = y·x': y_k = (1/k)·Σ_{j=1..k} j·x_j·y_{k−j}."""
    return series_exp(out, x_c)


@elementwise(np.exp2, also=(math.exp2,))
def exp2(x, out):
    return out * LN2


@taylor_of(np.exp2, math.exp2)
def exp2_series(x_c, out):
    return series_exp2(out, x_c)


@elementwise(np.expm1, also=(math.expm1,))
def expm1(x, out):
    return out + 1.0


@taylor_of(np.expm1, math.expm1)
def expm1_series(x_c, out):
    return series_expm1(out, x_c)


@elementwise(np.log, strong="div")
def log(x):
    """log'(0) = inf (IEEE: log(0) = −inf); a zero (co)tangent contributes 0 there."""
    return x


@taylor_of(np.log)
def log_series(x, x_c):
    """y_k = (x_k − (1/k)·Σ_{j=1..k−1} j·y_j·x_{k−j}) / x."""
    return series_log(x, x_c)


@elementwise(np.log2, strong="div")
def log2(x):
    """log2'(0) = inf, like log."""
    return x * LN2


@taylor_of(np.log2)
def log2_series(x, x_c):
    return series_scale(series_log(x, x_c), 1 / LN2)


@elementwise(np.log10, strong="div")
def log10(x):
    """log10'(0) = inf, like log."""
    return x * LN10


@taylor_of(np.log10)
def log10_series(x, x_c):
    return series_scale(series_log(x, x_c), 1 / LN10)


@elementwise(np.log1p, strong="div")
def log1p(x):
    """Infinite slope at x = −1."""
    return 1 + x


@taylor_of(np.log1p)
def log1p_series(x, x_c):
    return series_log(1 + x, x_c)


@elementwise(np.logaddexp, "x, y")
def logaddexp(x, y):
    """log(eˣ + eʸ): the weights σ(x − y) and σ(y − x) sum to 1 (½ each at x = y), σ the
    logistic function (`sigmoid`, which cannot overflow); a gradient needs no logaddexp."""
    return sigmoid(x - y), sigmoid(y - x)


@elementwise(sigmoid, family="elementwise")
def sigmoid_rule(x, out):
    """σ'(x) = σ(x) σ(−x), both factors exact where 1 − σ(x) would round to 0."""
    return out * sigmoid(-x)


@taylor_of(sigmoid)
def sigmoid_series(x_c, out):
    """y' = (y − y²)·x'."""
    return series_sigmoid(out, x_c)


@elementwise(np.logaddexp2, "x, y")
def logaddexp2(x, y, out):
    return np.exp2(x - out), np.exp2(y - out)


# ---------------------------------------------------------------- roots and powers


@elementwise(np.sqrt, strong="div", also=(math.sqrt,))
def sqrt(x, out):
    """sqrt'(0) = inf, the limit by continuity; a zero (co)tangent contributes 0 there."""
    return 2.0 * out


@taylor_of(np.sqrt, math.sqrt)
def sqrt_series(x_c, out):
    """y·y = x: y_k = (x_k − Σ_{j=1..k−1} y_j·y_{k−j}) / (2y)."""
    return series_sqrt(out, x_c)


@elementwise(np.cbrt, strong="div", also=(math.cbrt,))
def cbrt(x, out):
    """cbrt'(0) = inf, like sqrt."""
    return 3.0 * (out * out)


@taylor_of(np.cbrt, math.cbrt)
def cbrt_series(x, x_c, out):
    return series_power(x, x_c, 1 / 3, out)


# ---------------------------------------------------------------- trigonometric and hyperbolic


@elementwise(np.sin)
def sin(x):
    return np.cos(x)


@taylor_of(np.sin)
def sin_series(x, x_c, out):
    """s' = c·x', c' = −s·x', carried together."""
    return series_sin(x, x_c, out)


@elementwise(np.cos)
def cos(x):
    return -np.sin(x)


@taylor_of(np.cos)
def cos_series(x, x_c, out):
    return series_cos(x, x_c, out)


@elementwise(np.tan, also=(math.tan,))
def tan(x, out):
    return 1.0 + out * out


@taylor_of(np.tan, math.tan)
def tan_series(x_c, out):
    """y' = (1 + y²)·x'."""
    return series_tan(out, x_c)


@elementwise(np.arcsin, strong="div")
def arcsin(x):
    """Infinite slope at ±1."""
    return np.sqrt((1 - x) * (1 + x))


@define(np.arccos, "x", shape="elementwise")
class arccos:
    """Slope −inf at ±1."""

    def dx(dx, x):
        return strong_div(-dx, np.sqrt((1 - x) * (1 + x)))

    def bx(g, x):
        return strong_div(-g, np.sqrt((1 - x) * (1 + x)))


@elementwise(np.arctan, also=(math.atan,))
def arctan(x):
    return 1 / (1 + x * x)


@define(np.arctan2, "x, y", shape="elementwise")
class arctan2:
    """The angle of the point (y, x) (NumPy's order: arctan2(x1, x2) = atan(x1 / x2)).
    Discontinuous at the origin; the derivative there is taken as 0."""

    def dx(dx, x, y):
        return dx * strong_div(y, x * x + y * y)

    def bx(g, x, y):
        return unbroadcast(g * strong_div(y, x * x + y * y), x)

    def dy(dy, x, y):
        return dy * strong_div(-x, x * x + y * y)

    def by(g, x, y):
        return unbroadcast(g * strong_div(-x, x * x + y * y), y)


@elementwise(np.sinh)
def sinh(x):
    return np.cosh(x)


@taylor_of(np.sinh)
def sinh_series(x, x_c, out):
    return series_sinh(x, x_c, out)


@elementwise(np.cosh)
def cosh(x):
    return np.sinh(x)


@taylor_of(np.cosh)
def cosh_series(x, x_c, out):
    return series_cosh(x, x_c, out)


@elementwise(np.tanh, also=(math.tanh,))
def tanh(x, out):
    return 1.0 - out * out


@taylor_of(np.tanh, math.tanh)
def tanh_series(x_c, out):
    """y' = (1 − y²)·x'."""
    return series_tanh(out, x_c)


@elementwise(np.arcsinh)
def arcsinh(x):
    return 1 / np.sqrt(x * x + 1)


@elementwise(np.arccosh, strong="div")
def arccosh(x):
    """Infinite slope at 1."""
    return np.sqrt((x - 1) * (x + 1))


@elementwise(np.arctanh, strong="div")
def arctanh(x):
    """Infinite slope at ±1 (where arctanh itself is infinite)."""
    return (1 - x) * (1 + x)


@define(np.hypot, "x, y", shape="elementwise")
class hypot:
    """√(x² + y²): ∂x = x / out. At the origin both partials are 0 (minimum-norm subgradient)."""

    def dx(dx, x, out):
        return dx * strong_div(x, out)

    def bx(g, x, out):
        return unbroadcast(g * strong_div(x, out), x)

    def dy(dy, y, out):
        return dy * strong_div(y, out)

    def by(g, y, out):
        return unbroadcast(g * strong_div(y, out), y)


@elementwise(np.sinc)
def sinc(x, out):
    """sin(πx)/(πx): sinc'(x) = (cos(πx) − sinc(x)) / x, and its Taylor series near 0 (no 0/0),
    so sinc'(0) = 0 and sinc''(0) = −π²/3, the limits."""
    return np.where(np.abs(x) < 0.01, x * (SINC1 + x * x * (SINC3 + x * x * SINC5)),
                    strong_div(np.cos(PI * x) - out, x))


@linear(np.deg2rad, "x", also=(np.radians,), shape="elementwise")
class deg2rad:
    def bx(g):
        return g * DEG


@linear(np.rad2deg, "x", also=(np.degrees,), shape="elementwise")
class rad2deg:
    def bx(g):
        return g / DEG


# ---------------------------------------------------------------- kinks: abs, max/min, clip, where


@elementwise(np.fabs)
def fabs(x):
    """fabs'(0) = 0: the minimum-norm subgradient."""
    return np.sign(x)


@define(np.absolute, "x", shape="elementwise")
class absolute:
    """abs'(0) = 0: the minimum-norm subgradient. Real or complex x, with u = conj(x) / |x|
    (`abs_unit`, sign(x) for real x, 0 at 0): the tangent is Re(u dx), the adjoint Re(g) u
    (complex cotangents pair by Re(sum(a * b)), docs/conventions.md)."""

    def dx(dx, x):
        return np.real(abs_unit(x) * dx)

    def bx(g, x):
        return np.real(g) * abs_unit(x)


@define(abs_unit, "x", shape="elementwise", family="elementwise")
class abs_unit_rule:
    """u = conj(x) / |x| is constant in real x (sign); in complex x, du = (conj(dx) - u Re(u dx)) / |x|
    (0 at x = 0, where it has no limit; exactly 0 for real x)."""

    def dx(dx, x, out):
        return np.where(out == 0, 0.0, (np.conj(dx) - out * np.real(out * dx)) / np.where(out == 0, 1.0, np.abs(x)))

    def bx(g, x, out):
        return np.where(out == 0, 0.0, (np.conj(g) - np.real(g * out) * out) / np.where(out == 0, 1.0, np.abs(x)))


@define(np.angle, "z, deg=False", shape="elementwise")
class angle:
    """The argument of complex z: its tangent is Im(conj(z) dz) / |z|^2 (0 for real z, where the
    angle is 0 or pi), its adjoint -1j Re(g) conj(z) / |z|^2; both 0 at z = 0 (the limit along
    real directions)."""

    def dz(dz, z, deg):
        return angle_unit(deg) * strong_div(np.imag(np.conj(z) * dz), np.real(z * np.conj(z)))

    def bz(g, z, deg):
        return angle_unit(deg) * strong_div(-1j * np.real(g) * np.conj(z), np.real(z * np.conj(z)))


@elementwise(np.maximum, "x, y", taylor="each")
def maximum(x, y):
    """Ties split evenly: at x == y each input gets ½ (so relu = maximum(x, 0) has slope ½ at 0)."""
    return (1 + np.sign(x - y)) / 2, (1 - np.sign(x - y)) / 2


@elementwise(np.minimum, "x, y", taylor="each")
def minimum(x, y):
    """Ties split evenly: at x == y each input gets ½."""
    return (1 - np.sign(x - y)) / 2, (1 + np.sign(x - y)) / 2


@define(np.copysign, "x, y", shape="elementwise", constant="y", taylor="each")
class copysign:
    """|x| with the sign of y: ∂x = sign(x)·s(y), where s(y) = copysign(1, y) is ±1 (−1 for
    y = −0.0), computed as sign(x)·sign(out); 0 at x = 0, the kink of |x| (minimum-norm
    subgradient). y only picks a sign (slope 0)."""

    def dx(dx, x, out):
        return dx * (np.sign(x) * np.sign(out))

    def bx(g, x, out):
        return unbroadcast(g * (np.sign(x) * np.sign(out)), x)


@elementwise(np.fmax, "x, y", taylor="each")
def fmax(x, y):
    """Like maximum, but a NaN loses: the other input gets the whole derivative."""
    wx = np.where(np.isnan(y), 1.0, np.where(np.isnan(x), 0.0, (1 + np.sign(x - y)) / 2))
    return wx, 1 - wx


@elementwise(np.fmin, "x, y", taylor="each")
def fmin(x, y):
    """Like minimum, but a NaN loses: the other input gets the whole derivative."""
    wx = np.where(np.isnan(y), 1.0, np.where(np.isnan(x), 0.0, (1 - np.sign(x - y)) / 2))
    return wx, 1 - wx


@define(np.clip, "x, a_min=None, a_max=None", shape="elementwise", taylor="each")
class clip:
    """clip = minimum(maximum(x, a_min), a_max), so ties split evenly: at x == a_min, x and
    a_min get ½ each (slope ½ in x at a bound). With a_min > a_max the result is a_max."""

    def dx(dx, x, a_min, a_max, out):
        return broadcast_like(dx * clip_weights(x, a_min, a_max)[0], out)

    def bx(g, x, a_min, a_max):
        return unbroadcast(g * clip_weights(x, a_min, a_max)[0], x)

    def da_min(da_min, x, a_min, a_max, out):
        return broadcast_like(da_min * clip_weights(x, a_min, a_max)[1], out)

    def ba_min(g, x, a_min, a_max):
        return unbroadcast(g * clip_weights(x, a_min, a_max)[1], a_min)

    def da_max(da_max, x, a_min, a_max, out):
        return broadcast_like(da_max * clip_weights(x, a_min, a_max)[2], out)

    def ba_max(g, x, a_min, a_max):
        return unbroadcast(g * clip_weights(x, a_min, a_max)[2], a_max)


@define(np.where, "condition, x, y", shape="elementwise", taylor="each")
class where:
    """The branch not taken gets an exact zero, so inf or NaN computed there cannot leak."""

    def dx(dx, condition, out):
        return broadcast_like(np.where(condition, dx, 0.0), out)

    def bx(g, condition, x):
        return unbroadcast(np.where(condition, g, 0.0), x)

    def dy(dy, condition, out):
        return broadcast_like(np.where(condition, 0.0, dy), out)

    def by(g, condition, y):
        return unbroadcast(np.where(condition, 0.0, g), y)
