"""Spec table for scipy.special (scipy is a test dependency; s2sad itself runs without it)."""

import subprocess
import sys

import numpy as np
import pytest
from scipy import special

from s2sad import api
from s2sad.testing import make_function
from tests.rules.family import test_pipeline, test_rule  # noqa: F401
from tests.rules.specs import Spec
from tests.rules.test_elementwise import check_float32, check_pipeline, check_second_order

POSITIVE = (0.5, 2.0)
MATRIX = [((2, 3),)]
CUBE = [((2, 3, 4),)]

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
    Spec(special.logsumexp, ("a",)),
    Spec(special.logsumexp, ("a",), shapes=MATRIX, kwargs={"axis": 1}, name="logsumexp axis=1"),
    Spec(special.logsumexp, ("a",), shapes=MATRIX, kwargs={"axis": -2, "keepdims": True}, name="logsumexp keepdims"),
    Spec(special.logsumexp, ("a",), shapes=CUBE, kwargs={"axis": (0, 2)}, name="logsumexp axes (0, 2)"),
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


def test_without_scipy_the_module_registers_nothing():
    code = ("import sys; sys.modules['scipy'] = None\n"
            "from s2sad.rules import RULES\n"
            "print(sum('scipy' in r.name for r in RULES.values()))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"
