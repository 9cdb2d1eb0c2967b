"""The math module's differentiable functions and the builtins abs, min, max and float.

A math function whose derivative calls no other function (exp, exp2, expm1, sqrt, cbrt, tan,
atan, tanh) is a second spelling of NumPy's rule (`also=` in `s2sad.rules.elementwise`): one
definition, the same partial. The others here call the math function of their partial (cos for
sin), so scalar code stays on Python floats (fast); the generated code spells the functions the
template names, so they cannot share NumPy's template. Where the math function itself is defined
but its partial is infinite (asin at ±1, acosh at 1) or Python floats would raise, `strong_div`
(the elementwise shorthand's `strong="div"`) and `power_term` give IEEE results and keep a zero
(co)tangent exactly zero (docs/conventions.md). Where the math function raises at the special
point (log at 0, atanh at ±1), a plain division is enough.
"""

import math

import numpy as np

from s2sad.rules.registry import define, elementwise, linear, taylor_of
from s2sad.runtime import (
    abs_unit,
    log_base,
    power_term,
    series_cos,
    series_cosh,
    series_log,
    series_scale,
    series_sin,
    series_sinh,
    strong_div,
    strong_mul,
    ties,
)

LN2 = 0.6931471805599453
LN10 = 2.302585092994046
TWO_OVER_SQRT_PI = 1.1283791670955126

# ---------------------------------------------------------------- exponentials and logarithms


@define(math.log, "x, base=None")
class log:
    """log(x, base) = ln x / ln base; the base is optional and differentiable too."""

    def dx(dx, x, base):
        return dx / (x * log_base(base))

    def bx(g, x, base):
        return g / (x * log_base(base))

    def dbase(dbase, base, out):
        return -dbase * out / (base * log_base(base))

    def bbase(g, base, out):
        return -g * out / (base * log_base(base))


@elementwise(math.log1p)
def log1p(x):
    return 1.0 / (1.0 + x)


@taylor_of(math.log1p)
def log1p_series(x, x_c):
    return series_log(1.0 + x, x_c)


@elementwise(math.log2)
def log2(x):
    return 1.0 / (x * LN2)


@taylor_of(math.log2)
def log2_series(x, x_c):
    return series_scale(series_log(x, x_c), 1 / LN2)


@elementwise(math.log10)
def log10(x):
    return 1.0 / (x * LN10)


@taylor_of(math.log10)
def log10_series(x, x_c):
    return series_scale(series_log(x, x_c), 1 / LN10)


# ---------------------------------------------------------------- roots and powers


@define(math.pow, "x, y")
class pow:
    """Like `x ** y`: 0 for x**0 (also at x = 0) and for ∂y of 0**y with y > 0."""

    def dx(dx, x, y):
        return power_term(dx, x, y)

    def bx(g, x, y):
        return power_term(g, x, y)

    def dy(dy, x, out):
        return strong_mul(dy, strong_mul(out, np.log(x)))

    def by(g, x, out):
        return strong_mul(g, strong_mul(out, np.log(x)))


# ---------------------------------------------------------------- trigonometric and hyperbolic


@elementwise(math.sin)
def sin(x):
    return math.cos(x)


@taylor_of(math.sin)
def sin_series(x, x_c, out):
    return series_sin(x, x_c, out)


@elementwise(math.cos)
def cos(x):
    return -math.sin(x)


@taylor_of(math.cos)
def cos_series(x, x_c, out):
    return series_cos(x, x_c, out)


@elementwise(math.asin, strong="div")
def asin(x):
    """Infinite slope at ±1."""
    return math.sqrt((1.0 - x) * (1.0 + x))


@define(math.acos, "x")
class acos:
    """Slope −inf at ±1."""

    def dx(dx, x):
        return strong_div(-dx, math.sqrt((1.0 - x) * (1.0 + x)))

    def bx(g, x):
        return strong_div(-g, math.sqrt((1.0 - x) * (1.0 + x)))


@define(math.atan2, "y, x")
class atan2:
    """The angle of the point (x, y). Discontinuous at the origin; the derivative there is 0."""

    def dy(dy, y, x):
        return dy * strong_div(x, x * x + y * y)

    def by(g, y, x):
        return g * strong_div(x, x * x + y * y)

    def dx(dx, y, x):
        return dx * strong_div(-y, x * x + y * y)

    def bx(g, y, x):
        return g * strong_div(-y, x * x + y * y)


@elementwise(math.sinh)
def sinh(x):
    return math.cosh(x)


@taylor_of(math.sinh)
def sinh_series(x, x_c, out):
    return series_sinh(x, x_c, out)


@elementwise(math.cosh)
def cosh(x):
    return math.sinh(x)


@taylor_of(math.cosh)
def cosh_series(x, x_c, out):
    return series_cosh(x, x_c, out)


@elementwise(math.asinh)
def asinh(x):
    return 1.0 / math.sqrt(x * x + 1.0)


@elementwise(math.acosh, strong="div")
def acosh(x):
    """Infinite slope at 1."""
    return math.sqrt((x - 1.0) * (x + 1.0))


@elementwise(math.atanh)
def atanh(x):
    return 1.0 / ((1.0 - x) * (1.0 + x))


@define(math.hypot, "x, y")
class hypot:
    """Two coordinates. At the origin both partials are 0 (minimum-norm subgradient)."""

    def dx(dx, x, out):
        return dx * strong_div(x, out)

    def bx(g, x, out):
        return g * strong_div(x, out)

    def dy(dy, y, out):
        return dy * strong_div(y, out)

    def by(g, y, out):
        return g * strong_div(y, out)


@linear(math.degrees, "x")
class degrees:
    def bx(g):
        return math.degrees(g)


@linear(math.radians, "x")
class radians:
    def bx(g):
        return math.radians(g)


@linear(math.ldexp, "x, i")
class ldexp:
    """x · 2**i, linear in x (the integer i carries no derivative)."""

    def bx(g, i):
        return math.ldexp(g, i)


# ---------------------------------------------------------------- special functions, kinks


@elementwise(math.erf)
def erf(x):
    return TWO_OVER_SQRT_PI * math.exp(-x * x)


@elementwise(math.erfc)
def erfc(x):
    return -TWO_OVER_SQRT_PI * math.exp(-x * x)


@elementwise(math.fabs)
def fabs(x):
    """fabs'(0) = 0: the minimum-norm subgradient."""
    return float(x > 0) - float(x < 0)


@define(math.copysign, "x, y", constant="y")
class copysign:
    """|x| with the sign of y: ∂x = sign(x)·s(y), where s(y) = copysign(1, y) is ±1 (−1 for
    y = −0.0); 0 at x = 0, the kink of |x| (minimum-norm subgradient). y only picks a sign
    (slope 0)."""

    def dx(dx, x, y):
        return dx * ((float(x > 0) - float(x < 0)) * math.copysign(1.0, y))

    def bx(g, x, y):
        return g * ((float(x > 0) - float(x < 0)) * math.copysign(1.0, y))


@define(math.fmod, "x, y")
class fmod:
    """x − y·trunc(x/y): slope 1 in x, −trunc(x/y) in y."""

    def dx(dx):
        return dx

    def bx(g):
        return g

    def dy(dy, x, y):
        return -dy * math.trunc(x / y)

    def by(g, x, y):
        return -g * math.trunc(x / y)


@define(math.remainder, "x, y")
class remainder:
    """x − y·n with n = x/y rounded half to even: slope 1 in x, −n in y."""

    def dx(dx):
        return dx

    def bx(g):
        return g

    def dy(dy, x, y):
        return -dy * round(x / y)

    def by(g, x, y):
        return -g * round(x / y)


@define(abs, "x", shape="elementwise")
class builtin_abs:
    """abs'(0) = 0: the minimum-norm subgradient (floats and arrays); on complex values the
    modulus, as np.abs (docs/conventions.md, "Complex values")."""

    def dx(dx, x):
        return np.real(abs_unit(x) * dx)

    def bx(g, x):
        return np.real(g) * abs_unit(x)


@define(max, "x, y, z=None, w=None", also=(min,))
class builtin_max:
    """max (and min) of two to four numbers: the derivative goes to the arguments equal to the
    result, shared evenly when several tie."""

    def dx(dx, x, y, z, w, out):
        return dx * (x == out) / ties(out, x, y, z, w)

    def bx(g, x, y, z, w, out):
        return g * (x == out) / ties(out, x, y, z, w)

    def dy(dy, x, y, z, w, out):
        return dy * (y == out) / ties(out, x, y, z, w)

    def by(g, x, y, z, w, out):
        return g * (y == out) / ties(out, x, y, z, w)

    def dz(dz, x, y, z, w, out):
        return dz * (z == out) / ties(out, x, y, z, w)

    def bz(g, x, y, z, w, out):
        return g * (z == out) / ties(out, x, y, z, w)

    def dw(dw, x, y, z, w, out):
        return dw * (w == out) / ties(out, x, y, z, w)

    def bw(g, x, y, z, w, out):
        return g * (w == out) / ties(out, x, y, z, w)


@linear(float, "x")
class builtin_float:
    """float(x): the identity on numbers (a 0-d array becomes a float)."""

    def bx(g):
        return g
