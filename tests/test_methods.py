"""Array methods and attributes: each maps to a NumPy function with a rule, and each is
differentiated through `s2sad.grad` and `s2sad.jvp` (forward against finite differences, reverse
against forward by the dot-product identity)."""

import numpy as np
import pytest

import s2sad
from s2sad.front.methods import ARRAY_ATTRIBUTES, ARRAY_METHODS, target_ref
from s2sad.rules.registry import lookup
from s2sad.testing import check_grads, make_function


@pytest.mark.parametrize("name, target", sorted({**ARRAY_METHODS, **ARRAY_ATTRIBUTES}.items()))
def test_every_entry_has_a_rule(name, target):
    assert lookup(target_ref(target).value) is not None, f"x.{name} maps to {target}, which has no rule"


X = np.random.default_rng(0).uniform(-2, 2, (3, 4))
Y = np.random.default_rng(1).uniform(-2, 2, (4, 2))

METHODS = [
    "x.sum()", "x.sum(0)", "x.sum(axis=1, keepdims=True)", "x.mean()", "x.mean(axis=-1)",
    "x.max()", "x.max(axis=0)", "x.min(axis=1)", "x.prod()", "x.prod(axis=1)",
    "x.std()", "x.std(ddof=1)", "x.var(axis=0)", "x.cumsum(0)", "x.cumsum()", "x.cumprod(axis=1)",
    "x.dot(y)", "x.reshape(2, 6)", "x.reshape((6, 2))", "x.reshape(-1)", "x.transpose()", "x.transpose(1, 0)",
    "x.T", "x.ravel()", "x.flatten()", "x.reshape(1, 12).squeeze()", "x.reshape(3, 1, 4).squeeze(1)",
    "x.copy()", "x.astype(np.float64)", "x.clip(-0.5, 0.5)", "x.trace()", "x.trace(1)", "x.diagonal()",
    "x.diagonal(-1)", "x.swapaxes(0, 1)", "x.repeat(2)", "x.repeat(2, axis=1)", "x.take([0, 0, 3], axis=1)",
    "x.conj()", "x.conjugate()", "x.real",
    "x[x.argmax(axis=0), 0]", "x[0, x[0].argmin()]",
    "x[x[:, 0].argsort()]", "x[x.nonzero()]", "x.round(1) * x",
    "x.sum() / x.size", "x * x.ndim", "x.reshape(x.shape[1], x.shape[0])",
]


@pytest.mark.parametrize("expr", METHODS)
def test_method(expr):
    fun = make_function(f"def f(x, y):\n    return {expr}\n")
    check_grads(fun, [X, Y])


@pytest.mark.parametrize("expr", ["np.sum(x.sum(0) ** 2)", "x.max()", "np.sum(x.T @ x)", "x.std()"])
def test_method_gradient_equals_function_gradient(expr):
    as_function = expr.replace("x.sum(0)", "np.sum(x, 0)").replace("x.max()", "np.max(x)") \
        .replace("x.T", "np.transpose(x)").replace("x.std()", "np.std(x)")
    by_method = s2sad.grad(make_function(f"def f(x):\n    return {expr}\n"))(X)
    by_function = s2sad.grad(make_function(f"def f(x):\n    return {as_function}\n"))(X)
    np.testing.assert_array_equal(by_method, by_function)


@pytest.mark.parametrize("method", ["flatten()", "astype(np.float64)", "copy()"])
def test_copies_are_copies(method):
    """Writing into the copy must not change x (and so not the derivative)."""
    fun = make_function(f"def f(x):\n    y = x.{method}\n    y[0] = 5.0\n    return np.sum(y * x)\n")
    x = np.array([1.0, 2.0, 3.0])
    assert fun(x) == 5.0 + 4.0 + 9.0
    np.testing.assert_allclose(s2sad.grad(fun)(x), [5.0, 4.0, 6.0])
    np.testing.assert_allclose(s2sad.jvp(fun, (x,), (np.ones(3),))[1], 15.0)
