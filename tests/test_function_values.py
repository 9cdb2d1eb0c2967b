"""Function values known only when the code runs: a list of functions or of callable objects
that is a parameter, a function chosen by a branch or picked at a computed index, a function a
derivative is not specialised to (second order); their derivative is looked up when the call
runs (`runtime.dispatch`). Also a factory's result closing over a differentiated value and a
lambda passed to a helper, both known where the code is built. Every mode against finite
differences and closed forms; the refusals.
"""

import functools

import numpy as np
import pytest

import s2sad
from s2sad.errors import UnsupportedSyntax
from s2sad.testing import check_grads, numerical_jvp

Y0 = np.array([0.4, -0.3, 0.8])


def decay(y, k):
    return -k * y


def swirl(y, k):
    return k * np.sin(y[::-1]) - 0.5 * y


def rk4_step(rhs, y, h, k):
    k1 = rhs(y, k)
    k2 = rhs(y + 0.5 * h * k1, k)
    k3 = rhs(y + 0.5 * h * k2, k)
    k4 = rhs(y + h * k3, k)
    return y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def integrate(fields, which, y0, k):
    """The right-hand side picked at a computed index: known only when the code runs."""
    rhs = fields[which]
    y = y0
    for _ in range(5):
        y = rk4_step(rhs, y, 0.1, k)
    return np.sum(y ** 2)


def integrate_given(rhs, y0, k):
    y = y0
    for _ in range(5):
        y = rk4_step(rhs, y, 0.1, k)
    return np.sum(y ** 2)


def test_rk4_with_the_right_hand_side_picked_when_the_code_runs():
    for which in (0, 1):
        check_grads(functools.partial(integrate, [decay, swirl], which), [Y0, 0.7], order=2)
        expected = s2sad.grad(integrate_given, argnums=(1, 2))([decay, swirl][which], Y0, 0.7)
        got = s2sad.grad(integrate, argnums=(2, 3))([decay, swirl], which, Y0, 0.7)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-12)


def test_rk4_decay_against_the_closed_form():
    h, k = 0.1, 0.7
    z = -h * k
    factor = (1 + z + z ** 2 / 2 + z ** 3 / 6 + z ** 4 / 24) ** 5  # RK4's amplification over 5 steps
    np.testing.assert_allclose(s2sad.grad(integrate, argnums=2)([decay, swirl], 0, Y0, k), 2 * factor ** 2 * Y0,
                               rtol=1e-12)


def make_field(k):
    scale = 2.0 * k

    def rhs(y):
        return -scale * y + np.sin(y) * k
    return rhs


def integrate_factory(y0, k):
    rhs = make_field(k)
    y = y0
    for _ in range(4):
        k1 = rhs(y)
        k2 = rhs(y + 0.05 * k1)
        k3 = rhs(y + 0.05 * k2)
        k4 = rhs(y + 0.1 * k3)
        y = y + 0.1 / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return np.sum(y * y)


def test_rk4_with_a_factory_closing_over_the_differentiated_parameter():
    check_grads(integrate_factory, [Y0, 0.7], order=2)
    gy, gk = s2sad.grad(integrate_factory, argnums=(0, 1))(Y0, 0.7)
    np.testing.assert_allclose(gk, numerical_jvp(integrate_factory, (Y0, 0.7), {1: 1.0}), rtol=1e-6)
    np.testing.assert_allclose(gy @ Y0, numerical_jvp(integrate_factory, (Y0, 0.7), {0: Y0}), rtol=1e-6)


def make_wave(k):
    c = 2.0 * k
    return lambda y: np.sin(c * y)


def waves(y, ks):
    for i in range(3):
        wave = make_wave(ks[i])  # made again on each trip, closing over that trip's value
        y = wave(y) + y
    return np.sum(y)


def test_a_factory_returning_a_lambda_called_in_a_loop():
    ks = np.array([0.5, 1.0, 1.5])
    check_grads(waves, [Y0, ks], order=2)
    np.testing.assert_allclose(s2sad.grad(waves, argnums=1)(Y0, ks) @ ks, numerical_jvp(waves, (Y0, ks), {1: ks}),
                               rtol=1e-6)


class Dense:
    def __init__(self, w, act):
        self.w, self.act = w, act

    def __call__(self, x):
        return self.act(self.w @ x)


RNG = np.random.default_rng(0)
LAYERS = [Dense(RNG.normal(size=(3, 3)), np.tanh), Dense(RNG.normal(size=(3, 3)), np.sin)]


def network(x, layers):
    for layer in layers:
        x = layer(x)
    return np.sum(x ** 2)


def chain(x, fs):
    for f in fs:
        x = f(x)
    return x


def test_a_network_whose_layers_are_objects_in_a_list_parameter():
    check_grads(lambda x: network(x, LAYERS), [Y0], order=2)
    w0, w1 = LAYERS[0].w, LAYERS[1].w
    h = np.tanh(w0 @ Y0)
    out = np.sin(w1 @ h)
    expected = w0.T @ ((1 - h ** 2) * (w1.T @ (np.cos(w1 @ h) * 2 * out)))
    np.testing.assert_allclose(s2sad.grad(network)(Y0, LAYERS), expected, rtol=1e-12)
    np.testing.assert_allclose(s2sad.jacobian(network)(Y0, LAYERS), expected, rtol=1e-12)


def test_the_same_code_calls_other_functions_on_another_call():
    grad = s2sad.grad(chain)
    assert grad(0.3, [np.sin, np.tanh]) == pytest.approx(np.cos(0.3) / np.cosh(np.sin(0.3)) ** 2, rel=1e-12)
    assert grad(0.3, [np.cos, lambda v: v * v]) == pytest.approx(-2 * np.cos(0.3) * np.sin(0.3), rel=1e-12)
    assert grad(0.3, []) == 1.0


def sine_times(x):
    return np.sin(x) * x


def power(x, p):
    return x ** p


class Quadratic:
    def __init__(self, a):
        self.a = a

    def apply(self, x):
        return self.a * x ** 2


@s2sad.custom_vjp
def doubled_tanh(x):
    return np.tanh(x)


doubled_tanh.defvjp(lambda x: (np.tanh(x), x), lambda x, g: (2.0 * g,))


@pytest.mark.parametrize("fun, d, dd", [
    (Quadratic(3.0).apply, lambda x: 6.0 * x, lambda x: 6.0),
    (functools.partial(power, p=3.0), lambda x: 3 * x ** 2, lambda x: 6 * x),
    (lambda v: v * np.exp(v), lambda x: (1 + x) * np.exp(x), lambda x: (2 + x) * np.exp(x)),
    (s2sad.grad(sine_times), lambda x: 2 * np.cos(x) - x * np.sin(x), lambda x: -3 * np.sin(x) - x * np.cos(x)),
], ids=["bound method", "partial", "lambda", "derivative"])
def test_every_kind_of_function_value(fun, d, dd):
    assert s2sad.grad(chain)(0.3, [fun]) == pytest.approx(d(0.3), rel=1e-12)
    assert s2sad.hessian(chain)(0.3, [fun]) == pytest.approx(dd(0.3), rel=1e-10)
    assert s2sad.value_and_grad(chain)(0.3, [fun])[1] == pytest.approx(d(0.3), rel=1e-12)


def test_a_custom_rule_called_as_a_value_keeps_its_rule():
    assert s2sad.grad(chain)(0.3, [doubled_tanh]) == 2.0
    assert s2sad.grad(chain)(0.3, [np.sin, doubled_tanh]) == pytest.approx(2.0 * np.cos(0.3), rel=1e-12)


def choose(x, flag):
    f = np.sin if flag else np.cos
    return f(x) * x


def test_a_function_chosen_by_a_branch_in_every_mode():
    for flag, d, dd in [(True, lambda x: np.cos(x) * x + np.sin(x), lambda x: 2 * np.cos(x) - np.sin(x) * x),
                        (False, lambda x: -np.sin(x) * x + np.cos(x), lambda x: -2 * np.sin(x) - np.cos(x) * x)]:
        x = 0.3
        assert s2sad.grad(choose)(x, flag) == pytest.approx(d(x), rel=1e-12)
        value, g = s2sad.value_and_grad(choose)(x, flag)
        assert (value, g) == pytest.approx((choose(x, flag), d(x)), rel=1e-12)
        assert s2sad.jvp(choose, (x, flag), (1.0, 0.0))[1] == pytest.approx(d(x), rel=1e-12)
        assert s2sad.vjp(choose, x, flag)[1](1.0)[0] == pytest.approx(d(x), rel=1e-12)
        assert s2sad.hessian(choose)(x, flag) == pytest.approx(dd(x), rel=1e-10)
        check_grads(functools.partial(choose, flag=flag), [x], order=2)
        np.testing.assert_allclose(s2sad.jacobian(functools.partial(choose, flag=flag))(Y0), np.diag(d(Y0)), rtol=1e-12)


def apply(fn, x):
    return fn(x) + x


def lambda_to_a_helper(x):
    return np.sum(apply(lambda v: v * np.sin(v), x))


def test_a_lambda_passed_to_a_helper():
    check_grads(lambda_to_a_helper, [Y0], order=2)
    np.testing.assert_allclose(s2sad.grad(lambda_to_a_helper)(Y0), np.sin(Y0) + Y0 * np.cos(Y0) + 1, rtol=1e-12)


def final_state(rhs, y0):
    return y0 + rhs(y0) * y0


def test_second_order_of_a_function_taking_a_function():
    for rhs, dd in [(np.sin, lambda y: 2 * np.cos(y) - y * np.sin(y)), (np.tanh, None)]:
        h = s2sad.hessian(final_state, argnums=1)(rhs, 0.3)
        if dd is not None:
            assert h == pytest.approx(dd(0.3), rel=1e-10)
        check_grads(functools.partial(final_state, rhs), [Y0], order=2)
    field = make_field(0.7)
    check_grads(lambda y: np.sum(final_state(field, y)), [Y0], order=2)
    hessian = s2sad.hessian(lambda y: np.sum(final_state(field, y)))(Y0)
    np.testing.assert_allclose(hessian, s2sad.jacfwd(s2sad.grad(lambda y: np.sum(final_state(field, y))))(Y0),
                               rtol=1e-10)


# ------------------------------------------------------------------ refusals


def counts(x):
    return {x}  # a set display: refused


def test_a_function_value_whose_derivative_cannot_be_built_is_refused_when_it_runs():
    with pytest.raises(UnsupportedSyntax, match="the function value called here") as err:
        s2sad.grad(chain)(0.3, [np.sin, counts])
    assert err.value.text.strip() == "x = f(x)"
    assert err.value.lineno == chain.__code__.co_firstlineno + 2
    assert "the expression `{x}`" in str(err.value)


def reads_a_local(x):
    k = 2.0 * x
    return np.sum(apply(lambda v: v * k, x))


def test_a_lambda_reading_the_functions_locals_passed_on_is_refused():
    with pytest.raises(UnsupportedSyntax, match="a lambda that reads the function's local names") as err:
        s2sad.grad(reads_a_local)(Y0)
    assert "pass what it reads as arguments" in str(err.value)
