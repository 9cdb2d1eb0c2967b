"""Derivatives that used to be dropped or wrong without a word: copysign's sign, active values
in parameters a rule does not differentiate, the indexing helpers np.r_ and np.c_, einsum's
sublist form, the creation ops linear in their values, and joins of a single array.

Each is checked in every mode: grad and value_and_grad against a closed form, jvp against
central differences in a random direction, vjp against jvp by the dot-product identity
(`check_grads`), and second order where the derivative is not constant."""

import math

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads, make_function

# ---------------------------------------------------------------- copysign


@pytest.mark.parametrize("x, y, slope", [(-2.0, 1.0, -1.0), (2.0, 1.0, 1.0), (-2.0, -1.0, 1.0),
                                         (2.0, -3.0, -1.0), (-0.5, -0.0, 1.0), (0.5, 0.0, 1.0),
                                         (0.0, 1.0, 0.0)])
@pytest.mark.parametrize("module", [math, np], ids=["math", "np"])
def test_copysign_slope_is_sign_x_times_sign_y(module, x, y, slope):
    fun = make_function("def f(x, y):\n    return m.copysign(x, y) * 3.0\n", {"m": module})
    value, grad = s2sad.value_and_grad(fun)(x, y)
    assert value == module.copysign(x, y) * 3.0
    assert grad == 3.0 * slope
    assert s2sad.jvp(fun, (x, y), (1.0, 0.0))[1] == 3.0 * slope
    assert s2sad.vjp(fun, x, y)[1](1.0) == (3.0 * slope, 0.0)


def test_copysign_in_arrays_and_second_order():
    fun = make_function("def f(x, y):\n    return np.sum(np.copysign(x, y) ** 3)\n")
    x, y = np.array([-1.5, 0.7, -0.3, 1.2]), np.array([1.0, -2.0, -0.0, 0.5])
    sign_y = np.where(np.signbit(y), -1.0, 1.0)
    np.testing.assert_allclose(s2sad.grad(fun)(x, y), 3 * x ** 2 * np.sign(x) * sign_y, rtol=1e-15)
    check_grads(fun, [x, np.array([1.0, -2.0, -0.4, 0.5])], order=2)  # y away from its jump at 0
    scalar = make_function("def f(x):\n    return math.copysign(x, -1.0) ** 2\n", {"math": math})
    assert s2sad.grad(s2sad.grad(scalar))(-1.3) == 2.0
    assert s2sad.grad(scalar)(-1.3) == pytest.approx(-2.6)
