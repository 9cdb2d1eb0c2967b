"""Realistic programs (tests/programs/), each checked in both modes by `check_grads` and against
a closed form or a gradient written by hand; scipy.optimize converging with s2sad's gradient; the
examples of docs/programs.md run and print what the page shows.
"""

import math

import numpy as np
import pytest
import scipy.optimize

import s2sad
from s2sad.testing import check_grads
from tests.conftest import UPDATE_GOLDEN
from tests.programs import conv, logistic, mlp, newton, ode, rnn, slopes
from tests.test_docs import check_page, rewrite


def test_rnn_unrolled_over_time_steps():
    rng = np.random.default_rng(0)
    wx, wh, b = rng.standard_normal((3, 2)) * 0.5, rng.standard_normal((3, 3)) * 0.5, rng.standard_normal(3) * 0.1
    xs, target = rng.standard_normal((6, 2)), rng.standard_normal(3)
    check_grads(rnn.rnn_loss, [wx, wh, b, xs, target])
    grads = s2sad.grad(rnn.rnn_loss, argnums=(0, 1, 2))(wx, wh, b, xs, target)
    for got, expected in zip(grads, rnn.rnn_loss_by_hand(wx, wh, b, xs, target)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_euler_integrator_with_a_data_dependent_step_count():
    args = [2.0, 0.3, 1.0, 0.0, 0.013, 1.0]  # 77 steps; t_end is 0.001 away from a step
    check_grads(ode.oscillator, args)
    euler = np.linalg.matrix_power(ode.euler_matrix(2.0, 0.3, 0.013), ode.steps(0.013, 1.0))
    np.testing.assert_allclose(s2sad.grad(ode.oscillator, argnums=(2, 3))(*args), euler[0], rtol=1e-12)
    assert s2sad.grad(ode.oscillator, argnums=5)(*args) == 0.0  # the step count is piecewise constant


@pytest.mark.parametrize("dt", [0.047, 0.0201, 0.11])
def test_euler_step_count_follows_the_step_size(dt):
    args = [2.0, 0.3, 1.0, 0.5, dt, 1.0]
    check_grads(ode.oscillator, args)
    for position in (2, 3):
        euler = np.linalg.matrix_power(ode.euler_matrix(2.0, 0.3, dt), ode.steps(dt, 1.0))
        assert slopes(ode.oscillator, args, position) == pytest.approx((euler[0, position - 2],) * 2, rel=1e-12)


@pytest.mark.parametrize("a", [0.5, 2.0, 9.0])
def test_newton_iteration_for_the_square_root(a):
    check_grads(newton.newton_sqrt, [a, 8])
    assert newton.newton_sqrt(a) == pytest.approx(math.sqrt(a), rel=1e-14)
    assert s2sad.grad(newton.newton_sqrt)(a) == pytest.approx(0.5 / math.sqrt(a), rel=1e-12)
    _, tangent = s2sad.jvp(newton.newton_sqrt, (a, 8), (1.0, 0))
    assert tangent == pytest.approx(0.5 / math.sqrt(a), rel=1e-12)
    assert s2sad.grad(s2sad.grad(newton.newton_sqrt))(a) == pytest.approx(-0.25 * a ** -1.5, rel=1e-10)


def test_convolution_with_loops_and_in_place_writes():
    rng = np.random.default_rng(1)
    signal, kernel, weights = rng.standard_normal(9), rng.standard_normal(3), rng.standard_normal(7)
    np.testing.assert_allclose(conv.correlate_valid(signal, kernel), np.correlate(signal, kernel, "valid"))
    check_grads(conv.conv_loss, [signal, kernel, weights])
    dsignal, dkernel, dweights = s2sad.grad(conv.conv_loss, argnums=(0, 1, 2))(signal, kernel, weights)
    np.testing.assert_allclose(dsignal, np.convolve(weights, kernel, "full"), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dkernel, np.correlate(signal, weights, "valid"), rtol=1e-12)
    np.testing.assert_allclose(dweights, np.correlate(signal, kernel, "valid"), rtol=1e-12)


def classification_data(seed=2, n=20, d=3):
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((n, d))
    labels = np.sign(features @ np.array([1.0, -2.0, 0.5]) + 0.5 * rng.standard_normal(n))
    return features, labels


def test_logistic_regression():
    features, labels = classification_data()
    w = np.array([0.3, -0.1, 0.2])
    check_grads(logistic.log_loss, [w, 0.2, features, labels])
    dw, db = s2sad.grad(logistic.log_loss, argnums=(0, 1))(w, 0.2, features, labels)
    ew, eb = logistic.log_loss_by_hand(w, 0.2, features, labels)
    np.testing.assert_allclose(dw, ew, rtol=1e-12)
    assert db == pytest.approx(eb, rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_two_layer_network_with_dict_parameters(dtype):
    rng = np.random.default_rng(3)
    params = mlp.init((3, 5, 2), dtype)
    inputs, targets = rng.standard_normal((8, 3)).astype(dtype), rng.standard_normal((8, 2)).astype(dtype)
    if dtype is np.float64:
        check_grads(mlp.mlp_loss, [params, inputs, targets])
    grads = s2sad.grad(mlp.mlp_loss)(params, inputs, targets)
    expected = mlp.mlp_loss_by_hand(params, inputs, targets)
    assert type(grads) is dict and list(grads) == list(params)
    for name, value in params.items():
        assert grads[name].shape == value.shape and grads[name].dtype == value.dtype, name
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-12 if dtype is np.float64 else 1e-5,
                                   atol=1e-15 if dtype is np.float64 else 1e-6)


# ---------------------------------------------------------------------------- scipy.optimize


def test_scipy_minimize_with_grad_as_jac():
    result = scipy.optimize.minimize(logistic.rosenbrock, np.zeros(4), jac=s2sad.grad(logistic.rosenbrock),
                                     method="BFGS", options={"gtol": 1e-8})
    assert result.success, result.message
    np.testing.assert_allclose(result.x, np.ones(4), atol=1e-6)
    np.testing.assert_allclose(s2sad.grad(logistic.rosenbrock)(result.x), 0.0, atol=1e-7)


def test_scipy_minimize_logistic_regression_with_grad():
    features, labels = classification_data()
    fun = logistic.penalised_loss
    result = scipy.optimize.minimize(fun, np.zeros(3), args=(features, labels), jac=s2sad.grad(fun), method="BFGS")
    assert result.success, result.message
    w = result.x
    loss_gradient, _ = logistic.log_loss_by_hand(w, 0.0, features, labels)
    np.testing.assert_allclose(loss_gradient + 0.1 * w, 0.0, atol=1e-5)  # stationary: the penalty balances


def product_loop(x):
    s = 1.0
    for _ in range(3):
        s = s * x
    return s


def test_value_and_grad_of_an_overwritten_output():
    assert s2sad.value_and_grad(product_loop)(2.0) == pytest.approx((8.0, 12.0))


def test_scipy_minimize_with_value_and_grad():
    result = scipy.optimize.minimize(s2sad.value_and_grad(logistic.rosenbrock), np.zeros(4), jac=True,
                                     method="BFGS", options={"gtol": 1e-8})
    assert result.success, result.message
    np.testing.assert_allclose(result.x, np.ones(4), atol=1e-6)


def test_scipy_minimize_with_value_and_grad_when_the_output_is_not_overwritten():
    features, labels = classification_data()
    result = scipy.optimize.minimize(s2sad.value_and_grad(logistic.log_loss), np.zeros(3), jac=True,
                                     args=(0.0, features, labels), method="BFGS")
    assert result.success, result.message
    np.testing.assert_allclose(logistic.log_loss_by_hand(result.x, 0.0, features, labels)[0], 0.0, atol=1e-5)


# ---------------------------------------------------------------------------- docs/programs.md


def test_programs_page_examples_run_and_show_real_output():
    page = "docs/programs.md"
    checked = check_page(page)
    assert checked
    if UPDATE_GOLDEN:
        rewrite(page, checked)
        return
    for block, wanted in checked:
        assert block.lines == wanted, f"{page}, line {block.first + 1}: output changed\n" + "\n".join(wanted)
