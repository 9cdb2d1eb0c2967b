"""scipy.special: expit, logit, erf, erfc, gammaln, digamma, betaln, zeta, xlogy, xlog1py, entr,
logsumexp, softmax, log_softmax.

scipy is optional: without it this module registers nothing. The reductions take `axis` as
None, an int or a tuple (and `keepdims` where scipy has it).
"""

import numpy as np

from s2sad.rules.registry import define, elementwise
from s2sad.runtime import strong_div, strong_mul, unbroadcast, unreduce

try:
    from scipy import special
except ImportError:  # scipy is optional
    special = None

TWO_OVER_SQRT_PI = 1.1283791670955126

if special is not None:

    @elementwise(special.expit, path="scipy.special.expit")
    def expit(x, out):
        return out * (1 - out)

    @elementwise(special.logit, path="scipy.special.logit", strong="div")
    def logit(x):
        """log(x / (1 − x)): infinite slope at 0 and 1."""
        return x * (1 - x)

    @elementwise(special.erf, path="scipy.special.erf")
    def erf(x):
        return TWO_OVER_SQRT_PI * np.exp(-x * x)

    @elementwise(special.erfc, path="scipy.special.erfc")
    def erfc(x):
        return -TWO_OVER_SQRT_PI * np.exp(-x * x)

    @elementwise(special.gammaln, path="scipy.special.gammaln")
    def gammaln(x):
        """log|Γ(x)|, whose derivative is digamma(x)."""
        return special.digamma(x)

    @elementwise(special.digamma, path="scipy.special.digamma")
    def digamma(x):
        """digamma' is the trigamma function, zeta(2, x)."""
        return special.zeta(2.0, x)

    @elementwise(special.betaln, "a, b", path="scipy.special.betaln")
    def betaln(a, b):
        """log|B(a, b)| = log Γ(a) + log Γ(b) − log Γ(a + b)."""
        both = special.digamma(a + b)
        return special.digamma(a) - both, special.digamma(b) - both

    @elementwise(special.entr, path="scipy.special.entr", strong="mul")
    def entr(x):
        """−x·log x for x > 0, 0 at x = 0 (−inf for x < 0). ∂ = −(log x + 1) is +inf at 0 (the
        limit from the right); a zero (co)tangent contributes 0 there."""
        return -(np.log(x) + 1)

    @define(special.zeta, "x, q", path="scipy.special.zeta", shape="elementwise")
    class zeta:
        """Hurwitz zeta(x, q), differentiable in q: ∂q = −x·zeta(x + 1, q). The exponent x has no
        rule (pass it as a constant)."""

        def dq(dq, x, q):
            return -dq * x * special.zeta(x + 1.0, q)

        def bq(g, x, q):
            return unbroadcast(-g * x * special.zeta(x + 1.0, q), q)

    @define(special.xlogy, "x, y", path="scipy.special.xlogy", shape="elementwise")
    class xlogy:
        """x·log(y), defined as 0 where x = 0 (for every y, so ∂y = 0 there). ∂x = log y is −inf
        at y = 0; a zero (co)tangent contributes 0."""

        def dx(dx, y):
            return strong_mul(dx, np.log(y))

        def bx(g, x, y):
            return unbroadcast(strong_mul(g, np.log(y)), x)

        def dy(dy, x, y):
            return strong_div(dy * x, y)

        def by(g, x, y):
            return unbroadcast(strong_div(g * x, y), y)

    @define(special.xlog1py, "x, y", path="scipy.special.xlog1py", shape="elementwise")
    class xlog1py:
        """x·log(1 + y), defined as 0 where x = 0 (for every y, so ∂y = 0 there). ∂x = log(1 + y)
        is −inf at y = −1; a zero (co)tangent contributes 0."""

        def dx(dx, y):
            return strong_mul(dx, np.log1p(y))

        def bx(g, x, y):
            return unbroadcast(strong_mul(g, np.log1p(y)), x)

        def dy(dy, x, y):
            return strong_div(dy * x, 1 + y)

        def by(g, x, y):
            return unbroadcast(strong_div(g * x, 1 + y), y)

    @define(special.logsumexp, "a, axis=None, b=1.0, keepdims=False", path="scipy.special.logsumexp")
    class logsumexp:
        """log Σ b·exp(a) over `axis`: ∂a = b·exp(a − out) (softmax(a) when b is 1), ∂b =
        exp(a − out). `b` is omitted or an array that broadcasts to the shape of `a` (not None).
        `return_sign=True` (a (value, sign) pair) has no rule: the call is refused."""

        def da(da, a, axis, b, keepdims, out):
            return np.sum(da * b * np.exp(a - unreduce(out, a, axis, keepdims)), axis=axis, keepdims=keepdims)

        def ba(g, a, axis, b, keepdims, out):
            return unbroadcast(unreduce(g, a, axis, keepdims) * b * np.exp(a - unreduce(out, a, axis, keepdims)), a)

        def db(db, a, axis, keepdims, out):
            return np.sum(db * np.exp(a - unreduce(out, a, axis, keepdims)), axis=axis, keepdims=keepdims)

        def bb(g, a, axis, b, keepdims, out):
            return unbroadcast(unreduce(g, a, axis, keepdims) * np.exp(a - unreduce(out, a, axis, keepdims)), b)

    @define(special.softmax, "x, axis=None", path="scipy.special.softmax")
    class softmax:
        """s = softmax(x): ds = s·(dx − Σ s·dx) along `axis` (all axes for None)."""

        def dx(dx, axis, out):
            return out * (dx - np.sum(out * dx, axis=axis, keepdims=True))

        def bx(g, axis, out):
            return out * (g - np.sum(out * g, axis=axis, keepdims=True))

    @define(special.log_softmax, "x, axis=None", path="scipy.special.log_softmax")
    class log_softmax:
        """l = log_softmax(x): dl = dx − Σ exp(l)·dx along `axis` (all axes for None)."""

        def dx(dx, axis, out):
            return dx - np.sum(np.exp(out) * dx, axis=axis, keepdims=True)

        def bx(g, axis, out):
            return g - np.exp(out) * np.sum(g, axis=axis, keepdims=True)
