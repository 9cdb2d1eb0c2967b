"""np.piecewise, written out by the lowering (s2sad/front/piecewise.py): values equal NumPy's,
derivatives in every mode against finite differences, each function seen only where its
condition holds, and the refusals."""

import numpy as np
import pytest

import s2sad
from s2sad.errors import MissingRule, UnsupportedSyntax
from s2sad.testing import check_grads, make_function

X = np.array([-1.7, -0.6, -0.1, 0.3, 0.8, 1.9])
PIECES = [np.sin, 0.5, np.tanh]


def cube(v, k=1.0):
    return k * v ** 3


def lambdas(x):
    return np.piecewise(x, [x < -0.5, x > 0.5], [lambda v: v ** 2, lambda v: np.exp(v) - 1.0, lambda v: 3.0 * v])


def overlapping(x):
    """A later condition overrides an earlier one where both hold."""
    return np.piecewise(x, [x < 1.0, x < 0.0], [np.sin, lambda v: v * v])


def named(x, a):
    g = lambda v: a * v  # noqa: E731 - a named lambda, called by np.piecewise
    def h(v):
        return np.cos(v) * a
    return np.piecewise(x, (x < 0.0, x >= 0.0), (g, h))


def values_and_globals(x, a):
    """An item that is a value carries its derivative (a here); a global list and a global
    function with extra arguments."""
    return (np.piecewise(x, [x < -0.5, x > 0.5], PIECES) + np.piecewise(x, [x < 0.0], [cube, a * a], k=a)
            + np.piecewise(x, x > 0.0, [lambda v, c: c * v, -1.0], a))


def matrix(x):
    m = np.reshape(x, (2, 3))
    return np.piecewise(m, [m < 0.0], [lambda v: v ** 3, lambda v: np.log1p(v)])


def scalar(x):
    s = x[3]
    return np.piecewise(s, [s < 0.0, s >= 0.0], [lambda v: -v, lambda v: v * np.sin(v)]) + x[0]


def in_a_loop(x):
    total = 0.0
    for k in range(3):
        total = total + np.sum(np.piecewise(x * k, [x * k > 0.5], [np.sqrt, lambda v: v]))
    return total


PROGRAMS = [(lambdas, ()), (overlapping, ()), (named, (0.7,)), (values_and_globals, (0.7,)), (matrix, ()),
            (scalar, ()), (in_a_loop, ())]


def _numpy(fun, *args):
    """The program as NumPy runs it (the reference values)."""
    return fun(*args)


@pytest.mark.parametrize("fun, extra", PROGRAMS, ids=[f.__name__ for f, _ in PROGRAMS])
def test_every_mode(fun, extra):
    args = [X, *extra]
    value, _ = s2sad.vjp(fun, *args)
    np.testing.assert_allclose(value, _numpy(fun, *args), rtol=1e-14)
    check_grads(fun, args, order=2)
    params = ", ".join(["x", "a"][: len(args)])
    total = make_function(f"def total({params}):\n    return np.sum(fun({params}))\n", {"fun": fun})
    value, grad = s2sad.value_and_grad(total)(*args)
    assert value == pytest.approx(np.sum(_numpy(fun, *args)), rel=1e-14)
    np.testing.assert_allclose(grad, s2sad.grad(total)(*args), rtol=1e-14)
    np.testing.assert_allclose(s2sad.jacrev(fun)(*args), s2sad.jacfwd(fun)(*args), rtol=1e-12, atol=1e-14)
    hessian = s2sad.hessian(total)(*args)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-10, atol=1e-12)


def test_grad_value_and_grad_and_hessian_against_closed_forms():
    def f(x):
        return np.sum(lambdas(x))

    value, grad = s2sad.value_and_grad(f)(X)
    assert value == pytest.approx(np.sum(lambdas(X)), rel=1e-14)
    closed = np.where(X < -0.5, 2 * X, np.where(X > 0.5, np.exp(X), 3.0))
    np.testing.assert_allclose(grad, closed, rtol=1e-14)
    np.testing.assert_allclose(s2sad.grad(f)(X), closed, rtol=1e-14)
    hessian = np.diag(np.where(X < -0.5, 2.0, np.where(X > 0.5, np.exp(X), 0.0)))
    np.testing.assert_allclose(s2sad.hessian(f)(X), hessian, rtol=1e-12, atol=1e-14)
    da = s2sad.grad(lambda x, a: np.sum(values_and_globals(x, a)), argnums=1)(X, 0.7)
    ones = np.sum(X >= 0.0)  # a * a where x >= 0; k * x**3 where x < 0; c * x where x > 0
    closed = 2 * 0.7 * ones + np.sum(np.where(X < 0.0, X ** 3, 0.0)) + np.sum(np.where(X > 0.0, X, 0.0))
    assert da == pytest.approx(closed, rel=1e-12)


def test_each_function_sees_only_its_items():
    """np.sqrt of the negative items would be NaN (and np.where's derivative NaN): piecewise
    never computes it; a function is not called where its condition holds nowhere."""
    def f(x):
        return np.sum(np.piecewise(x, [x > 0.0, x > 5.0], [np.sqrt, lambda v: v / np.max(v)]))

    grad = s2sad.grad(f)(X)
    np.testing.assert_allclose(grad, np.where(X > 0.0, 0.5 / np.sqrt(np.abs(X)), 0.0), rtol=1e-14)
    _, tangent = s2sad.jvp(f, (X,), (np.ones_like(X),))
    assert np.isfinite(tangent)


def test_a_function_list_held_in_a_local_is_refused_with_the_fix():
    fun = make_function("def f(x):\n    funcs = [np.sin, np.cos]\n    return np.piecewise(x, [x < 0.0], funcs)\n")
    with pytest.raises(MissingRule, match="np.piecewise") as info:
        s2sad.grad(lambda x: np.sum(fun(x)))(X)
    assert "np.select" in info.value.hint or "np.where" in info.value.hint


@pytest.mark.parametrize("call, match", [
    ("np.piecewise(x, [x < 0.0], [np.sin, np.cos, np.tanh])", "3 functions for 1 conditions"),
    ("np.piecewise(x, [True, False, True, False, True, True], [np.sin])", "literal booleans"),
])
def test_refusals_at_the_users_line(call, match):
    fun = make_function(f"def f(x):\n    return np.sum({call})\n")
    with pytest.raises(UnsupportedSyntax, match=match) as info:
        s2sad.grad(fun)(X)
    assert info.value.where.line == 2 and info.value.hint
