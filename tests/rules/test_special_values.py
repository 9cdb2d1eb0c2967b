"""Derivatives at special points: the table docs/conventions.md describes, row by row.

Every row is checked in both modes through the public transforms, on a tiny function built
with `make_function`: `grad` (reverse), `vjp` with a unit cotangent (reverse) and `jvp` with
each unit tangent (forward). `STRONG_ZERO` rows check that a zero (co)tangent contributes
exactly zero where the local partial is inf or NaN. `NONDIFF` lists the operations whose
result carries no derivative, each checked to give zero derivatives in both modes.

NumPy warns (divide by zero, invalid value) while computing some of these, as it does for the
primal; the warnings are silenced here.
"""

from __future__ import annotations

import math
import operator
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import special

from s2sad import api, runtime, stop_gradient
from s2sad.testing import make_function
from tests.rules.family import Nondiff, test_nondiff_gives_zero_derivatives, test_taylor  # noqa: F401
from tests.rules.specs import Spec, cases, check_case_rule
from tests.rules.test_elementwise import check_pipeline

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

INF = math.inf
NAN = math.nan
F = np.float64
"""Arguments where Python floats would raise (x / 0.0) are NumPy floats: IEEE semantics."""
NAMESPACE = {"math": math, "special": special, "operator": operator}


@dataclass
class Row:
    source: str
    """An expression of the parameters x, y, z (those `args` gives values for)."""
    args: tuple
    expected: tuple
    """The derivative with respect to each argument."""

    def function(self):
        params = ", ".join("xyz"[: len(self.args)])
        return make_function(f"def f({params}):\n    return {self.source}\n", NAMESPACE)

    def __repr__(self) -> str:
        return f"{self.source} at {self.args}"


ROWS = [
    # kinks: the minimum-norm subgradient
    Row("np.abs(x)", (0.0,), (0.0,)),
    Row("np.fabs(x)", (0.0,), (0.0,)),
    Row("abs(x)", (0.0,), (0.0,)),
    Row("math.fabs(x)", (0.0,), (0.0,)),
    Row("np.hypot(x, y)", (0.0, 0.0), (0.0, 0.0)),
    Row("math.hypot(x, y)", (0.0, 0.0), (0.0, 0.0)),
    # ties split evenly
    Row("np.maximum(x, y)", (1.0, 1.0), (0.5, 0.5)),
    Row("np.minimum(x, y)", (1.0, 1.0), (0.5, 0.5)),
    Row("np.fmax(x, y)", (1.0, 1.0), (0.5, 0.5)),
    Row("np.fmin(x, y)", (1.0, 1.0), (0.5, 0.5)),
    Row("np.maximum(x, 0.0)", (0.0,), (0.5,)),
    Row("np.maximum(x, x)", (1.0,), (1.0,)),
    Row("max(x, y)", (2.0, 2.0), (0.5, 0.5)),
    Row("min(x, y, z)", (2.0, 2.0, 2.0), (1 / 3, 1 / 3, 1 / 3)),
    Row("max(x, y, z)", (2.0, 2.0, 1.0), (0.5, 0.5, 0.0)),
    Row("np.logaddexp(x, y)", (1.0, 1.0), (0.5, 0.5)),
    Row("np.logaddexp(x, y)", (800.0, -800.0), (1.0, 0.0)),  # weights with no overflow
    Row("np.logaddexp(x, y)", (INF, 1.0), (1.0, 0.0)),  # the limit, not inf - inf
    # a NaN loses in fmax/fmin
    Row("np.fmax(x, y)", (NAN, 1.0), (0.0, 1.0)),
    Row("np.fmin(x, y)", (1.0, NAN), (1.0, 0.0)),
    # clip = minimum(maximum(x, a_min), a_max), ties split evenly
    Row("np.clip(x, 0.0, 1.0)", (0.0,), (0.5,)),
    Row("np.clip(x, 0.0, 1.0)", (1.0,), (0.5,)),
    Row("np.clip(x, 0.0, 1.0)", (0.5,), (1.0,)),
    Row("np.clip(x, 0.0, 1.0)", (2.0,), (0.0,)),
    Row("np.clip(x, y, z)", (0.0, 0.0, 1.0), (0.5, 0.5, 0.0)),
    Row("np.clip(x, y, z)", (3.0, 2.0, 1.0), (0.0, 0.0, 1.0)),
    # limits by continuity
    Row("np.sqrt(x)", (0.0,), (INF,)),
    Row("math.sqrt(x)", (0.0,), (INF,)),
    Row("np.cbrt(x)", (0.0,), (INF,)),
    Row("math.cbrt(x)", (0.0,), (INF,)),
    Row("x ** 0.5", (0.0,), (INF,)),
    Row("np.arcsin(x)", (1.0,), (INF,)),
    Row("math.asin(x)", (-1.0,), (INF,)),
    Row("np.arccos(x)", (1.0,), (-INF,)),
    Row("math.acos(x)", (1.0,), (-INF,)),
    Row("np.arccosh(x)", (1.0,), (INF,)),
    Row("math.acosh(x)", (1.0,), (INF,)),
    Row("np.sinc(x)", (0.0,), (0.0,)),
    Row("special.logit(x)", (0.0,), (INF,)),
    # powers: x**0 is constant (also at 0), 0**y is constant for y > 0
    Row("x ** 0", (0.0,), (0.0,)),
    Row("x ** 0", (2.0,), (0.0,)),
    Row("x ** 0.0", (0.0,), (0.0,)),
    Row("np.power(x, 0)", (0.0,), (0.0,)),
    Row("math.pow(x, 0.0)", (0.0,), (0.0,)),
    Row("x ** 1", (0.0,), (1.0,)),
    Row("x ** 2", (0.0,), (0.0,)),
    Row("x ** y", (0.0, 2.0), (0.0, 0.0)),
    Row("x ** y", (0.0, 0.5), (INF, 0.0)),
    Row("x ** y", (0.0, 0.0), (0.0, -INF)),
    Row("0.0 ** x", (2.0,), (0.0,)),
    Row("x ** -1.0", (F(0.0),), (-INF,)),
    # logarithms and division at 0: IEEE
    Row("np.log(x)", (0.0,), (INF,)),
    Row("np.log2(x)", (0.0,), (INF,)),
    Row("np.log1p(x)", (-1.0,), (INF,)),
    Row("np.reciprocal(x)", (0.0,), (-INF,)),
    Row("x / y", (F(1.0), F(0.0)), (INF, -INF)),
    Row("special.xlogy(x, y)", (0.0, 0.0), (-INF, 0.0)),
    Row("special.xlogy(x, y)", (0.0, 2.0), (math.log(2.0), 0.0)),
    # discontinuities: 0 by convention
    Row("np.arctan2(x, y)", (0.0, 0.0), (0.0, 0.0)),
    Row("math.atan2(x, y)", (0.0, 0.0), (0.0, 0.0)),
    # the branch not taken contributes nothing, even where its derivative is inf or NaN
    Row("np.where(x > 0, np.sqrt(x), 0.0)", (0.0,), (0.0,)),
    Row("np.where(x > 0, np.log(x), 0.0)", (0.0,), (0.0,)),
    Row("np.where(x > 0, x ** 0.5, x)", (0.0,), (1.0,)),
    Row("np.where(x < 1, np.arcsin(x), x)", (1.0,), (1.0,)),
    Row("np.where(y != 0, x / y, 0.0)", (F(1.0), F(0.0)), (0.0, 0.0)),
    Row("np.where(x > 0, x * np.log(x), 0.0)", (0.5,), (math.log(0.5) + 1.0,)),
    # non-differentiable operations give 0
    Row("np.sign(x) * x", (0.0,), (0.0,)),
    Row("np.floor(x) + np.round(x)", (1.5,), (0.0,)),
]


def assert_same(actual, expected, what: str) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, rtol=1e-12, atol=0, equal_nan=False,
                               err_msg=what)


@pytest.mark.parametrize("row", ROWS, ids=repr)
def test_reverse_mode(row):
    fun = row.function()
    argnums = tuple(range(len(row.args)))
    assert_same(api.grad(fun, argnums=argnums)(*row.args), row.expected, "grad")
    _, pullback = api.vjp(fun, *row.args)
    assert_same(pullback(1.0), row.expected, "vjp")


@pytest.mark.parametrize("row", ROWS, ids=repr)
def test_forward_mode(row):
    fun = row.function()
    for i, expected in enumerate(row.expected):
        tangents = tuple(1.0 if j == i else 0.0 for j in range(len(row.args)))
        _, tangent = api.jvp(fun, row.args, tangents)
        assert_same(tangent, expected, f"jvp along argument {i}")


# ---------------------------------------------------------------- strong zeros

STRONG_ZERO = [
    Row("np.sqrt(x)", (0.0,), (INF,)),
    Row("math.sqrt(x)", (0.0,), (INF,)),
    Row("np.cbrt(x)", (0.0,), (INF,)),
    Row("np.log(x)", (0.0,), (INF,)),
    Row("np.log10(x)", (0.0,), (INF,)),
    Row("x ** 0.5", (0.0,), (INF,)),
    Row("x ** y", (0.0, 0.0), (0.0, -INF)),
    Row("x / y", (F(1.0), F(0.0)), (INF, -INF)),
    Row("np.reciprocal(x)", (0.0,), (-INF,)),
    Row("np.arcsin(x)", (1.0,), (INF,)),
    Row("math.acos(x)", (1.0,), (-INF,)),
    Row("np.arccosh(x)", (1.0,), (INF,)),
    Row("np.arctanh(x)", (1.0,), (INF,)),
    Row("special.logit(x)", (1.0,), (INF,)),
    Row("special.xlogy(x, y)", (1.0, 0.0), (-INF, INF)),
]
"""Points where some partial is inf or NaN (the expected derivative with a unit (co)tangent)."""


@pytest.mark.parametrize("row", STRONG_ZERO, ids=repr)
def test_a_zero_cotangent_contributes_zero(row):
    _, pullback = api.vjp(row.function(), *row.args)
    assert_same(pullback(0.0), (0.0,) * len(row.args), "vjp with a zero cotangent")


@pytest.mark.parametrize("row", STRONG_ZERO, ids=repr)
def test_a_zero_tangent_contributes_zero(row):
    _, tangent = api.jvp(row.function(), row.args, (0.0,) * len(row.args))
    assert_same(tangent, 0.0, "jvp with a zero tangent")


@pytest.mark.parametrize("row", [r for r in STRONG_ZERO if not any(map(math.isnan, r.expected))], ids=repr)
def test_unit_cotangent_gives_the_ieee_value(row):
    _, pullback = api.vjp(row.function(), *row.args)
    assert_same(pullback(1.0), row.expected, "vjp with a unit cotangent")


def test_masking_arrays_in_reverse_mode():
    fun = make_function("def f(x):\n    return np.sum(np.where(x > 0, special.xlogy(x, x) + np.sqrt(x), 0.0))\n",
                        NAMESPACE)
    x = np.array([0.0, -1.0, 4.0])
    np.testing.assert_allclose(api.grad(fun)(x), [0.0, 0.0, np.log(4.0) + 1.0 + 0.25])


def test_a_product_with_an_infinite_factor_follows_ieee():
    """Products are not strong zeros (they are the common path): a zero cotangent times an
    infinite factor is NaN, so `x * np.log(x)` leaks NaN through a mask at 0 (use xlogy)."""
    fun = make_function("def f(x):\n    return np.where(x > 0, x * np.log(x), 0.0)\n")
    assert math.isnan(api.grad(fun)(0.0))
    assert api.grad(make_function("def f(x):\n    return np.where(x > 0, special.xlogy(x, x), 0.0)\n",
                                  NAMESPACE))(0.0) == 0.0


def test_masking_by_a_zero_factor_is_clean_in_reverse_mode_only():
    """A zero cotangent reaches sqrt in reverse mode; in forward mode sqrt's tangent is inf and
    the product with the zero mask is NaN (IEEE; documented: select with np.where)."""
    fun = make_function("def f(x, m):\n    return np.sum(m * np.sqrt(x))\n")
    grad = api.grad(fun)(np.array([0.0, 4.0]), np.array([0.0, 1.0]))
    np.testing.assert_array_equal(grad, [0.0, 0.25])
    _, tangent = api.jvp(fun, (np.array([0.0, 4.0]), np.array([0.0, 1.0])), (np.ones(2), np.zeros(2)))
    assert math.isnan(tangent)


# ---------------------------------------------------------------- second derivatives

SECOND = [
    Row("np.sinc(x)", (0.0,), (-math.pi ** 2 / 3,)),
    Row("np.abs(x)", (0.0,), (0.0,)),
    Row("np.maximum(x, 0.0)", (0.0,), (0.0,)),
    Row("x ** 0", (0.0,), (0.0,)),
    Row("x ** 2", (0.0,), (2.0,)),
    Row("x ** 3", (0.0,), (0.0,)),
    Row("np.sqrt(x)", (0.0,), (-INF,)),
    Row("np.log(x)", (0.0,), (-INF,)),
    Row("np.where(x > 0, np.sqrt(x), 0.0)", (0.0,), (0.0,)),
    Row("np.where(y != 0, x / y, 0.0)", (F(1.0), F(0.0)), (0.0, 0.0)),
]
"""Second derivatives (with respect to the first argument), in both modes over reverse."""


@pytest.mark.parametrize("row", SECOND, ids=repr)
def test_second_derivative(row):
    first = api.grad(row.function())
    assert_same(api.grad(first)(*row.args), row.expected[0], "grad of grad")
    tangents = (1.0,) + (0.0,) * (len(row.args) - 1)
    assert_same(api.jvp(first, row.args, tangents)[1], row.expected[0], "jvp of grad")


# ---------------------------------------------------------------- the helpers themselves

CHECK_PIPELINE = check_pipeline
"""The helpers go through the elementwise harness (the shared `test_taylor` reads it)."""

SPECS = [
    Spec(runtime.strong_mul, ("d", "p")),
    Spec(runtime.strong_div, ("d", "q"), domain=(0.5, 2.0)),
    Spec(runtime.power_term, ("d", "x", "y"), domain=(0.5, 2.0)),
    Spec(runtime.power_term, ("d", "x"), extra=(3,), domain=(0.5, 2.0), name="power_term, integer y"),
    Spec(runtime.log_base, ("base",), shapes=[((),)], domain=(1.5, 3.0)),
]


@pytest.mark.parametrize("case", cases(SPECS), ids=repr)
def test_helper_rule(case):
    check_case_rule(case)


@pytest.mark.parametrize("case", cases(SPECS), ids=repr)
def test_helper_pipeline(case):
    check_pipeline(case)


@pytest.mark.parametrize("d, p, expected", [
    (0.0, INF, 0.0), (0.0, NAN, 0.0), (2.0, INF, INF), (np.array([0.0, 1.0]), np.array([INF, INF]), [0.0, INF]),
    (np.array([0.0, 1.0]), INF, [0.0, INF]), (0.0, np.array([NAN, 2.0]), [0.0, 0.0]),
])
def test_strong_mul_values(d, p, expected):
    assert_same(runtime.strong_mul(d, p), expected, "strong_mul")


@pytest.mark.parametrize("d, q, expected", [
    (0.0, 0.0, 0.0), (1.0, 0.0, INF), (-1.0, 0.0, -INF), (0.0, NAN, 0.0), (3.0, 2.0, 1.5),
    (np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 2.0]), [0.0, INF, 0.0]),
])
def test_strong_div_values(d, q, expected):
    assert_same(runtime.strong_div(d, q), expected, "strong_div")


def test_strong_helpers_keep_float32():
    d = np.array([0.0, 1.0], np.float32)
    assert runtime.strong_div(d, np.array([0.0, 2.0], np.float32)).dtype == np.float32
    assert runtime.strong_mul(d, np.array([INF, 2.0], np.float32)).dtype == np.float32
    assert runtime.power_term(d, np.array([0.0, 2.0], np.float32), 0.5).dtype == np.float32


def test_ties_counts_only_given_arguments():
    assert runtime.ties(2.0, 2.0, 1.0) == 1
    assert runtime.ties(2.0, 2.0, 2.0, 2.0) == 3
    assert runtime.ties(2.0, 2.0, 2.0, 2.0, 2.0) == 4


def test_clip_weights_sum_to_one():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    weights = runtime.clip_weights(x, 0.0, 1.0)
    np.testing.assert_array_equal(sum(weights), 1.0)
    np.testing.assert_array_equal(weights[0], [0.0, 0.5, 1.0, 0.5, 0.0])
    np.testing.assert_array_equal(runtime.clip_weights(x, None, None)[0], 1.0)


# ---------------------------------------------------------------- no derivative


NONDIFF = [
    *[Nondiff(op, "op(x, 0.3) + 0.5") for op in (
        operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge,
        np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
        np.logical_and, np.logical_or, np.logical_xor, np.isclose)],
    Nondiff(operator.is_, "op(x, None) + 0.5", 0.7),
    Nondiff(operator.is_not, "op(x, None) + 0.5", 0.7),
    Nondiff(operator.not_, "op(x) + 0.5", 0.7),
    Nondiff(np.allclose, "op(x, 0.3) + 0.5"),
    *[Nondiff(op, "op(x, 0.7) + 0.5") for op in (operator.floordiv, np.floor_divide, np.heaviside)],
    *[Nondiff(op, "op(x) + 0.5") for op in (
        np.logical_not, np.isnan, np.isinf, np.isfinite, np.isposinf, np.isneginf, np.signbit,
        np.sign, np.floor, np.ceil, np.trunc, np.rint, np.round, np.around, np.fix,
        np.ndim, np.size, np.argmax, np.argmin)],
    Nondiff(np.shape, "op(x)[0] + 0.5"),
    *[Nondiff(op, "op(x) + 0.5", 2.7) for op in (
        math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite, round, int)],
    Nondiff(math.isclose, "op(x, 2.7) + 0.5", 2.7),
    Nondiff(slice, "x[op(None, 2)] * 0.0 + np.sum(x[op(1, None)] > 0.0)"),
    Nondiff(runtime.ties, "op(x, x, 1.0) + 0.5", 2.0),
    Nondiff(runtime.clip_weights, "op(x, 0.0, 1.0)[0] + 0.5"),
    Nondiff(stop_gradient, "op(x) * 2.0"),
]


def test_sigmoid_of_an_array_is_the_floats_to_a_few_ulps_with_no_warning():
    """The array form (1 / (1 + exp(-t)), overflow silenced) against the float form, which
    never overflows; below t = -709 the array form gives 0 for a value below every normal float."""
    t = np.concatenate([np.linspace(-708.0, 708.0, 4001), [-40.0, -1e-300, 0.0, 1e-300, 40.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = runtime.sigmoid(t)
        extreme = runtime.sigmoid(np.array([-1000.0, -INF, INF, np.nan]))
    expected = np.array([runtime.sigmoid(float(v)) for v in t])
    np.testing.assert_allclose(got, expected, rtol=4 * np.finfo(float).eps, atol=0)
    np.testing.assert_allclose(got, special.expit(t), rtol=4 * np.finfo(float).eps, atol=0)
    np.testing.assert_array_equal(extreme[:3], [0.0, 0.0, 1.0])
    assert np.isnan(extreme[3])
    assert runtime.sigmoid(np.array([-1.0, 2.0], dtype=np.float32)).dtype == np.float32
