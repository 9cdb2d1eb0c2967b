"""Spec table for the arithmetic operators, their NumPy spellings and the builtin pow."""

import builtins
import operator

import numpy as np
import pytest

from s2sad import api, runtime
from s2sad.testing import check_grads, make_function
from tests.rules.family import test_pipeline, test_rule, test_taylor  # noqa: F401
from tests.rules.specs import Spec
from tests.rules.test_elementwise import check_float32, check_pipeline

POSITIVE = (0.5, 2.0)
SCALAR = [((),)]
SCALARS = [((), ())]

SPECS = [
    Spec(operator.add, ("x", "y")),
    Spec(np.add, ("x", "y")),
    Spec(operator.sub, ("x", "y")),
    Spec(np.subtract, ("x", "y")),
    Spec(operator.mul, ("x", "y")),
    Spec(np.multiply, ("x", "y")),
    Spec(operator.truediv, ("x", "y"), domain=POSITIVE),
    Spec(np.divide, ("x", "y"), domain=POSITIVE),
    Spec(np.true_divide, ("x", "y"), domain=POSITIVE),
    Spec(operator.pow, ("x", "y"), domain=POSITIVE),
    Spec(np.power, ("x", "y"), domain=POSITIVE),
    Spec(builtins.pow, ("x", "y"), domain=POSITIVE, shapes=SCALARS),
    Spec(np.float_power, ("x", "y"), domain=POSITIVE),
    Spec(operator.mod, ("x", "y"), domain=POSITIVE),
    Spec(np.mod, ("x", "y"), domain=POSITIVE),
    Spec(np.fmod, ("x", "y"), domain=POSITIVE),
    Spec(operator.neg),
    Spec(np.negative),
    Spec(operator.pos),
    Spec(np.positive),
    Spec(np.square),
    Spec(np.reciprocal, domain=POSITIVE),
    # the broadcasting helpers the binary rules are built on
    Spec(runtime.unbroadcast, ("g",), shapes=[((2, 3),)], extra=(np.zeros(3),), name="unbroadcast to (3,)"),
    Spec(runtime.unbroadcast, ("g",), shapes=[((2, 3),)], extra=(np.zeros((2, 1)),), name="unbroadcast to (2, 1)"),
    Spec(runtime.unbroadcast, ("g",), shapes=[((2, 3),)], extra=(0.5,), name="unbroadcast to a float"),
    Spec(runtime.unbroadcast_to, ("g",), shapes=[((2, 3),)], extra=((3,),), name="unbroadcast_to (3,)"),
    Spec(runtime.unbroadcast_to, ("g",), shapes=[((2, 3),)], extra=((2, 1),), name="unbroadcast_to (2, 1)"),
    Spec(runtime.broadcast_like, ("g",), shapes=[((3,),), ((2, 1),), ((),)], extra=(np.zeros((2, 3)),)),
]

CHECK_PIPELINE = check_pipeline
"""Ops with constant arguments first go through the elementwise harness."""


@pytest.mark.parametrize("spec", [s for s in SPECS if s.shapes is None and s.op is not np.float_power],
                         ids=Spec.label)
def test_float32_stays_float32(spec):
    check_float32(spec)


def test_float_power_computes_in_float64():
    fun = make_function("def f(x, y):\n    return np.float_power(x, y)\n")
    x = np.array([0.5, 1.5], np.float32)
    _, tangent = api.jvp(fun, (x, x), (np.ones(2, np.float32), np.ones(2, np.float32)))
    assert tangent.dtype == np.float64


@pytest.mark.parametrize("exponent", [3, 2, 1, -1, 0.5, 2.0, -1.5])
def test_power_with_constant_exponent(exponent):
    fun = make_function(f"def f(x):\n    return x ** {exponent!r}\n")
    check_grads(fun, [np.array([0.7, 1.3, 2.1])])
    check_grads(fun, [1.7])


def test_power_of_negative_base_with_integer_exponent():
    fun = make_function("def f(x):\n    return x ** 3 + np.power(x, 2)\n")
    check_grads(fun, [np.array([-1.5, -0.3, 2.0])])
    assert api.grad(fun)(-2.0) == pytest.approx(3 * 4.0 - 4.0)


def test_power_of_constant_base():
    fun = make_function("def f(y):\n    return 2.0 ** y + np.power(3.0, y)\n")
    check_grads(fun, [np.array([-1.0, 0.5, 2.0])])
    assert api.grad(fun)(1.0) == pytest.approx(2.0 * np.log(2.0) + 3.0 * np.log(3.0))


def test_mod_by_a_constant_has_slope_one():
    fun = make_function("def f(x):\n    return x % 1.5 + np.fmod(x, 2.0)\n")
    check_grads(fun, [np.array([-3.2, 0.4, 4.1])])
    np.testing.assert_array_equal(api.grad(make_function("def f(x):\n    return np.sum(x % 1.5)\n"))(
        np.array([-3.2, 0.4, 4.1])), 1.0)


def test_second_order_through_power_and_division():
    fun = make_function("def f(x):\n    return x ** 3 / (1.0 + x)\n")
    second = api.grad(api.grad(fun))
    x = 1.3
    expected = (6 * x * (1 + x) ** 2 - 6 * x ** 2 * (1 + x) + 2 * x ** 3) / (1 + x) ** 3
    assert second(x) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("op", ["x / y", "x ** y", "np.float_power(x, y)", "x % y", "np.reciprocal(x) * y"])
def test_second_order_matches_finite_differences(op):
    fun = make_function(f"def f(x, y):\n    return {op}\n")
    dfdx = api.grad(fun)
    check_grads(dfdx, [1.3, 0.7], rtol=1e-5)
