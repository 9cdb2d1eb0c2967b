"""Calls to the user's own functions, differentiated modularly, both modes: same module,
another module, closures, default and keyword arguments, tuples returned, bounded and mutual recursion,
calls in loops, second order through calls. A callee's derivative is built once per set of
active parameters and shared by every call site (`pipeline.STATS["builds"]` counts builds).
"""

import math

import numpy as np
import pytest

import s2sad
from s2sad import pipeline
from s2sad.rules.registry import is_internal
from s2sad.testing import check_grads
from tests.programs import library, slopes


def square(x):
    return x * x


def one_call_site(x, y):
    return square(x) + y


def four_call_sites(x, y):
    return square(x) + square(y) + square(x * y) + square(np.sin(x))


def test_calls_in_the_same_module():
    check_grads(four_call_sites, [0.3, 1.2])
    x, y = 0.3, 1.2
    expected = (2 * x + 2 * x * y * y + 2 * math.sin(x) * math.cos(x), 2 * y + 2 * x * x * y)
    assert s2sad.grad(four_call_sites, argnums=(0, 1))(x, y) == pytest.approx(expected, rel=1e-12)


def builds(make) -> int:
    before = pipeline.STATS["builds"]
    make()
    return pipeline.STATS["builds"] - before


@pytest.mark.parametrize("transform", [s2sad.grad, s2sad.value_and_grad,
                                       lambda f, argnums: lambda *a: s2sad.jvp(f, a, (1.0, 0.0))])
def test_a_callee_is_built_once_for_all_its_call_sites(fresh_cache, transform):
    one = builds(lambda: transform(one_call_site, argnums=(0, 1))(0.3, 1.2))
    assert one == 2  # the caller and square's derivative
    four = builds(lambda: transform(four_call_sites, argnums=(0, 1))(0.3, 1.2))
    assert four == 1  # the caller only: square's derivative is shared
    again = builds(lambda: transform(four_call_sites, argnums=(0, 1))(0.5, 2.0))
    assert again == 0


def scale_and_shift(a, b):
    return a * 3.0 + b


def mixed_activity(x, c):
    return scale_and_shift(x, c) + scale_and_shift(c, x) + scale_and_shift(x, x) + scale_and_shift(x * x, 1.0)


def test_a_callee_gets_one_derivative_per_set_of_active_parameters(fresh_cache):
    count = builds(lambda: s2sad.grad(mixed_activity)(0.3, 2.0))
    assert count == 4  # the caller, and scale_and_shift for {a}, {b}, {a, b}
    check_grads(mixed_activity, [0.3, 2.0])
    assert s2sad.grad(mixed_activity)(0.3, 2.0) == pytest.approx(3.0 + 1.0 + 4.0 + 6 * 0.3)


def another_module(x):
    return np.sum(library.softplus(x) * x)


def test_calls_into_another_module():
    x = np.array([0.1, -1.0, 2.0])
    check_grads(another_module, [x])
    sigmoid = 1.0 / (1.0 + np.exp(-x))
    np.testing.assert_allclose(s2sad.grad(another_module)(x), np.log1p(np.exp(x)) + x * sigmoid, rtol=1e-14)


def keywords_and_defaults(x, y):
    return library.affine(x) + library.affine(x, b=y) + library.affine(y, a=x) + library.affine(b=x * y, x=y)


def test_default_and_keyword_arguments():
    check_grads(keywords_and_defaults, [0.3, 1.2])
    x, y = 0.3, 1.2
    assert s2sad.grad(keywords_and_defaults, argnums=(0, 1))(x, y) == pytest.approx(
        (4.0 + 2.0 * y, 3.0 + 2.0 * x))


def pair(x, y):
    return x * y, x + y


def unpack_a_returned_pair(x, y):
    a, b = pair(x, y)
    return a * b


def test_a_callee_returning_a_tuple():
    check_grads(unpack_a_returned_pair, [0.3, 1.2])
    x, y = 0.3, 1.2
    assert s2sad.grad(unpack_a_returned_pair, argnums=(0, 1))(x, y) == pytest.approx(
        (2 * x * y + y * y, x * x + 2 * x * y))


def recursive_powers(x):
    return library.power(x, 5) + library.fast_power(x, 7)


def test_bounded_recursion():
    check_grads(recursive_powers, [1.3])
    assert slopes(recursive_powers, [1.3]) == pytest.approx((5 * 1.3 ** 4 + 7 * 1.3 ** 6,) * 2, rel=1e-12)
    check_grads(library.power, [0.9, 6])
    assert s2sad.grad(library.power)(0.9, 0) == 0.0


def test_mutual_recursion():
    check_grads(library.spiral_down, [0.4, 6])
    y, dy = 0.4, 1.0
    for step in range(6):
        y, dy = (math.sin(y), math.cos(y) * dy) if step % 2 == 0 else (1.5 * y + 0.1, 1.5 * dy)
    assert slopes(library.spiral_down, [0.4, 6]) == pytest.approx((dy, dy), rel=1e-12)


def damped(x):
    return np.sin(x) * x


def call_in_a_loop(x):
    s = 0.0
    for _ in range(4):
        s = s + damped(s + x)
    return s


def fills_an_array(x):
    z = np.zeros(3)
    z[1] = x
    z[2] = x * x
    return z


def uses_a_returned_array(x):
    return np.sum(fills_an_array(x) ** 2)


def test_calls_in_loops_and_callees_writing_in_place():
    check_grads(call_in_a_loop, [0.4])
    check_grads(uses_a_returned_array, [0.5])
    assert slopes(uses_a_returned_array, [0.5]) == pytest.approx((2 * 0.5 + 4 * 0.5 ** 3,) * 2)


def twice(x):
    return damped(x) * 2.0


def test_second_order_through_a_call():
    x = 0.7
    assert s2sad.grad(s2sad.grad(twice))(x) == pytest.approx(2 * (2 * math.cos(x) - x * math.sin(x)), rel=1e-12)


def make_scaled_sine(c):
    def scaled_sine(x):
        return np.sin(c * x)

    return scaled_sine


SCALED_SINE = make_scaled_sine(1.7)


def calls_a_closure(x):
    return SCALED_SINE(x) * x


def test_differentiating_a_closure():
    assert s2sad.grad(SCALED_SINE)(0.5) == pytest.approx(1.7 * math.cos(0.85), rel=1e-14)
    other = make_scaled_sine(-0.5)  # the same code with another cell: its own derivative
    assert s2sad.grad(other)(0.5) == pytest.approx(-0.5 * math.cos(-0.25), rel=1e-14)
    check_grads(SCALED_SINE, [0.5])


def test_calling_a_closure():
    check_grads(calls_a_closure, [0.5])
    assert slopes(calls_a_closure, [0.5]) == pytest.approx((math.sin(0.85) + 0.5 * 1.7 * math.cos(0.85),) * 2)


# ---------------------------------------------------------------------------- methods of user classes


class Cell:
    def __init__(self, scale):
        self.scale = scale
        self.w = np.array([[1.0, 2.0], [0.5, -1.0]])

    def act(self, z):
        return np.tanh(z) * self.scale

    def forward(self, x):
        return self.act(self.w @ x)

    def loss(self, x):
        return np.sum(self.forward(x) ** 2)


CELL = Cell(2.0)


def through_a_global_object(x):
    return np.sum(CELL.forward(x) * x)


def by_hand_loss_gradient(cell, x):
    z = cell.w @ x
    h = np.tanh(z) * cell.scale
    return cell.w.T @ (2 * h * cell.scale * (1 - np.tanh(z) ** 2))


def test_self_method_calls_are_followed_in_both_modes():
    x = np.array([0.3, -0.2])
    np.testing.assert_allclose(s2sad.grad(CELL.loss)(x), by_hand_loss_gradient(CELL, x), rtol=1e-12)
    check_grads(CELL.loss, (x,), order=2)


def test_methods_of_a_global_object_are_followed():
    check_grads(through_a_global_object, (np.array([0.3, -0.2]),), order=2)


def test_a_method_gets_one_derivative_per_class():
    other = Cell(0.5)
    x = np.array([0.1, 0.4])
    np.testing.assert_allclose(s2sad.grad(other.loss)(x), by_hand_loss_gradient(other, x), rtol=1e-12)


# ------------------------------------------------------------------ modules named like s2sad

PORT_MODULE = '''
import numpy as np


def helper(x):
    return np.sin(x) * x


def model(x):
    return np.sum(helper(x) * 2.0)
'''


def test_a_user_module_whose_name_starts_with_s2sad_is_user_code(tmp_path, monkeypatch):
    import importlib

    (tmp_path / "s2sadport_x.py").write_text(PORT_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    port = importlib.import_module("s2sadport_x")
    monkeypatch.delitem(__import__("sys").modules, "s2sadport_x")
    x, v = np.array([0.3, -0.6, 1.2]), np.array([0.5, 0.1, -0.4])
    exact = 2.0 * (np.cos(x) * x + np.sin(x))
    hess = np.diag(2.0 * (2 * np.cos(x) - x * np.sin(x)))
    np.testing.assert_allclose(s2sad.grad(port.model)(x), exact, rtol=1e-13)
    assert s2sad.jvp(port.model, (x,), (v,))[1] == pytest.approx(exact @ v, rel=1e-13)
    np.testing.assert_allclose(s2sad.vjp(port.model, x)[1](2.0)[0], 2.0 * exact, rtol=1e-13)
    np.testing.assert_allclose(s2sad.hessian(port.model)(x), hess, rtol=1e-12, atol=1e-14)
    check_grads(port.model, (x,), order=2)
    assert not is_internal(port.helper) and is_internal(s2sad.runtime.add) and is_internal(s2sad.grad)
