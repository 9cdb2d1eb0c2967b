"""Higher order: derivatives of derivatives to third order, Hessians, Jacobians, Hessian-vector
products, `elementwise_grad` and `has_aux`.

Generated code is fed back into the pipeline, so each nesting is checked against something
independent of it: closed forms for third derivatives, central differences of the gradient for
Hessians and Jacobians, and the other orders of composition (forward over reverse `hessian`,
reverse over forward, reverse over reverse `jacrev(grad(f))`), which share no generated code.
The functions include loops, branches, while loops and calls to user functions.
"""

import math

import numpy as np
import pytest
from scipy.optimize import minimize

import s2sad
from s2sad.api import Transformed
from s2sad.testing import check_grads, make_function

# ---------------------------------------------------------------------------- third derivatives


def cube(x):
    return x ** 3


def sine(x):
    return np.sin(x)


def exponential(x):
    return np.exp(x)


def x_sin_x(x):
    return x * np.sin(x)


def times(a, b):
    return a * b


def cube_by_loop(x):
    """x ** 3 through a loop, a branch that is not taken and a call."""
    s = 1.0
    for _ in range(3):
        s = times(s, x)
    if s > 1000.0:
        s = 0.0 * s
    return s


def cube_by_while(x):
    s = x
    n = 1
    while n < 3:
        s = s * x
        n = n + 1
    return s


S, C = math.sin(0.7), math.cos(0.7)
THIRD = [  # function, point, (f, f', f'', f''')
    (cube, 2.0, (8.0, 12.0, 12.0, 6.0)),
    (cube_by_loop, 2.0, (8.0, 12.0, 12.0, 6.0)),
    (cube_by_while, 2.0, (8.0, 12.0, 12.0, 6.0)),
    (sine, 0.7, (S, C, -S, -C)),
    (exponential, 0.3, (math.exp(0.3),) * 4),
    (x_sin_x, 0.7, (0.7 * S, S + 0.7 * C, 2 * C - 0.7 * S, -3 * S - 0.7 * C)),
]


@pytest.mark.parametrize(("fun", "x", "expected"), THIRD, ids=[t[0].__name__ for t in THIRD])
def test_third_derivative_by_nested_grad(fun, x, expected):
    d1 = s2sad.grad(fun)
    d2 = s2sad.grad(d1)
    d3 = s2sad.grad(d2)
    assert (fun(x), d1(x), d2(x), d3(x)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("fun", "x", "expected"), THIRD, ids=[t[0].__name__ for t in THIRD])
def test_third_derivative_by_jvp_of_grad_of_grad(fun, x, expected):
    second, third = s2sad.jvp(s2sad.grad(s2sad.grad(fun)), (x,), (1.0,))
    assert (second, third) == pytest.approx(expected[2:], rel=1e-12)


X, Y = 1.5, 2.5
LOG = math.log(X)
POWER_PARTIALS = [  # the order of differentiation (0: x, 1: y), d^3 (x ** y) in that order
    ((0, 0, 0), Y * (Y - 1) * (Y - 2) * X ** (Y - 3)),
    ((1, 1, 1), X ** Y * LOG ** 3),
    ((1, 0, 0), X ** (Y - 2) * (Y * (Y - 1) * LOG + 2 * Y - 1)),
    ((0, 1, 1), X ** (Y - 1) * LOG * (2 + Y * LOG)),
    ((1, 0, 1), X ** (Y - 1) * LOG * (2 + Y * LOG)),
]


def fresh_power():
    """A new `x ** y` for each case: derivatives of one function taken with respect to different
    arguments collide in linecache (see test_derivatives_wrt_different_arguments_do_not_collide)."""
    return make_function("def power(x, y):\n    return x ** y\n")


@pytest.mark.parametrize(("order", "expected"), POWER_PARTIALS, ids=[str(p[0]) for p in POWER_PARTIALS])
def test_third_partials_of_power_in_both_arguments(order, expected):
    a, b, c = order
    d2 = s2sad.grad(s2sad.grad(fresh_power(), argnums=a), argnums=b)
    assert s2sad.grad(d2, argnums=c)(X, Y) == pytest.approx(expected, rel=1e-12)
    direction = (1.0, 0.0) if c == 0 else (0.0, 1.0)
    assert s2sad.jvp(d2, (X, Y), direction)[1] == pytest.approx(expected, rel=1e-12)


def shift(y, x):
    return x + y


def scale(y, x):
    return x * y


shift_slope = s2sad.grad(shift)  # d/dy (x + y) = 1, whatever x
scale_slope = s2sad.grad(scale)  # d/dy (x y) = x


def times_shift_slope(x):
    return x * shift_slope(1.0, x)


def times_scale_slope(x):
    return x * scale_slope(1.0, x)


def test_no_perturbation_confusion():
    """d/dx (x * d/dy (x + y)) = 1: the inner derivative's tangent is not the outer one's."""
    assert s2sad.grad(times_shift_slope)(2.0) == 1.0
    assert s2sad.jvp(times_shift_slope, (2.0,), (1.0,)) == (2.0, 1.0)
    assert s2sad.grad(times_scale_slope)(2.0) == 4.0  # x ** 2
    assert s2sad.jvp(times_scale_slope, (2.0,), (1.0,)) == (4.0, 4.0)
    assert s2sad.grad(s2sad.grad(times_scale_slope))(2.0) == 2.0


# ---------------------------------------------------------------------------- Hessians


def quartic_form(x):
    return np.sum(x ** 4) * 0.25 + x[0] * x[1] * x[2] + np.sin(x @ x)


def weighted_exp(x):
    return np.sum(np.exp(x) * x[::-1])


def loop_branch_call(x):
    """A loop over the elements with a branch on each value, and a call."""
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            s = s + x[i] ** 3
        else:
            s = s + np.sin(x[i]) * x[0]
    return s + weighted_exp(x)


def damped_iteration(x):
    """A while loop whose trip count depends on the values, calling a helper at each step."""
    y = x
    n = 0
    while np.sum(y * y) > 0.05 and n < 20:
        y = step(y, x)
        n = n + 1
    return np.sum(y * x) + n * 0.0


def step(y, x):
    return 0.5 * np.tanh(y) + 0.1 * x * y


HESSIAN_CASES = [
    (quartic_form, np.array([0.3, -0.8, 1.1])),
    (loop_branch_call, np.array([0.5, -0.3, 1.2, -1.4])),
    (damped_iteration, np.array([0.4, -0.2, 0.6])),
]
IDS = [case[0].__name__ for case in HESSIAN_CASES]


def central_jacobian(fun, x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """d fun / d x by central differences, shape fun(x).shape + x.shape."""
    columns = []
    for index in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[index] = eps
        columns.append((np.asarray(fun(x + e)) - np.asarray(fun(x - e))) / (2 * eps))
    out_shape = np.shape(columns[0])
    return np.moveaxis(np.array(columns), 0, -1).reshape(out_shape + x.shape)


@pytest.mark.parametrize(("fun", "x"), HESSIAN_CASES, ids=IDS)
def test_hessian_against_differences_of_the_gradient(fun, x):
    hessian = s2sad.hessian(fun)(x)
    assert hessian.shape == x.shape + x.shape
    np.testing.assert_allclose(hessian, central_jacobian(s2sad.grad(fun), x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize(("fun", "x"), HESSIAN_CASES, ids=IDS)
def test_hessian_by_every_composition_of_modes(fun, x):
    forward_over_reverse = s2sad.hessian(fun)(x)
    reverse_over_reverse = s2sad.jacrev(s2sad.grad(fun))(x)
    tangent = Transformed(fun, "jvp", 0)  # x, dx -> (f(x), <grad f(x), dx>)
    directional = make_function("def directional(x, v):\n    return tangent(x, v)[1]\n", {"tangent": tangent})
    reverse_over_forward = np.array([s2sad.grad(directional)(x, e) for e in np.eye(x.size)])
    forward_over_forward = np.array([s2sad.jacfwd(directional)(x, e) for e in np.eye(x.size)])
    for other in (reverse_over_reverse, forward_over_forward, reverse_over_forward):
        np.testing.assert_allclose(other, forward_over_reverse, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize(("fun", "x"), HESSIAN_CASES, ids=IDS)
def test_hvp_is_the_hessian_times_the_vector(fun, x):
    v = np.random.default_rng(1).standard_normal(x.shape)
    np.testing.assert_allclose(s2sad.hvp(fun)(x, v), s2sad.hessian(fun)(x) @ v, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize(("fun", "x"), HESSIAN_CASES, ids=IDS)
def test_second_order_check_grads(fun, x):
    check_grads(fun, [x], order=2)


def layer_energy(w, x):
    return np.sum(np.tanh(w @ x) ** 2) + np.sum(w * w) * np.sum(x ** 3)


def test_hessian_of_a_matrix_argument_and_hvp_of_the_second_argument():
    rng = np.random.default_rng(2)
    w, x = rng.standard_normal((2, 3)), rng.standard_normal(3)
    hessian = s2sad.hessian(layer_energy)(w, x)
    assert hessian.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(hessian, central_jacobian(lambda w_: s2sad.grad(layer_energy)(w_, x), w),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hessian, hessian.transpose(2, 3, 0, 1), rtol=1e-12, atol=1e-14)
    v = rng.standard_normal(3)
    expected = central_jacobian(lambda x_: s2sad.grad(layer_energy, argnums=1)(w, x_), x) @ v
    np.testing.assert_allclose(s2sad.hvp(layer_energy, argnums=1)(w, x, v), expected, rtol=1e-6, atol=1e-8)


def two_scalars(x, y):
    return np.sin(x * y) + x ** 3 * y


def test_hessian_with_an_argnums_tuple_is_nested_by_argument():
    (hxx, hxy), (hyx, hyy) = s2sad.hessian(two_scalars, argnums=(0, 1))(0.7, 1.3)
    x, y = 0.7, 1.3
    s, c = math.sin(x * y), math.cos(x * y)
    assert hxx == pytest.approx(-y * y * s + 6 * x * y, rel=1e-12)
    assert hyy == pytest.approx(-x * x * s, rel=1e-12)
    assert hxy == hyx == pytest.approx(c - x * y * s + 3 * x * x, rel=1e-12)


# ---------------------------------------------------------------------------- Jacobians


def field(x):
    return np.outer(np.sin(x), x[:2]) * x[0]


def reduce_matrix(a):
    return np.sum(np.exp(a) * a, axis=1)


def scalar_to_vector(t):
    return np.array([np.cos(t), np.sin(t), t * t])


def vector_to_scalar(x):
    return np.sum(x ** 3) + x[0] * x[1]


JACOBIAN_CASES = [
    (field, np.array([0.3, -0.7, 1.1]), (3, 2, 3)),
    (reduce_matrix, np.arange(6.0).reshape(2, 3) / 4.0 - 0.5, (2, 2, 3)),
    (scalar_to_vector, np.float64(0.4), (3,)),
    (vector_to_scalar, np.array([0.2, 0.5]), (2,)),
]


@pytest.mark.parametrize(("fun", "x", "shape"), JACOBIAN_CASES, ids=[c[0].__name__ for c in JACOBIAN_CASES])
def test_jacfwd_equals_jacrev_and_differences(fun, x, shape):
    forward, reverse = s2sad.jacfwd(fun)(x), s2sad.jacrev(fun)(x)
    assert np.shape(forward) == np.shape(reverse) == shape
    np.testing.assert_allclose(forward, reverse, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(forward, central_jacobian(fun, np.asarray(x)), rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(s2sad.jacobian(fun)(x), reverse)


def two_inputs_two_outputs(x, y):
    return np.sin(x)[:, None] * y, np.sum(x * x) * y[0, 1]


def test_jacobians_with_an_argnums_tuple_are_nested_argument_then_output():
    x, y = np.array([0.5, -0.3, 1.2]), np.array([[1.0, 2.0]])
    forward = s2sad.jacfwd(two_inputs_two_outputs, argnums=(0, 1))(x, y)
    reverse = s2sad.jacrev(two_inputs_two_outputs, argnums=(0, 1))(x, y)
    shapes = [[(3, 2, 3), (3,)], [(3, 2, 1, 2), (1, 2)]]  # [argument][output]
    for by_arg_f, by_arg_r, by_arg_shape in zip(forward, reverse, shapes):
        for f, r, shape in zip(by_arg_f, by_arg_r, by_arg_shape):
            assert f.shape == r.shape == shape
            np.testing.assert_allclose(f, r, rtol=1e-13, atol=1e-14)
    dx_first = central_jacobian(lambda x_: two_inputs_two_outputs(x_, y)[0], x)
    dy_second = central_jacobian(lambda y_: two_inputs_two_outputs(x, y_)[1], y)
    np.testing.assert_allclose(forward[0][0], dx_first, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(forward[1][1], dy_second, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(forward[1][1], [[0.0, np.sum(x * x)]], rtol=1e-13)


def layer(params, x):
    h = np.tanh(params["w"] @ x + params["b"])
    return {"h": h, "norms": (np.sum(h * h), np.sum(params["w"] ** 2))}


def test_jacobians_of_pytrees_are_output_structure_outside_input_structure_inside():
    rng = np.random.default_rng(3)
    params = {"w": rng.standard_normal((2, 3)), "b": rng.standard_normal(2)}
    x = rng.standard_normal(3)
    forward, reverse = s2sad.jacfwd(layer)(params, x), s2sad.jacrev(layer)(params, x)
    assert forward["h"]["w"].shape == (2, 2, 3) and forward["h"]["b"].shape == (2, 2)
    assert forward["norms"][0]["w"].shape == (2, 3) and forward["norms"][1]["b"].shape == (2,)
    for path in [("h", "w"), ("h", "b"), ("norms", 0, "w"), ("norms", 0, "b"), ("norms", 1, "w"),
                 ("norms", 1, "b")]:
        f, r = forward, reverse
        for key in path:
            f, r = f[key], r[key]
        np.testing.assert_allclose(f, r, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(forward["norms"][1]["w"], 2 * params["w"], rtol=1e-14)
    np.testing.assert_array_equal(forward["norms"][1]["b"], 0.0)
    db = central_jacobian(lambda b: layer({"w": params["w"], "b": b}, x)["h"], params["b"])
    np.testing.assert_allclose(forward["h"]["b"], db, rtol=1e-7, atol=1e-9)


# ---------------------------------------------------------------------------- hvp and scipy


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hessp(x, v):
    """The Hessian of `rosenbrock` times v, written by hand."""
    hv = np.zeros_like(x)
    hv[:-1] += (1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0) * v[:-1] - 400.0 * x[:-1] * v[1:]
    hv[1:] += 200.0 * v[1:] - 400.0 * x[:-1] * v[:-1]
    return hv


def test_hvp_matches_the_hand_written_hessian_product():
    rng = np.random.default_rng(4)
    x, v = rng.standard_normal(10), rng.standard_normal(10)
    np.testing.assert_allclose(s2sad.hvp(rosenbrock)(x, v), rosenbrock_hessp(x, v), rtol=1e-12)


def test_trust_ncg_with_grad_and_hvp_finds_the_rosenbrock_minimum():
    x0 = np.array([-1.2, 1.0] * 5)
    result = minimize(rosenbrock, x0, method="trust-ncg", jac=s2sad.grad(rosenbrock),
                      hessp=s2sad.hvp(rosenbrock), options={"gtol": 1e-10})
    assert result.success, result.message
    np.testing.assert_allclose(result.x, np.ones(10), atol=1e-6)


# ---------------------------------------------------------------------------- has_aux


def loss_and_residuals(w):
    r = w * 2.0 - 1.0
    return np.sum(r ** 2), r


def several_returns(x, flag):
    if flag > 0:
        return x ** 2, "squared"
    y = x * 3.0
    if flag == 0:
        return np.sin(y), {"y": y}
    return y, None


def test_grad_with_aux_returns_the_gradient_and_the_aux():
    w = np.array([1.0, 2.0])
    g, aux = s2sad.grad(loss_and_residuals, has_aux=True)(w)
    np.testing.assert_array_equal(aux, [1.0, 3.0])
    np.testing.assert_allclose(g, 4.0 * aux, rtol=1e-15)
    (value, aux), g = s2sad.value_and_grad(loss_and_residuals, has_aux=True)(w)
    assert value == 10.0
    np.testing.assert_array_equal(aux, [1.0, 3.0])
    np.testing.assert_allclose(g, [4.0, 12.0], rtol=1e-15)


@pytest.mark.parametrize(("flag", "value", "slope", "aux"), [
    (1, 4.0, 4.0, "squared"),
    (0, math.sin(6.0), 3.0 * math.cos(6.0), {"y": 6.0}),
    (-1, 6.0, 3.0, None),
])
def test_has_aux_with_several_return_statements(flag, value, slope, aux):
    g, found = s2sad.grad(several_returns, has_aux=True)(2.0, flag)
    assert g == pytest.approx(slope, rel=1e-14) and found == aux
    (v, found), g = s2sad.value_and_grad(several_returns, has_aux=True)(2.0, flag)
    assert v == pytest.approx(value, rel=1e-14) and g == pytest.approx(slope, rel=1e-14) and found == aux


def aux_of_two(x, y):
    return x * y * y, {"sum": x + y}


def test_has_aux_with_an_argnums_tuple():
    (gx, gy), aux = s2sad.grad(aux_of_two, argnums=(0, 1), has_aux=True)(3.0, 2.0)
    assert (gx, gy, aux) == (4.0, 12.0, {"sum": 5.0})


# ---------------------------------------------------------------------------- elementwise_grad


def smooth_step(x):
    return np.tanh(x) * x ** 2 + np.exp(-x * x)


def rate(x, k):
    return k * np.log1p(x * x) / (1.0 + k)


def test_elementwise_grad_is_the_diagonal_of_the_jacobian():
    x = np.linspace(-2.0, 2.0, 7)
    derivative = s2sad.elementwise_grad(smooth_step)(x)
    np.testing.assert_allclose(derivative, np.diag(s2sad.jacobian(smooth_step)(x)), rtol=1e-14)
    t = np.tanh(x)
    closed = (1 - t * t) * x ** 2 + 2 * x * t - 2 * x * np.exp(-x * x)
    np.testing.assert_allclose(derivative, closed, rtol=1e-13, atol=1e-15)


def test_elementwise_grad_of_two_arguments():
    x, k = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 3.0])
    dx, dk = s2sad.elementwise_grad(rate, argnums=(0, 1))(x, k)
    jx, jk = s2sad.jacobian(rate, argnums=(0, 1))(x, k)
    np.testing.assert_allclose(dx, np.diag(jx), rtol=1e-14)
    np.testing.assert_allclose(dk, np.diag(jk), rtol=1e-14)
    np.testing.assert_allclose(dk, np.log1p(x * x) / (1 + k) ** 2, rtol=1e-14)


# ---------------------------------------------------------------------------- known bugs


def product_for_collision(x, y):
    return x * x * y


def test_derivatives_wrt_different_arguments_do_not_collide():
    f = product_for_collision
    s2sad.hessian(f, argnums=(0, 1))(0.7, 0.3)  # builds grad(f, argnums=(0, 1))
    s2sad.hvp(f, argnums=1)(0.7, 0.3, 1.0)  # builds grad(f, argnums=1): same pseudo-filename
    hessian = s2sad.jacrev(s2sad.grad(f, argnums=(0, 1)), argnums=(0, 1))(0.7, 0.3)
    # today: silently (1.4, 0.0), the derivative of grad(f, argnums=1)
    np.testing.assert_allclose(np.array(hessian, dtype=float), [[0.6, 1.4], [1.4, 0.0]], rtol=1e-14)


def inner_cell(h, w):
    return np.tanh(w * h)


def two_cells(w, h):
    return inner_cell(inner_cell(h, w), w)


def test_callee_derivatives_for_different_active_sets_do_not_collide():
    s2sad.grad(two_cells, argnums=0)(0.5, 0.3)  # inner_cell's derivative with respect to h and w
    s2sad.grad(two_cells, argnums=1)(0.5, 0.3)  # inner_cell's derivative with respect to h only
    check_grads(two_cells, [0.5, 0.3], order=2)


def sine_of_product(x, y):
    return np.sum(np.sin(x * y))


def test_derivatives_for_different_argument_kinds_do_not_collide():
    g = s2sad.grad(sine_of_product, argnums=1)
    x = np.array([0.5, 1.0, 2.0])
    value = np.sum(x * np.cos(3.0 * x))
    assert s2sad.jvp(g, (x, 3.0), (np.ones(3), 0.0))[0] == pytest.approx(value, rel=1e-14)  # generic code
    g(2.0, 3.0)  # the code for two floats, under the same pseudo-filename
    out, pullback = s2sad.vjp(g, x, 3.0)  # silently an array today
    np.testing.assert_allclose(out, value, rtol=1e-14)


def directional_derivative(x, v):
    return s2sad.jvp(sine, (x,), (v,))[1]


def test_grad_of_a_function_that_calls_jvp():
    assert s2sad.grad(directional_derivative)(0.7, 1.0) == pytest.approx(-math.sin(0.7))


def test_grad_of_a_jacobian_says_what_to_use_instead():
    """jacfwd/jacrev build their matrices in Python loops, not generated code: grad cannot read
    them (jacfwd and jacrev of them can, tests/test_nesting.py), and the error says what can."""
    x = np.array([0.3, -0.8, 1.1])
    with pytest.raises(s2sad.NoSource, match="hessian"):
        s2sad.grad(s2sad.jacfwd(quartic_form))(x)
    np.testing.assert_allclose(s2sad.jacfwd(s2sad.grad(quartic_form))(x), s2sad.hessian(quartic_form)(x),
                               rtol=1e-12)


# ---------------------------------------------------------------------------- bound methods


class Potential:
    def __init__(self, w):
        self.w = w

    def loss(self, x):
        return self.w * np.sum(np.sin(x) * x)

    def pair(self, x, y):
        return self.w * np.sum(np.sin(np.outer(x, y)))


def test_second_derivatives_of_a_bound_method_do_not_count_self():
    model = Potential(1.5)
    x, v = np.array([0.3, -0.8, 1.1]), np.array([0.4, 0.2, -0.9])
    exact = np.diag(model.w * (2 * np.cos(x) - x * np.sin(x)))
    gradient = s2sad.grad(model.loss)
    np.testing.assert_allclose(s2sad.hessian(model.loss)(x), exact, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(s2sad.hvp(model.loss)(x, v), exact @ v, rtol=1e-12)
    np.testing.assert_allclose(s2sad.jacfwd(gradient)(x), exact, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(s2sad.jacrev(gradient)(x), exact, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(central_jacobian(gradient, x), exact, rtol=1e-7, atol=1e-9)
    scalar = Potential(2.0)
    assert s2sad.grad(s2sad.grad(scalar.loss))(0.6) == pytest.approx(2.0 * (2 * math.cos(0.6) - 0.6 * math.sin(0.6)))
    assert s2sad.jvp(s2sad.grad(scalar.loss), (0.6,), (1.0,))[1] == pytest.approx(
        2.0 * (2 * math.cos(0.6) - 0.6 * math.sin(0.6)))
    third = s2sad.grad(s2sad.grad(s2sad.grad(scalar.loss)))(0.6)
    assert third == pytest.approx(2.0 * (-3 * math.sin(0.6) - 0.6 * math.cos(0.6)))


# ---------------------------------------------------------------------------- tuple argnums


def outer_wave(x, y):
    return np.sum(np.sin(np.outer(x, y)))


def outer_wave_blocks(x, y):
    """The Hessian blocks of `outer_wave`, by hand: H[i][j] has shape xᵢ.shape + xⱼ.shape."""
    p = np.outer(x, y)
    hxx = np.diag(np.sum(-(y * y) * np.sin(p), axis=1))
    hyy = np.diag(np.sum(-(x * x)[:, None] * np.sin(p), axis=0))
    hxy = np.cos(p) - p * np.sin(p)
    return ((hxx, hxy), (hxy.T, hyy))


def test_hessian_blocks_with_an_argnums_tuple_are_row_argument_then_column_argument(rng):
    x, y = rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 2)
    blocks = s2sad.hessian(outer_wave, argnums=(0, 1))(x, y)
    exact = outer_wave_blocks(x, y)
    for i, row in enumerate(exact):
        for j, block in enumerate(row):
            assert blocks[i][j].shape == block.shape == ((3, 2)[i], (3, 2)[j])
            np.testing.assert_allclose(blocks[i][j], block, rtol=1e-12, atol=1e-14)
    gradient = s2sad.grad(outer_wave, argnums=(0, 1))
    np.testing.assert_allclose(central_jacobian(lambda y_: gradient(x, y_)[0], y), blocks[0][1], rtol=1e-7, atol=1e-9)
    reverse = s2sad.jacrev(gradient, argnums=(0, 1))(x, y)  # [argument][output]: the transpose of H's nesting
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(reverse[j][i], blocks[i][j], rtol=1e-12, atol=1e-14)


def test_hvp_with_an_argnums_tuple_takes_one_direction_per_argument(rng):
    x, y = rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 2)
    vx, vy = rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 2)
    (hxx, hxy), (hyx, hyy) = outer_wave_blocks(x, y)
    px, py = s2sad.hvp(outer_wave, argnums=(0, 1))(x, y, (vx, vy))
    np.testing.assert_allclose(px, hxx @ vx + hxy @ vy, rtol=1e-12)
    np.testing.assert_allclose(py, hyx @ vx + hyy @ vy, rtol=1e-12)
    (only_y,) = s2sad.hvp(outer_wave, argnums=(1,))(x, y, (vy,))
    np.testing.assert_allclose(only_y, hyy @ vy, rtol=1e-12)
    np.testing.assert_allclose(s2sad.hvp(outer_wave, argnums=1)(x, y, vy), hyy @ vy, rtol=1e-12)
    with pytest.raises(ValueError, match="tuple of 2 directions"):
        s2sad.hvp(outer_wave, argnums=(0, 1))(x, y, vx)


def test_hessian_blocks_and_hvp_of_a_bound_method_with_an_argnums_tuple(rng):
    model = Potential(0.5)
    x, y = rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 2)
    vx, vy = rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 2)
    exact = outer_wave_blocks(x, y)
    blocks = s2sad.hessian(model.pair, argnums=(0, 1))(x, y)
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(blocks[i][j], 0.5 * exact[i][j], rtol=1e-12, atol=1e-14)
    px, py = s2sad.hvp(model.pair, argnums=("x", "y"))(x, y, (vx, vy))
    np.testing.assert_allclose(px, 0.5 * (exact[0][0] @ vx + exact[0][1] @ vy), rtol=1e-12)
    np.testing.assert_allclose(py, 0.5 * (exact[1][0] @ vx + exact[1][1] @ vy), rtol=1e-12)
    forward = s2sad.jacfwd(s2sad.grad(model.pair, argnums=(0, 1)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(forward[1][0], blocks[0][1], rtol=1e-12, atol=1e-14)


def decaying_loop(x, n):
    s = x
    for _ in range(n):
        s = s * 0.99 + math.sin(s) * x
    return s


def test_the_code_differentiated_again_is_the_gradient_for_the_arguments():
    """A Hessian (forward over reverse) differentiates the gradient's code for the same kinds and
    shapes of arguments: a loop's numbers in one list indexed by the trip, not a generic tape of
    appends and pops (the Hessian of the scalar loop ran four times slower that way)."""
    forward_of_grad = s2sad.show(s2sad.grad(decaying_loop), mode="forward", args=(0.3, 5))
    assert "s_trips" in forward_of_grad and "tape" not in forward_of_grad
    assert "tape" in s2sad.show(s2sad.grad(decaying_loop), mode="forward")  # the code for any kinds
    h = 1e-5
    differences = (s2sad.grad(decaying_loop)(0.3 + h, 5) - s2sad.grad(decaying_loop)(0.3 - h, 5)) / (2 * h)
    assert s2sad.hessian(decaying_loop)(0.3, 5) == pytest.approx(differences, rel=1e-7)
    x = np.linspace(-1.0, 1.0, 6)
    for fun in (lambda v: np.sum(np.tanh(v) * v), lambda v: np.sum(v[1:] * v[:-1] ** 2)):
        np.testing.assert_allclose(s2sad.hvp(fun)(x, x * 0.5), s2sad.hessian(fun)(x) @ (x * 0.5), rtol=1e-12)
