"""Runtime, Taylor mode: truncated Taylor series and the recurrences that carry them.

In Taylor mode to order K a value `x` that moves along the path x(t) = x + x_1 t + ... + x_K t^K
has the coefficient list `x_c = Series([x_1, ..., x_K])` beside it (the coefficients, f^(k)/k!,
not the derivatives). Each coefficient has the shape and structure of `x` (a list's coefficients
are lists). A `Series` is a plain list marked as one, so that `series_map` can tell the
coefficient lists among its arguments from the constants.

The helpers take the value itself first where the recurrence needs it, then its coefficients;
None stands for coefficients that are all zero (an input that does not move). Each is one loop
over k, the textbook recurrence of its op (Griewank & Walther, Evaluating Derivatives, ch. 13).
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from s2sad.runtime.core import add, broadcast_like, map_structure, zeros_like

__all__ = [
    "Series", "series_add", "series_cos", "series_cosh", "series_div", "series_each", "series_exp",
    "series_exp2", "series_expm1", "series_head", "series_inplace", "series_integral",
    "series_log", "series_map", "series_minus", "series_mul", "series_multilinear",
    "series_pack", "series_plus", "series_pop", "series_pow", "series_power", "series_product",
    "series_scale", "series_sigmoid", "series_sin", "series_sinh", "series_slope", "series_sqrt",
    "series_tan", "series_tanh", "series_through", "series_trunc", "series_zeros",
]


class Series(list):
    """The Taylor coefficients x_1..x_K of a value (a list, marked as coefficients)."""

    __slots__ = ()


def series_zeros(x, order):
    """K zero coefficients shaped like `x` (a value that does not move)."""
    return Series([zeros_like(x) for _ in range(order)])


def series_map(op, *args, **kwargs):
    """`op` applied coefficient by coefficient: the `Series` arguments give their k-th item, the
    others are passed as they are (an op linear in the series arguments)."""
    order = next(len(a) for a in (*args, *kwargs.values()) if isinstance(a, Series))
    return Series([op(*[a[k] if isinstance(a, Series) else a for a in args],
                      **{n: a[k] if isinstance(a, Series) else a for n, a in kwargs.items()})
                   for k in range(order)])


def series_inplace(xs, op, *args):
    """The in-place write `op(x, *args)` done to each coefficient of `x` (its own private copy)."""
    for k in range(len(xs)):
        op(xs[k], *[a[k] if isinstance(a, Series) else a for a in args])
    return xs


series_inplace.__s2sad_inplace__ = True


def series_pop(xs, op, *args):
    """`op(x, *args)` that takes an item out of `x` (list.pop), on each coefficient: the items."""
    return Series([op(xs[k], *args) for k in range(len(xs))])


series_pop.__s2sad_inplace__ = True


def series_each(rule, xs, *args):
    """A tangent rule, linear in its first argument, applied to each coefficient: exact for an op
    that is affine in that input where it is evaluated (add, a select, a piecewise-linear op)."""
    return Series([rule(c, *args) for c in xs])


def series_multilinear(op, values, *args, **kwargs):
    """An op linear in each of several moving arguments (a product: matmul, einsum): the
    Cauchy product, y_k = Σ_{j_1+...+j_m=k} op(x1_{j_1}, ..., xm_{j_m}). The `Series` arguments
    are the moving ones, `values` their values (coefficient 0), in order."""
    at = [i for i, a in enumerate(args) if isinstance(a, Series)]
    full = [[v, *args[i]] for v, i in zip(values, at)]
    order = len(full[0]) - 1
    result = []
    for k in range(1, order + 1):
        terms = []
        for split in itertools.product(range(k + 1), repeat=len(at)):
            if sum(split) == k:
                chosen = list(args)
                for i, j, coefs in zip(at, split, full):
                    chosen[i] = coefs[j]
                terms.append(op(*chosen, **kwargs))
        result.append(sum_of(terms))
    return Series(result)


def series_product(op, x, xs, y, ys):
    """op(x, y) for an op linear in each argument (matmul, dot): the Cauchy product."""
    if ys is None:
        return Series([op(a, y) for a in xs])
    if xs is None:
        return Series([op(x, b) for b in ys])
    return series_multilinear(op, (x, y), xs, ys)


def series_pack(*items):
    """The coefficients of a tuple of values: the tuple of their k-th coefficients."""
    return Series([tuple(s[k] for s in items) for k in range(len(items[0]))])


def series_add(xs, ys):
    """The sum of two coefficient lists (of numbers, arrays or containers)."""
    return Series([add(a, b) for a, b in zip(xs, ys)])


def series_plus(xs, ys, out):
    """x + y: the coefficients add, broadcast to the shape of the result `out`."""
    if type(out) is float:  # numbers: nothing to broadcast (the hot path of scalar code)
        if ys is None:
            return xs
        if xs is None:
            return ys
        return Series([a + b for a, b in zip(xs, ys)])
    if ys is None:
        return Series([broadcast_like(a, out) for a in xs])
    if xs is None:
        return Series([broadcast_like(b, out) for b in ys])
    return Series([broadcast_like(a + b, out) for a, b in zip(xs, ys)])


def series_minus(xs, ys, out):
    """x − y, like `series_plus`."""
    if ys is None:
        return xs if type(out) is float else Series([broadcast_like(a, out) for a in xs])
    if xs is None:
        return Series([broadcast_like(-b, out) for b in ys])
    if type(out) is float:
        return Series([a - b for a, b in zip(xs, ys)])
    return Series([broadcast_like(a - b, out) for a, b in zip(xs, ys)])


def series_scale(xs, c):
    """The coefficients of c·x for a constant c."""
    return Series([a * c for a in xs])


# ------------------------------------------------------------------ products and quotients


def series_mul(x, xs, y, ys):
    """x·y: the Cauchy product, (xy)_k = Σ_{j=0..k} x_j y_{k−j}."""
    if ys is None:
        return Series([a * y for a in xs])
    if xs is None:
        return Series([x * b for b in ys])
    if type(x) is float and type(y) is float and len(xs) <= MAX_UNROLLED:
        return _unrolled_product(len(xs))(x, xs, y, ys)
    X, Y = (x, *xs), (y, *ys)
    out = []
    for k in range(1, len(X)):
        total = X[0] * Y[k]
        for j in range(1, k + 1):
            total = total + X[j] * Y[k - j]
        out.append(total)
    return Series(out)


def series_div(x, xs, y, ys):
    """q = x / y: q_k = (x_k − Σ_{j=1..k} y_j q_{k−j}) / y."""
    if ys is None:
        return Series([a / y for a in xs])
    order = len(ys)
    X = [x, *(xs if xs is not None else [0.0] * order)]
    Q = [x / y]
    for k in range(1, order + 1):
        Q.append((X[k] - sum_of(ys[j - 1] * Q[k - j] for j in range(1, k + 1))) / y)
    return Series(Q[1:])


def series_power(x, xs, p, out):
    """x**p for a constant p: repeated products for a small natural p (exact at x = 0), else
    y_k = Σ_{j=1..k} ((p+1)·j − k)·x_j·y_{k−j} / (k·x)."""
    if _small_natural(p):
        return _natural_power(x, xs, int(p))
    Y = [out]
    for k in range(1, len(xs) + 1):
        Y.append(sum_of(((p + 1) * j - k) * xs[j - 1] * Y[k - j] for j in range(1, k + 1)) / (k * x))
    return Series(Y[1:])


def _small_natural(p) -> bool:
    return np.ndim(p) == 0 and float(p) == int(p) and 0 <= p <= 64


def _natural_power(x, xs, n):
    result, rs = 1.0, Series([0.0] * len(xs))
    base, bs = x, xs
    while n:
        if n & 1:
            rs = series_mul(result, rs, base, bs)
            result = result * base
        n >>= 1
        if n:
            bs = series_mul(base, bs, base, bs)
            base = base * base
    return Series([r + zeros_like(x) for r in rs]) if np.ndim(x) else rs


def series_pow(x, xs, y, ys, out):
    """x**y with a moving exponent: exp(y·log x)."""
    if ys is None:
        return series_power(x, xs, y, out)
    logx = np.log(x)
    return series_exp(out, series_mul(y, ys, logx, series_log(x, xs) if xs is not None else None))


# ------------------------------------------------------------------ y' = g(y)·x'


def _chain(xs, G, extend):
    """y_k = (1/k)·Σ_{j=1..k} j·x_j·g_{k−j}, where g = g(y): `extend(Y, G)` appends g_k once
    y_0..y_k are known (the recurrence of every op whose derivative is a function of its
    result)."""
    Y = []
    for k in range(1, len(xs) + 1):
        Y.append(sum_of(j * xs[j - 1] * G[k - j] for j in range(1, k + 1)) / k)
        extend(Y, G)
    return Series(Y)


def series_exp(out, xs):
    """exp: y' = y·x'."""
    return _chain(xs, [out], lambda Y, G: G.append(Y[-1]))


def series_exp2(out, xs):
    """2**x: y' = ln 2·y·x'."""
    return series_exp(out, series_scale(xs, 0.6931471805599453))


def series_expm1(out, xs):
    """exp(x) − 1: y' = (y + 1)·x'."""
    return _chain(xs, [out + 1], lambda Y, G: G.append(Y[-1]))


def series_log(x, xs):
    """log: y_k = (x_k − (1/k)·Σ_{j=1..k−1} j·y_j·x_{k−j}) / x."""
    Y = []
    for k in range(1, len(xs) + 1):
        Y.append((xs[k - 1] - sum_of(j * Y[j - 1] * xs[k - j - 1] for j in range(1, k)) / k) / x)
    return Series(Y)


def series_sqrt(out, xs):
    """sqrt: y·y = x, so y_k = (x_k − Σ_{j=1..k−1} y_j·y_{k−j}) / (2y)."""
    Y = []
    for k in range(1, len(xs) + 1):
        Y.append((xs[k - 1] - sum_of(Y[j - 1] * Y[k - j - 1] for j in range(1, k))) / (2 * out))
    return Series(Y)


def _square_step(sign, y0, shift):
    """The extender of g = shift + sign·y² (tanh: 1 − y², tan: 1 + y²)."""
    def extend(Y, G):
        Yall = [y0, *Y]
        k = len(Y)
        G.append(sign * sum_of(Yall[i] * Yall[k - i] for i in range(k + 1)))
    return extend


def series_tanh(out, xs):
    """tanh: y' = (1 − y²)·x'."""
    return _chain(xs, [1 - out * out], _square_step(-1, out, 1))


def series_tan(out, xs):
    """tan: y' = (1 + y²)·x'."""
    return _chain(xs, [1 + out * out], _square_step(1, out, 1))


def series_sigmoid(out, xs):
    """σ: y' = (y − y²)·x'."""
    def extend(Y, G):
        Yall = [out, *Y]
        k = len(Y)
        G.append(Y[-1] - sum_of(Yall[i] * Yall[k - i] for i in range(k + 1)))
    return _chain(xs, [out * (1 - out)], extend)


def _pair(xs, s0, c0, sign, want_s):
    """s' = c·x', c' = sign·s·x' (sin/cos: sign −1; sinh/cosh: +1): the coefficients of s
    (`want_s`) or of c, each list needing the other's up to the order before."""
    order = len(xs)
    W = [(j + 1) * xs[j] for j in range(order)]  # the velocity's coefficients, (j+1)·x_{j+1}
    S, C = [s0], [c0]
    for k in range(1, order + 1):
        s = W[0] * C[k - 1]
        c = W[0] * S[k - 1]
        for j in range(1, k):
            s = s + W[j] * C[k - 1 - j]
            c = c + W[j] * S[k - 1 - j]
        S.append(s / k)
        C.append(sign * c / k)
    return Series(S[1:] if want_s else C[1:])


def series_sin(x, xs, out):
    if type(x) is float and len(xs) <= MAX_UNROLLED:
        return Series([y.imag for y in _unrolled_turn(len(xs))(x, xs)])
    return _pair(xs, out, np.cos(x), -1, True)


def series_cos(x, xs, out):
    if type(x) is float and len(xs) <= MAX_UNROLLED:
        return Series([y.real for y in _unrolled_turn(len(xs))(x, xs)])
    return _pair(xs, np.sin(x), out, -1, False)


# ------------------------------------------------------------------ straight-line recurrences for floats

MAX_UNROLLED = 12
"""Up to this order, the recurrences of products and of sin/cos on floats run as straight-line
code written for the order (Python's per-operation cost dominates on floats, not the O(K²)
arithmetic); above it, and on arrays, the loops above."""


@functools.cache
def _unrolled_product(order: int):
    """`(x, xs, y, ys) -> Series` of x·y, the Cauchy product written out for `order`."""
    names = ", ".join(f"x{k}" for k in range(1, order + 1)) + ","
    ynames = names.replace("x", "y")
    terms = [" + ".join(f"x{j} * y{k - j}" for j in range(k + 1)) for k in range(1, order + 1)]
    source = (f"def product(x0, xs, y0, ys):\n    {names} = xs\n    {ynames} = ys\n"
              f"    return Series(({', '.join(terms)},))\n")
    return _compiled(source, "product")


@functools.cache
def _unrolled_turn(order: int):
    """`(x, xs) -> tuple` of the coefficients 1..order of e^{i·x(t)} = cos + i·sin for a float x:
    exp's recurrence, y_k = (i/k)·Σ_{j=1..k} j·x_j·y_{k−j}, on complex numbers, written out."""
    names = ", ".join(f"x{k}" for k in range(1, order + 1)) + ","
    lines = [f"def turn(x, xs):\n    {names} = xs\n    y0 = complex(cos(x), sin(x))\n"]
    for k in range(1, order + 1):
        terms = " + ".join(f"{j}.0 * x{j} * y{k - j}" for j in range(1, k + 1))
        lines.append(f"    y{k} = ({terms}) * {1 / k!r}j\n")
    lines.append(f"    return ({', '.join(f'y{k}' for k in range(1, order + 1))},)\n")
    return _compiled("".join(lines), "turn")


def _compiled(source: str, name: str):
    namespace = {"Series": Series, "cos": math.cos, "sin": math.sin}
    exec(compile(source, f"<s2sad.runtime.series {name}>", "exec"), namespace)  # noqa: S102 - our own text
    return namespace[name]


def series_sinh(x, xs, out):
    return _pair(xs, out, math.cosh(x) if type(x) is float else np.cosh(x), 1, True)


def series_cosh(x, xs, out):
    return _pair(xs, math.sinh(x) if type(x) is float else np.sinh(x), out, 1, False)


# ------------------------------------------------------------------ composition through a first-order rule


def series_head(xs):
    """x'(0) = x_1, the value of the path's velocity."""
    return xs[0]


def series_slope(xs):
    """The coefficients 1..K−1 of the velocity x'(t): (j+1)·x_{j+1}."""
    return Series([_times(xs[j], j + 1) for j in range(1, len(xs))])


def series_trunc(xs):
    """The coefficients 1..K−1 of x (a series one order shorter)."""
    return Series(xs[:-1])


def series_integral(v, vs):
    """The coefficients 1..K of y from those 0..K−1 of y' = v: y_k = v_{k−1} / k."""
    return Series([v, *(_times(c, 1 / (k + 2)) for k, c in enumerate(vs))])


def _times(c, factor):
    """c·factor for a coefficient: a number, an array or a container of them."""
    if isinstance(c, (list, tuple, dict)):
        return map_structure(lambda leaf: None if leaf is None else leaf * factor, c)
    return c * factor


def sum_of(terms):
    """The sum of a sequence of terms (numbers or arrays), left to right; 0.0 if it is empty."""
    terms = iter(terms)
    total = next(terms, 0.0)
    for term in terms:
        total = total + term
    return total


def series_through(order, out, fixed, *parts):
    """The coefficients of y = op(x) when some of the terms of y' = Σ T(x', x, y) read y itself:
    `fixed` holds those of the other terms (None if there are none), and each part is
    `(code, args, series, at, how)`: T's Taylor code one order lower, `code(*args, *series)`,
    reading y's own coefficients as `series[at]`. Coefficient k−1 of T needs y's only up to
    k−1, so k = 1..K are found in turn (K calls of each code). `how` is None where T is a
    tangent rule, `(index, xs, strong)` where it is an elementwise partial g: y' = x'·g (strong
    "div": x' / g), with g the `index`-th of a tuple of partials (None: the only one)."""
    ys = Series([zeros_like(out)] * (order - 1))
    result = []
    for k in range(1, order + 1):
        total = fixed[k - 1] if fixed is not None else None
        for code, args, series, at, how in parts:
            pair = code(*args, *series[:at], ys, *series[at + 1:])
            total = add(total, _times(_velocity(pair, how, k), 1 / k))
        result.append(total)
        if k < order:
            ys[k - 1] = total
    return Series(result)


def _velocity(pair, how, k):
    """Coefficient k−1 of y' from the value and coefficients of T (or of the partial g)."""
    value, coefs = pair
    if how is None:
        return value if k == 1 else coefs[k - 2]
    index, xs, strong = how
    if index is not None:
        value, coefs = value[index], Series([c[index] for c in coefs])
    head = xs[0]
    if k == 1:
        return head / value if strong == "div" else head * value
    combine = series_div if strong == "div" else series_mul
    return combine(head, series_slope(xs)[: k - 1], value, Series(coefs[: k - 1]))[k - 2]
