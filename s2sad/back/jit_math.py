"""exp, expm1, log, log1p, tanh, sin and cos of float64 numbers, written so that LLVM vectorises them.

Numba computes `np.exp` of a number by calling the C library's scalar function, one element at a
time, and a loop that calls a function is not vectorised (llvmlite here has no vector math
library): a fused loop (`jit_loops`) of `np.tanh` over 51,200 numbers took 806 µs where NumPy's
own SIMD loop takes 44 µs. These are the same functions in arithmetic, comparisons and bit
operations only, with no branch and no call, so that a loop of them is vectorised:

- exp: `x = k ln2 + r` with |r| <= ln2/2 (ln2 in two parts, so that `k * LN2_HI` is exact), e^r
  by its Taylor polynomial of degree 13 (the remainder is below 1e-17 of the result), times
  2^k built from its bits (in two factors, so that results near the overflow and in the
  subnormal range are rounded once).
- expm1: the same reduction, `e^r - 1` by its polynomial without the constant term (exact
  relative to a small result), then `2^k (e^r - 1) + (2^k - 1)`; past 40, `2^k e^r`.
- tanh: `m / (m + 2)` with `m = expm1(2|x|)`, the sign of x restored (|x| past 20 gives 1).
- log: `x = 2^e m` with m in [sqrt(2)/2, sqrt(2)) read from the bits (a subnormal x scaled by 2^54
  first), `log(m) = 2 atanh(s)` with `s = f / (2 + f)`, `f = m - 1`, by its series to s^21.
- log1p: `log(u) x / (u - 1)` with `u = 1 + x` rounded (x itself where u is 1): the factor
  corrects for the rounding of u.
- sin, cos: `x = k pi/2 + r` with pi/2 in four parts (the first three of 33 bits, so each
  product with k is exact while |k| < 2^20) and the difference kept as two numbers, then the
  Taylor polynomials of sin and cos on |r| <= pi/4 and the quadrant k mod 4. The reduction is
  exact enough for |x| <= `WIDE` only: `trig_wide` says whether an argument is past it (or
  not finite), and a fused loop that met one runs again with NumPy's functions (see
  `jit_loops`).

Each is within 4 units in the last place of the C library's result over its whole domain (1 for
exp, log, sin and cos, 2 for expm1 and log1p, 4 for tanh: the most found on 3 million arguments
each), with
NumPy's special values (infinities, NaN, -0.0, subnormals, overflow): tests/back/test_jit_math.py
compares them on 200,000 arguments each, spread over the domain. The functions below are what a
fused loop means (NumPy's, also what runs where the fused code runs as Python); `register`
hands Numba the vectorised implementations for float64 and integer arguments and NumPy's
function for any other (float32, complex).
"""

from __future__ import annotations

import math

import numpy as np

WIDE = 1e5
"""The largest |x| whose sin and cos the vectorised reduction computes."""

LN2_HI = 0.6931471803691238  # 0x1.62e42fee00000p-1: ln 2 to 32 bits
LN2_LO = 1.9082149292705877e-10  # 0x1.a39ef35793c76p-33: the rest
INV_LN2 = 1.4426950408889634  # 0x1.71547652b82fep+0
PIO2_1 = 1.5707963267341256  # 0x1.921fb54400000p+0: pi/2 to 33 bits
PIO2_2 = 6.077100506303966e-11  # 0x1.0b4611a600000p-34: the next 33
PIO2_3 = 2.0222662487111665e-21  # 0x1.3198a2e000000p-69: the next 33
PIO2_4 = 8.4784276603689e-32  # 0x1.b839a252049c1p-104: the rest, rounded
TWO_OVER_PI = 0.6366197723675814  # 0x1.45f306dc9c883p-1
SQRT2 = 1.4142135623730951
TWO_54 = 18014398509481984.0
SMALLEST_NORMAL = 2.2250738585072014e-308

_F = tuple(1.0 / math.factorial(n) for n in range(20))
"""1/n!, the Taylor coefficients of exp, sin and cos."""
_L = tuple(2.0 / (2 * n + 1) for n in range(11))
"""2/(2n+1), the coefficients of 2 atanh(s) = 2s + s (2/3 s^2 + 2/5 s^4 + ...)."""


def exp_element(x):
    return np.exp(x)


def expm1_element(x):
    return np.expm1(x)


def log_element(x):
    return np.log(x)


def log1p_element(x):
    return np.log1p(x)


def tanh_element(x):
    return np.tanh(x)


def sin_element(x):
    return np.sin(x)


def cos_element(x):
    return np.cos(x)


def trig_wide(wide, x):
    """Whether a fused loop's sin or cos met an argument its vectorised version does not
    compute (`wide`: whether one did before). NumPy's functions have no such argument."""
    return wide


ELEMENTS = {np.exp: exp_element, np.expm1: expm1_element, np.log: log_element, np.log1p: log1p_element,
            np.tanh: tanh_element, np.sin: sin_element, np.cos: cos_element}
"""Each ufunc with a vectorised version, and the function a fused loop calls for it."""
TRIG = (sin_element, cos_element)
"""The ones that need `trig_wide` beside them."""

_as_float = _as_int = None
"""Numba intrinsics that read an int64's bits as a float64 and back (made by `register`, when
Numba is imported)."""


# ------------------------------------------------------------------ Numba implementations


def _scale(n):
    """2^n for -1022 <= n <= 1023 (1024: inf), from its bits."""
    return _as_float((n + 1023) << 52)


def _exp_tail(r):
    """(e^r - 1 - r) / r^2 for |r| <= ln2/2: its Taylor polynomial, to r^11 (of e^r: to r^13)."""
    return _F[2] + r * (_F[3] + r * (_F[4] + r * (_F[5] + r * (_F[6] + r * (_F[7] + r * (_F[8] + r * (
        _F[9] + r * (_F[10] + r * (_F[11] + r * (_F[12] + r * _F[13]))))))))))


def _exp(x):
    c = x if x > -746.0 else -746.0
    c = c if c < 710.0 else 710.0
    k = np.floor(c * INV_LN2 + 0.5)
    r = (c - k * LN2_HI) - k * LN2_LO
    p = 1.0 + r * (1.0 + r * _exp_tail(r))
    n = np.int64(k)
    half = n >> 1
    y = p * _scale(half) * _scale(n - half)
    return x if x != x else y


def _expm1_near(x):
    """expm1 for -40 <= x <= 40."""
    k = np.floor(x * INV_LN2 + 0.5)
    r = (x - k * LN2_HI) - k * LN2_LO
    m = r + r * r * _exp_tail(r)
    s = _scale(np.int64(k))
    return s * m + (s - 1.0)


def _expm1(x):
    c = x if x > -40.0 else -40.0
    c = c if c < 710.0 else 710.0
    k = np.floor(c * INV_LN2 + 0.5)
    r = (c - k * LN2_HI) - k * LN2_LO
    m = r + r * r * _exp_tail(r)
    n = np.int64(k)
    half = n >> 1
    s, t = _scale(half), _scale(n - half)
    near = s * t * m + (s * t - 1.0)  # 2^k (e^r - 1) + (2^k - 1), k <= 58
    far = (m + 1.0) * s * t  # past 40, e^x - 1 rounds to e^x
    y = near if c <= 40.0 else far
    y = y if x == x else x
    return y if x != 0.0 else x  # -0.0 stays


def _tanh(x):
    a = abs(x)
    a = a if a < 20.0 else 20.0
    m = _expm1_near(2.0 * a)
    y = math.copysign(np.divide(m, m + 2.0), x)
    return x if x != x else y


def _log(x):
    tiny = x < SMALLEST_NORMAL
    bits = _as_int(x * TWO_54 if tiny else x)
    e = ((bits >> 52) & 0x7FF) - (1023 + 54 if tiny else 1023)
    m = _as_float((bits & 0xFFFFFFFFFFFFF) | 0x3FF0000000000000)
    high = m > SQRT2
    m = m * 0.5 if high else m
    f = m - 1.0
    s = np.divide(f, 2.0 + f)
    z = s * s
    p = _L[1] + z * (_L[2] + z * (_L[3] + z * (_L[4] + z * (_L[5] + z * (_L[6] + z * (_L[7] + z * (
        _L[8] + z * (_L[9] + z * _L[10]))))))))
    lg = f - s * (f - z * p)
    k = np.float64(e + 1 if high else e)
    y = k * LN2_HI + (lg + k * LN2_LO)
    y = -np.inf if x == 0.0 else y
    y = np.nan if x < 0.0 else y
    return y if x < np.inf else x


def _log1p(x):
    u = 1.0 + x
    y = _log(u) * np.divide(x, u - 1.0)  # u is 1 + x rounded: x / (u - 1) undoes the rounding
    y = x if u == 1.0 else y
    return x if x == np.inf else y


def _reduce(x):
    """(hi, lo, k mod 4) with hi + lo = x - k pi/2, |hi| <= pi/4, for |x| <= WIDE (else for 0)."""
    c = x if abs(x) <= WIDE else 0.0
    k = np.floor(c * TWO_OVER_PI + 0.5)
    r1 = c - k * PIO2_1
    w = k * PIO2_2
    s = r1 - w
    b = s - r1
    e = (r1 - (s - b)) - (w + b)
    e = (e - k * PIO2_3) - k * PIO2_4
    hi = s + e
    return hi, e - (hi - s), np.int64(k) & 3


def _sin_cos(hi, lo):
    z = hi * hi
    ps = -_F[3] + z * (_F[5] + z * (-_F[7] + z * (_F[9] + z * (-_F[11] + z * (_F[13] + z * (
        -_F[15] + z * _F[17]))))))
    pc = _F[4] + z * (-_F[6] + z * (_F[8] + z * (-_F[10] + z * (_F[12] + z * (-_F[14] + z * _F[16])))))
    sin = hi + (lo * (1.0 - 0.5 * z) + hi * z * ps)
    cos = (1.0 - 0.5 * z) + (z * z * pc - hi * lo)
    return sin, cos


def _sin(x):
    hi, lo, q = _reduce(x)
    s, c = _sin_cos(hi, lo)
    v = c if q & 1 else s
    v = -v if q & 2 else v
    return x if x == 0.0 else v


def _cos(x):
    hi, lo, q = _reduce(x)
    s, c = _sin_cos(hi, lo)
    v = s if q & 1 else c
    return -v if (q + 1) & 2 else v


def _wide(wide, x):
    return wide | (abs(x) > WIDE) | (x != x)  # no branch: `or` stops vectorising


# ------------------------------------------------------------------ registration


def _chooser(vectorised, ufunc, types):
    def original(x):
        return ufunc(x)

    def vectorised_of_integer(x):
        return vectorised(np.float64(x))

    def choose(x):
        if x == types.float64:
            return vectorised
        return vectorised_of_integer if isinstance(x, types.Integer) else original
    return choose


def _bitcasts(numba) -> None:
    types = numba.core.types

    def cast(to, source):
        def intrinsic(typingctx, value):
            def codegen(context, builder, signature, args):
                return builder.bitcast(args[0], context.get_value_type(to))
            return to(source), codegen
        return numba.extending.intrinsic(intrinsic)
    global _as_float, _as_int
    _as_float = cast(types.float64, types.int64)
    _as_int = cast(types.int64, types.float64)


def register(numba) -> None:
    """The vectorised implementations handed to Numba (once per process, by `jit_helpers`)."""
    types = numba.core.types
    _bitcasts(numba)
    for helper in (_scale, _exp_tail, _exp, _expm1_near, _expm1, _tanh, _log, _log1p, _reduce, _sin_cos, _sin, _cos):
        numba.extending.register_jitable(helper)
    for element, vectorised, ufunc in ((exp_element, _exp, np.exp), (expm1_element, _expm1, np.expm1),
                                       (log_element, _log, np.log), (log1p_element, _log1p, np.log1p),
                                       (tanh_element, _tanh, np.tanh),
                                       (sin_element, _sin, np.sin), (cos_element, _cos, np.cos)):
        numba.extending.overload(element)(_chooser(vectorised, ufunc, types))

    def wide_of(wide, x):
        if x == types.float64 or isinstance(x, types.Integer):
            return _wide
        return lambda wide, x: wide
    numba.extending.overload(trig_wide)(wide_of)


__all__ = ["ELEMENTS", "TRIG", "WIDE", "register", "trig_wide"]
