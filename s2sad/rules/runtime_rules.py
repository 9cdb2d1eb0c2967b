"""Rules for the helpers generated code calls, so that generated code can be differentiated."""

import numpy as np

from s2sad import runtime
from s2sad.rules.registry import linear, nondiff
from s2sad.runtime import broadcast_like, matmul_adjoint_x, matmul_adjoint_y, unbroadcast


@linear(runtime.unbroadcast, "g, like", linear_in="g")
class unbroadcast_rule:
    def bg(c, g):
        return broadcast_like(c, g)


@linear(runtime.broadcast_like, "g, like", linear_in="g")
class broadcast_like_rule:
    def bg(c, g):
        return unbroadcast(c, g)


@linear(runtime.unreduce, "g, x, axis=None, keepdims=False", linear_in="g")
class unreduce_rule:
    def bg(c, axis, keepdims):
        return np.sum(c, axis=axis, keepdims=keepdims)


@linear(runtime.matmul_adjoint_x, "g, x, y", linear_in="g,y")
class matmul_adjoint_x_rule:
    """g @ y.T is linear in g and in y; each adjoint is a product with the other."""

    def bg(c, y):
        return c @ y

    def by(c, g, x, y):
        return matmul_adjoint_y(g, c, y)


@linear(runtime.matmul_adjoint_y, "g, x, y", linear_in="g,x")
class matmul_adjoint_y_rule:
    def bg(c, x):
        return x @ c

    def bx(c, g, x, y):
        return matmul_adjoint_x(g, x, c)


nondiff(runtime.seed, runtime.zeros_like, runtime.reduced_size, runtime.inverse_axes)


# ---------------------------------------------------------------- special points (strong zeros)

from s2sad.rules.registry import define  # noqa: E402
from s2sad.runtime import power_term, strong_div, strong_mul  # noqa: E402


@define(runtime.strong_mul, "d, p", shape="elementwise")
class strong_mul_rule:
    """Bilinear like `d * p`; every term keeps the strong zero of `d`."""

    def dd(dd, p):
        return strong_mul(dd, p)

    def bd(c, d, p):
        return unbroadcast(strong_mul(c, p), d)

    def dp(dp, d):
        return strong_mul(d, dp)

    def bp(c, d, p):
        return unbroadcast(strong_mul(d, c), p)


@define(runtime.strong_div, "d, q", shape="elementwise")
class strong_div_rule:
    """Like `d / q`; the `q` term is zero where `d` or the (co)tangent is zero."""

    def dd(dd, q):
        return strong_div(dd, q)

    def bd(c, d, q):
        return unbroadcast(strong_div(c, q), d)

    def dq(dq, q, out):
        return strong_div(strong_mul(-dq, out), q)

    def bq(c, q, out):
        return unbroadcast(strong_div(strong_mul(-c, out), q), q)


@define(runtime.power_term, "d, x, y", shape="elementwise")
class power_term_rule:
    """d·y·x^(y−1): linear in d; in x it is the next power term; in y, d·x^(y−1)·(1 + y ln x)."""

    def dd(dd, x, y):
        return power_term(dd, x, y)

    def bd(c, d, x, y):
        return unbroadcast(power_term(c, x, y), d)

    def dx(dx, d, x, y):
        return power_term(d * y * dx, x, y - 1)

    def bx(c, d, x, y):
        return unbroadcast(power_term(c * d * y, x, y - 1), x)

    def dy(dy, d, x, y):
        return strong_mul(d * dy, np.power(x, y - 1) * (1 + y * np.log(x)))

    def by(c, d, x, y):
        return unbroadcast(strong_mul(c * d, np.power(x, y - 1) * (1 + y * np.log(x))), y)


@define(runtime.log_base, "base")
class log_base_rule:
    def dbase(dbase, base):
        return dbase / base

    def bbase(c, base):
        return c / base


nondiff(runtime.ties, runtime.clip_weights)
