"""Spec table for the arithmetic operators and their NumPy spellings."""

import operator

import numpy as np
import pytest

from tests.rules.specs import Spec, cases, check_case_pipeline, check_case_rule

POSITIVE = (0.5, 2.0)

SPECS = [
    Spec(operator.add, ("x", "y")),
    Spec(np.add, ("x", "y")),
    Spec(operator.sub, ("x", "y")),
    Spec(np.subtract, ("x", "y")),
    Spec(operator.mul, ("x", "y")),
    Spec(np.multiply, ("x", "y")),
    Spec(operator.truediv, ("x", "y"), domain=POSITIVE),
    Spec(np.divide, ("x", "y"), domain=POSITIVE),
    Spec(operator.pow, ("x", "y"), domain=POSITIVE),
    Spec(np.power, ("x", "y"), domain=POSITIVE),
    Spec(operator.neg),
    Spec(np.negative),
    Spec(operator.pos),
    Spec(np.positive),
    Spec(np.square),
]


@pytest.mark.parametrize("case", cases(SPECS), ids=repr)
def test_rule(case):
    check_case_rule(case)


@pytest.mark.parametrize("case", cases(SPECS), ids=repr)
def test_pipeline(case):
    check_case_pipeline(case)


@pytest.mark.parametrize("exponent", [2, 3, -1, 0.5, 2.0])
def test_power_with_constant_exponent(exponent):
    from s2sad.testing import check_grads, make_function

    fun = make_function(f"def f(x):\n    return x ** {exponent!r}\n")
    check_grads(fun, [np.array([0.7, 1.3, 2.1])])
    check_grads(fun, [1.7])
