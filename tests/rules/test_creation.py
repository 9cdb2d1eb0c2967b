"""Creation of arrays: zeros, ones, eye... make constants, even from an active argument; full,
full_like, linspace and arange are differentiated in the values they put in.

The `NONDIFF` lists (here and in the other family modules) name ops and runtime helpers whose
result carries no derivative (`tests.rules.family.Nondiff`)."""

import numpy as np
import pytest

import s2sad
from s2sad import runtime
from s2sad.rules.registry import lookup
from s2sad.testing import check_grads, make_function
from tests.rules.family import Nondiff, test_nondiff_gives_zero_derivatives, test_pipeline, test_rule, test_taylor  # noqa: F401
from tests.rules.specs import Spec

CREATION = [np.zeros, np.ones, np.empty, np.zeros_like, np.ones_like, np.empty_like, np.eye, np.identity, np.tri]


def _like(*shape):
    return np.zeros(shape).tolist()


RULE_ONLY = [
    Spec(np.full, ("fill_value",), shapes=[((),), ((3,),)], extra=((2, 3),)),
    Spec(np.full_like, ("fill_value",), shapes=[((),), ((3,),)], extra=(np.ones((2, 3)),)),
    Spec(np.arange, ("start", "step"), shapes=[((), ())], domain=(0.4, 0.6), kwargs=dict(stop=3.1)),
]
"""Specs checked by the rule harness only (their differentiated parameter is not the first one);
the pipeline tests below call them."""

TABLE = [
    Spec(np.linspace, ("start", "stop"), extra=(5,)),
    Spec(np.linspace, ("start", "stop"), shapes=[((3,), (2, 3))], extra=(4, False), kwargs=dict(axis=1)),
    Spec(np.linspace, ("start", "stop"), shapes=[((2, 1), (3,))], extra=(4,), kwargs=dict(axis=-1)),
    Spec(np.linspace, ("start", "stop"), shapes=[((), ())], extra=(1,), name="linspace of one sample"),
    Spec(np.arange, ("start",), shapes=[((),)], domain=(0.2, 0.4), extra=(4.5,)),
    Spec(runtime.fill_tangent, ("d",), shapes=[((),), ((3,),)], extra=(_like(2, 3),)),
    Spec(runtime.fill_adjoint, ("g",), shapes=[((2, 3),)], extra=(0.0, _like(2, 3))),
    Spec(runtime.linspace_part, ("d",), shapes=[((3,),)], extra=(_like(2, 3), 4, True, False, None, 1, 1)),
    Spec(runtime.linspace_part_adjoint, ("g",), shapes=[((2, 4, 3),)],
         extra=(0.0, _like(2, 3), 4, True, False, None, 1, 0)),
    Spec(runtime.arange_part, ("d",), shapes=[((),)], extra=([0.0, 1.0, 2.0, 3.0], None, "start")),
    Spec(runtime.arange_part, ("d",), shapes=[((),)], extra=([0.0, 1.0, 2.0, 3.0], 4.0, "step")),
    Spec(runtime.arange_part_adjoint, ("g",), shapes=[((4,),)], extra=(0.0, [0.0, 1.0, 2.0, 3.0], 4.0, "step")),
    Spec(runtime.pad_value, ("d",), shapes=[((),), ((2,),), ((2, 2),)], extra=(_like(2, 3), ((1, 2), (0, 1)))),
    Spec(runtime.pad_value_adjoint, ("g",), shapes=[((5, 4),)], extra=(_like(2, 3), ((1, 2), (0, 1)), 0.0)),
    Spec(runtime.pad_value_adjoint, ("g",), shapes=[((5, 4),)], extra=(_like(2, 3), ((1, 2), (0, 1)), _like(2))),
]

SPECS = RULE_ONLY + TABLE
PIPELINE_SPECS = TABLE
"""RULE_ONLY's ops run end to end in the tests below."""

NONDIFF = [
    *[Nondiff(op, "op(np.shape(x)) + 0.5") for op in (np.zeros, np.ones)],
    Nondiff(np.empty, "np.shape(op(np.shape(x)))[0] + 0.5"),
    *[Nondiff(op, "op(x) + 0.5") for op in (np.zeros_like, np.ones_like)],
    Nondiff(np.empty_like, "np.shape(op(x))[0] + 0.5"),
    *[Nondiff(op, "op(np.size(x)) + 0.5") for op in (np.eye, np.identity, np.tri)],
]


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


@pytest.mark.parametrize("body, expected", [
    ("np.sum(np.full(3, x) * np.arange(3.0))", lambda x: 3.0),
    ("np.sum(np.full((2, 2), x * x))", lambda x: 8 * x),
    ("np.sum(np.full_like(np.ones(3), x) ** 2)", lambda x: 6 * x),
    ("np.sum(np.full_like(np.ones(3), x, dtype=int))", lambda x: 0.0),
    ("np.sum(np.full_like(np.arange(3), x))", lambda x: 0.0),
    ("np.sum(np.linspace(x, 2.0 * x, 4))", lambda x: 6.0),
    ("np.sum(np.linspace(0.0, x, 5, endpoint=False))", lambda x: 2.0),
    ("np.sum(np.linspace(x, 1.0, 3) ** 2)", lambda x: 2 * x + (x + 1) / 2),
    ("np.sum(np.arange(x, 5.0))", lambda x: 4.0),
    ("np.sum(np.arange(1.0, 9.0, x))", lambda x: 0 + 1 + 2 + 3 + 4 + 5),
    ("np.sum(np.arange(x))", lambda x: 0.0),
])
def test_values_put_in_are_differentiated(body, expected):
    """full and full_like in the fill value, linspace in start and stop, arange in start and
    step (stop, and a lone argument, only set how many elements there are)."""
    fun = make_function(f"def f(x):\n    return x + {body}\n")
    x = 1.5
    value, grad = s2sad.value_and_grad(fun)(x)
    assert value == fun(x)
    assert grad == pytest.approx(1.0 + expected(x), rel=1e-12)
    assert s2sad.jvp(fun, (x,), (1.0,))[1] == pytest.approx(grad, rel=1e-12)
    assert s2sad.vjp(fun, x)[1](1.0)[0] == pytest.approx(grad, rel=1e-12)
    check_grads(fun, [x], order=2)


@pytest.mark.parametrize("body", [
    "np.full((2, 3), x) * np.arange(6.0).reshape(2, 3)",
    "np.full_like(np.ones((2, 3)), x[::-1]) ** 2",
    "np.linspace(x, x[::-1] * 2.0, 4, axis=1) ** 2",
    "np.linspace(x, 2.0, 4, axis=-1, endpoint=False) ** 2",
    "np.sin(np.arange(x[0], 3.0, x[1] + 2.0))",
])
def test_creation_from_array_values(body):
    fun = make_function(f"def f(x):\n    return np.sum({body})\n")
    check_grads(fun, [np.array([0.3, -1.2, 2.5])], order=2)


def test_linspace_with_retstep():
    fun = make_function("def f(a, b):\n    s, step = np.linspace(a, b, 5, retstep=True)\n"
                        "    return np.sum(s ** 2) + step * step\n")
    ga, gb = s2sad.grad(fun, argnums=(0, 1))(0.5, 2.0)
    t = np.linspace(0.0, 1.0, 5)
    s = 0.5 * (1 - t) + 2.0 * t
    assert ga == pytest.approx(np.sum(2 * s * (1 - t)) - 2 * (2.0 - 0.5) / 16)
    assert gb == pytest.approx(np.sum(2 * s * t) + 2 * (2.0 - 0.5) / 16)
    check_grads(fun, [0.5, 2.0], order=2)
