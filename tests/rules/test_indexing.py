"""Reading by index: `x[index]` (operator.getitem) for every kind of index, np.take and
np.take_along_axis; both modes, repeated indices adding up, second order."""

import operator

import numpy as np
import pytest

import s2sad
from s2sad import runtime
from s2sad.testing import check_grads, check_rule, make_function
from tests.rules.family import Nondiff, test_nondiff_gives_zero_derivatives, test_pipeline, test_rule, test_taylor  # noqa: F401
from tests.rules.specs import Spec

LIKE = np.zeros((3, 4)).tolist()
"""A literal shaped (3, 4), for helpers that read only the shape of an argument."""

TABLE = [
    Spec(np.take, shapes=[((3, 4),)], kwargs=dict(indices=[0, 2, 2, 1], axis=1)),
    Spec(np.take, shapes=[((3, 4),)], kwargs=dict(indices=[[0, 5], [5, 11]])),
    Spec(np.take, shapes=[((2, 3, 4),)], kwargs=dict(indices=-1, axis=-2)),
    Spec(runtime.take_adjoint, ("g",), shapes=[((3, 4),)], extra=(LIKE, [0, 2, 2, 1], 1)),
    Spec(runtime.take_adjoint, ("g",), shapes=[((2, 2),)], extra=(LIKE, [[0, 5], [5, 11]])),
]

CUSTOM_TESTED = (operator.getitem, np.take_along_axis, runtime.take_along_axis_adjoint)
"""getitem takes an index of any kind, take_along_axis an integer array: tested below."""

SPECS = TABLE + [Spec(op) for op in CUSTOM_TESTED]
"""Everything this module tests: TABLE through the shared harness, CUSTOM_TESTED below."""
RULE_SPECS = TABLE
"""The shared tests run TABLE; the ops of CUSTOM_TESTED have tests of their own below."""

NONDIFF = [
    *[Nondiff(op, "op(x) * 1.0") for op in (np.argsort, np.flatnonzero)],
    Nondiff(np.argwhere, "op(x > 0.0) * 1.0"),
    Nondiff(np.nonzero, "op(x)[0] * 1.0"),
    Nondiff(np.searchsorted, "op(np.sort(x), x) * 1.0"),
]



def _x(shape=(4, 5), seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, shape)


INDICES = [
    pytest.param("1", id="int"),
    pytest.param("-1", id="negative int"),
    pytest.param("2, -3", id="int pair"),
    pytest.param("1:3", id="slice"),
    pytest.param("::2", id="step"),
    pytest.param("::-1", id="reversed"),
    pytest.param("1:, ::-2", id="tuple of slices"),
    pytest.param("..., 1", id="ellipsis"),
    pytest.param("None, 2", id="newaxis"),
    pytest.param("..., None, 1:3", id="ellipsis newaxis slice"),
    pytest.param("[0, 2, 2, 0]", id="repeated integers"),
    pytest.param("[[1, 1], [3, -1]]", id="integer array 2-d"),
    pytest.param("[0, 0, 3], 1", id="integers and int"),
    pytest.param("[0, 0, 3], ::2", id="integers and slice"),
    pytest.param("[0, 0], [4, 4]", id="paired integers"),
    pytest.param("x > 0", id="boolean mask"),
    pytest.param("x[:, 0] > 0", id="boolean rows"),
]


@pytest.mark.parametrize("index", INDICES)
def test_getitem_pipeline(index):
    check_grads(make_function(f"def f(x):\n    return x[{index}]\n"), [_x()])


RULE_INDICES = [
    1, -1, (2, -3), slice(1, 3), slice(None, None, -1), (slice(1, None), slice(None, None, -2)), (Ellipsis, 1),
    (None, 2), (Ellipsis, None, slice(1, 3)), [0, 2, 2, 0], ([0, 0, 3], slice(None, None, 2)), ([0, 0], [4, 4]),
    np.array([True, False, True, True]),
]


@pytest.mark.parametrize("index", RULE_INDICES, ids=repr)
def test_getitem_rule(index):
    check_rule(operator.getitem, {"x": _x()}, {"index": index})


def test_repeated_indices_add_up():
    grad = s2sad.grad(make_function("def f(x):\n    return np.sum(x[[0, 2, 2, 2]] * np.array([1.0, 2.0, 3.0, 4.0]))\n"))
    np.testing.assert_array_equal(grad(np.zeros(4)), [1.0, 0.0, 9.0, 0.0])
    rows = s2sad.grad(make_function("def f(x):\n    return np.sum(x[[1, 1]])\n"))(np.zeros((3, 2)))
    np.testing.assert_array_equal(rows, [[0.0, 0.0], [2.0, 2.0], [0.0, 0.0]])


def test_mask_gradient():
    x = np.array([-1.0, 2.0, -3.0, 4.0])
    grad = s2sad.grad(make_function("def f(x):\n    return np.sum(x[x > 0] ** 2)\n"))(x)
    np.testing.assert_array_equal(grad, [0.0, 4.0, 0.0, 8.0])


def test_index_from_a_variable():
    fun = make_function("def f(x, i):\n    return x[i] * x[i + 1]\n")
    check_grads(fun, [_x((5,)), 2])
    np.testing.assert_allclose(s2sad.grad(fun)(np.arange(5.0), 2), [0.0, 0.0, 3.0, 2.0, 0.0])


def test_index_of_a_tuple_result():
    x = _x((4,))
    check_grads(make_function("def f(x):\n    a, b = np.split(x, 2)\n    return a * b[::-1]\n"), [x])


@pytest.mark.parametrize("indices, axis", [
    ([[0, 0, 1], [3, 3, 3], [2, 1, 0]], 1),
    ([[0, 2, 2, 1]], 0),
    ([[1], [0], [2]], -1),
    ([3, 0, 0, 11], None),
])
def test_take_along_axis(indices, axis):
    x, indices = _x((3, 4)), np.array(indices)
    check_rule(np.take_along_axis, {"x": x}, {"indices": indices, "axis": axis})
    fun = make_function("def f(x):\n    return np.take_along_axis(x, indices, axis)\n",
                        {"indices": indices, "axis": axis})
    check_grads(fun, [x])
    g = np.take_along_axis(x, indices, axis) * 2.0
    check_rule(runtime.take_along_axis_adjoint, {"g": g}, {"x": x, "indices": indices, "axis": axis})
    adjoint = make_function("def f(g):\n    return op(g, x, indices, axis)\n",
                            {"op": runtime.take_along_axis_adjoint, "x": x, "indices": indices, "axis": axis})
    check_grads(adjoint, [g])


def _hessian_vector_check(source: str, x, seed: int = 0) -> None:
    g = s2sad.grad(make_function(source))
    v = np.random.default_rng(seed).standard_normal(np.shape(x))
    _, hv = s2sad.jvp(g, (x,), (v,))
    eps = 1e-6
    np.testing.assert_allclose(hv, (g(x + eps * v) - g(x - eps * v)) / (2 * eps), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("body", [
    "np.sum(x[[0, 0, 2]] ** 3)",
    "np.sum(x[x > 0] ** 3)",
    "x[1, 2] ** 2 * x[-1, 0]",
    "np.sum(x[::-1] * x ** 2)",
    "np.sum(np.take(x, [1, 1, 2], axis=1) ** 3)",
    "np.sum(np.take_along_axis(x, np.argsort(x, axis=0), 0) ** 3)",
])
def test_second_order(body):
    _hessian_vector_check(f"def f(x):\n    return {body}\n", _x((3, 4), seed=1))


@pytest.mark.parametrize("body", [
    'x[[0, 0, 2]] ** 2',
    'x[x > 1.0] ** 2',
    'np.take(x, [1, 1]) ** 2',
    'np.take_along_axis(x, np.argsort(x, 0), 0) ** 2',
])
def test_float32_stays_float32(body):
    """A float32 argument gets a float32 gradient and tangent, also from the second derivative."""
    x = np.random.default_rng(5).uniform(0.5, 2.0, (3, 3)).astype(np.float32)
    g = s2sad.grad(make_function(f"def f(x):\n    return np.sum({body})\n"))
    assert g(x).dtype == np.float32
    assert s2sad.jvp(g, (x,), (np.ones_like(x),))[1].dtype == np.float32
