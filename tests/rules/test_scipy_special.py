"""Spec table for scipy.special (scipy is a test dependency; s2sad itself runs without it)."""

import subprocess
import sys

import numpy as np
import pytest
from scipy import special

import s2sad
from s2sad import api
from s2sad.testing import check_grads, make_function
from tests.rules.family import test_pipeline, test_rule, test_taylor  # noqa: F401
from tests.rules.specs import Spec
from tests.rules.test_elementwise import check_float32, check_pipeline, check_second_order

POSITIVE = (0.5, 2.0)
MATRIX = [((2, 3),)]
CUBE = [((2, 3, 4),)]
WEIGHTED = [((3,), (3,)), ((2, 3), (2, 3)), ((2, 3), (3,)), ((), ())]

SPECS = [
    Spec(special.expit),
    Spec(special.logit, domain=(0.1, 0.9)),
    Spec(special.erf),
    Spec(special.erfc),
    Spec(special.gammaln, domain=POSITIVE),
    Spec(special.gammaln, domain=(-2.8, -2.2), name="gammaln of negatives"),
    Spec(special.digamma, domain=POSITIVE),
    Spec(special.zeta, ("q",), extra=(2.5,), domain=POSITIVE),
    Spec(special.xlogy, ("x", "y"), domain=POSITIVE),
    Spec(special.betaln, ("a", "b"), domain=POSITIVE),
    Spec(special.xlog1py, ("x", "y"), domain=POSITIVE),
    Spec(special.entr, domain=POSITIVE),
    Spec(special.logsumexp, ("a",)),
    Spec(special.logsumexp, ("a",), shapes=MATRIX, kwargs={"axis": 1}, name="logsumexp axis=1"),
    Spec(special.logsumexp, ("a",), shapes=MATRIX, kwargs={"axis": -2, "keepdims": True}, name="logsumexp keepdims"),
    Spec(special.logsumexp, ("a",), shapes=CUBE, kwargs={"axis": (0, 2)}, name="logsumexp axes (0, 2)"),
    Spec(special.logsumexp, ("a", "b"), shapes=WEIGHTED, extra=(None,), domain=POSITIVE, name="logsumexp with b"),
    Spec(special.logsumexp, ("a", "b"), shapes=[((2, 3), (2, 3)), ((2, 3), (3,))], extra=(1,), domain=POSITIVE,
         kwargs={"keepdims": True}, name="logsumexp with b, axis=1"),
    Spec(special.softmax),
    Spec(special.softmax, shapes=MATRIX, kwargs={"axis": 0}, name="softmax axis=0"),
    Spec(special.softmax, shapes=CUBE, kwargs={"axis": (1, 2)}, name="softmax axes (1, 2)"),
    Spec(special.log_softmax),
    Spec(special.log_softmax, shapes=MATRIX, kwargs={"axis": -1}, name="log_softmax axis=-1"),
    Spec(special.log_softmax, shapes=CUBE, kwargs={"axis": (0, 1)}, name="log_softmax axes (0, 1)"),
]

CHECK_PIPELINE = check_pipeline


@pytest.mark.parametrize("spec", [s for s in SPECS if s.shapes is None], ids=Spec.label)
def test_float32_stays_float32(spec):
    check_float32(spec)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.shapes is None], ids=Spec.label)
def test_second_order(spec):
    check_second_order(spec)


def test_softmax_jacobian_closed_form():
    x = np.array([0.3, -1.2, 2.0])
    s = special.softmax(x)
    fun = make_function("def f(x):\n    return special.softmax(x)\n", {"special": special})
    for i in range(3):
        _, column = api.jvp(fun, (x,), (np.eye(3)[i],))
        np.testing.assert_allclose(column, s * (np.eye(3)[i] - s[i]), rtol=1e-12)


def test_logsumexp_gradient_is_softmax():
    x = np.array([[0.3, -1.2, 2.0], [1.0, 1.0, 1.0]])
    fun = make_function("def f(x):\n    return np.sum(special.logsumexp(x, axis=1))\n", {"special": special})
    np.testing.assert_allclose(api.grad(fun)(x), special.softmax(x, axis=1), rtol=1e-12)


def test_logsumexp_of_large_values_is_finite():
    fun = make_function("def f(x):\n    return special.logsumexp(x)\n", {"special": special})
    np.testing.assert_allclose(api.grad(fun)(np.array([1000.0, 1000.0])), [0.5, 0.5])


def test_logsumexp_with_weights_closed_form():
    a, b = np.array([0.3, -1.2, 2.0]), np.array([0.5, 2.0, 1.5])
    fun = make_function("def f(a, b):\n    return special.logsumexp(a, b=b)\n", {"special": special})
    da, db = api.grad(fun, argnums=(0, 1))(a, b)
    total = np.sum(b * np.exp(a))
    np.testing.assert_allclose(da, b * np.exp(a) / total, rtol=1e-12)
    np.testing.assert_allclose(db, np.exp(a) / total, rtol=1e-12)


def test_logsumexp_return_sign_is_refused():
    from s2sad.errors import MissingRule

    fun = make_function("def f(a):\n    return special.logsumexp(a, return_sign=True)[0]\n", {"special": special})
    with pytest.raises(MissingRule, match="return_sign"):
        api.grad(fun)(np.array([0.3, 1.0]))


def test_entr_at_zero_contributes_nothing_for_a_zero_tangent():
    fun = make_function("def f(x):\n    return np.sum(special.entr(x))\n", {"special": special})
    with np.errstate(divide="ignore", invalid="ignore"):
        _, tangent = api.jvp(fun, (np.array([0.0, 0.5]),), (np.array([0.0, 1.0]),))
    np.testing.assert_allclose(tangent, -np.log(0.5) - 1)


def binary_entropy(p):
    return special.entr(p) + special.entr(1 - p)


def bernoulli_log_likelihood(p):
    """Of k successes in n = 10 trials, for each p."""
    k = np.array([2.0, 5.0, 0.0])
    return special.xlogy(k, p) + special.xlog1py(10.0 - k, -p)


def beta_binomial_log_likelihood(theta):
    """Of k in n = 10 under a Beta(a, b) prior (the binomial coefficient left out)."""
    k = np.array([2.0, 5.0, 7.0])
    return special.betaln(k + theta[0], 10.0 - k + theta[1]) - special.betaln(theta[0], theta[1])


PROGRAMS = [(binary_entropy, np.array([0.3, 0.6, 0.9])), (bernoulli_log_likelihood, np.array([0.35, 0.5, 0.2])),
            (beta_binomial_log_likelihood, np.array([1.5, 2.5]))]


@pytest.mark.parametrize("fun, x", PROGRAMS, ids=lambda v: getattr(v, "__name__", ""))
def test_small_programs_in_every_mode(fun, x):
    """jvp and vjp (check_grads, to second order), jacrev against jacfwd, and grad,
    value_and_grad and hessian of the sum."""
    check_grads(fun, [x], order=2)
    np.testing.assert_allclose(s2sad.jacrev(fun)(x), s2sad.jacfwd(fun)(x), rtol=1e-10)
    total = make_function("def total(x):\n    return np.sum(fun(x))\n", {"fun": fun})
    value, grad = s2sad.value_and_grad(total)(x)
    assert value == pytest.approx(np.sum(fun(x)), rel=1e-12)
    np.testing.assert_allclose(grad, s2sad.grad(total)(x), rtol=1e-12)
    hess = s2sad.hessian(total)(x)
    np.testing.assert_allclose(hess, np.transpose(hess), rtol=1e-10)
    np.testing.assert_allclose(hess @ x, s2sad.jvp(s2sad.grad(total), (x,), (x,))[1], rtol=1e-10)


def test_closed_forms_of_the_small_programs():
    p = np.array([0.3, 0.6, 0.9])
    np.testing.assert_allclose(s2sad.jacfwd(binary_entropy)(p), np.diag(np.log((1 - p) / p)), rtol=1e-12, atol=1e-14)
    q = np.array([0.35, 0.5, 0.2])
    expected = np.array([2.0, 5.0, 0.0]) / q - np.array([8.0, 5.0, 10.0]) / (1 - q)
    np.testing.assert_allclose(np.diag(s2sad.jacrev(bernoulli_log_likelihood)(q)), expected, rtol=1e-12)


def test_without_scipy_the_module_registers_nothing():
    code = ("import sys; sys.modules['scipy'] = None\n"
            "from s2sad.rules import RULES\n"
            "print(sum('scipy' in r.name for r in RULES.values()))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"
