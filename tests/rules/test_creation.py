"""Creation of arrays: the results are constants, even when an argument is active."""

import numpy as np
import pytest

import s2sad
from s2sad.rules.registry import lookup
from s2sad.testing import check_grads, make_function

CREATION = [np.zeros, np.ones, np.full, np.empty, np.zeros_like, np.ones_like, np.full_like, np.empty_like,
            np.eye, np.identity, np.tri, np.arange, np.linspace]

SPECS = []
"""No differentiable ops here: every creation op is declared non-differentiable (see below)."""


@pytest.mark.parametrize("op", CREATION, ids=lambda op: op.__name__)
def test_declared_without_derivative(op):
    rule = lookup(op)
    assert rule is not None and rule.nondiff and rule.diff_params == ()


@pytest.mark.parametrize("body, expected", [
    ("np.sum(np.zeros_like(x) + x)", 1.0),
    ("np.sum(np.ones_like(x) * x)", 1.0),
    ("np.sum(np.full_like(x, 2.0) * x)", 2.0),
    ("np.sum(np.empty_like(x) * 0.0 + x)", 1.0),
    ("np.sum(np.zeros(np.shape(x)) + 3.0 * x)", 3.0),
    ("np.sum(np.ones(x.shape) * x)", 1.0),
    ("np.sum(np.eye(np.size(x))[0] * x)", [1.0, 0.0, 0.0]),
    ("np.sum(np.arange(np.size(x)) * x)", [0.0, 1.0, 2.0]),
    ("np.sum(np.linspace(0.0, 1.0, 3) * x)", [0.0, 0.5, 1.0]),
    ("np.sum(np.tri(3)[1] * x)", [1.0, 1.0, 0.0]),
    ("np.sum(np.identity(3)[2] * x)", [0.0, 0.0, 1.0]),
])
def test_constant_factors(body, expected):
    fun = make_function(f"def f(x):\n    return {body}\n")
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_array_equal(s2sad.grad(fun)(x), np.broadcast_to(expected, x.shape))
    check_grads(fun, [x])


@pytest.mark.parametrize("body", [
    "np.sum(np.full(3, x))",
    "np.sum(np.full_like(np.ones(3), x))",
    "np.sum(np.linspace(x, 2.0 * x, 4))",
    "np.sum(np.arange(x, 5.0))",
])
def test_active_arguments_carry_no_derivative(body):
    """By convention the result of a creation op is a constant, even from an active argument."""
    fun = make_function(f"def f(x):\n    return x + {body}\n")
    assert s2sad.grad(fun)(0.5) == 1.0
    assert s2sad.jvp(fun, (0.5,), (1.0,))[1] == 1.0
