"""Creation of arrays: the results are constants, even when an argument is active.

`Nondiff` and `check_nondiff` also serve the `NONDIFF` lists of the other family modules (ops and
runtime helpers whose result carries no derivative)."""

from dataclasses import dataclass, field

import numpy as np
import pytest

import s2sad
from s2sad.rules.registry import lookup
from s2sad.testing import check_grads, make_function


@dataclass
class Nondiff:
    op: object
    source: str
    """An expression of x calling the op as `op`; its value is a float or an array of floats."""
    x: object = field(default_factory=lambda: np.array([0.3, -1.2, 2.5]))


def check_nondiff(item: Nondiff) -> None:
    """The expression's derivative is exactly zero, in both modes."""
    fun = make_function(f"def f(x):\n    return {item.source}\n", {"op": item.op})
    out, tangent = s2sad.jvp(fun, (item.x,), (np.ones_like(item.x),))
    np.testing.assert_array_equal(tangent, np.zeros_like(out))
    _, pullback = s2sad.vjp(fun, item.x)
    (cotangent,) = pullback(np.ones_like(out))
    np.testing.assert_array_equal(cotangent, np.zeros_like(item.x))

CREATION = [np.zeros, np.ones, np.full, np.empty, np.zeros_like, np.ones_like, np.full_like, np.empty_like,
            np.eye, np.identity, np.tri, np.arange, np.linspace]

SPECS = []
"""No differentiable ops here: every creation op is declared non-differentiable."""

NONDIFF = [
    *[Nondiff(op, "op(np.shape(x)) + 0.5") for op in (np.zeros, np.ones)],
    Nondiff(np.full, "op(np.shape(x), x[0])"),
    Nondiff(np.empty, "np.shape(op(np.shape(x)))[0] + 0.5"),
    *[Nondiff(op, "op(x) + 0.5") for op in (np.zeros_like, np.ones_like)],
    Nondiff(np.full_like, "op(x, x[1])"),
    Nondiff(np.empty_like, "np.shape(op(x))[0] + 0.5"),
    *[Nondiff(op, "op(np.size(x)) + 0.5") for op in (np.eye, np.identity, np.tri)],
    Nondiff(np.arange, "op(x[1], 3.0)"),
    Nondiff(np.linspace, "op(x[0], x[2], 4)"),
]


@pytest.mark.parametrize("item", NONDIFF, ids=lambda item: item.op.__name__)
def test_nondiff_gives_zero_derivatives(item):
    check_nondiff(item)


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
