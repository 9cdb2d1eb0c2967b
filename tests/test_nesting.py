"""Nesting the Jacobian-like transforms: `jacfwd(jacrev(f))`, `jacfwd(jacfwd(f))`,
`jacrev(jacrev(f))`, `elementwise_grad(elementwise_grad(f))`, `jvp` of a Jacobian, third
derivatives, `hessian` of two arguments, and `grad` of a function that calls `grad` itself.

A Jacobian is assembled in Python from directional derivatives, and its own derivatives are
forward derivatives of those (a jvp of the jvp's code), so each result is checked against
central differences of the level below, which shares no code with it.
"""

import math

import numpy as np
import pytest

import s2sad


def central(fun, x, eps=1e-6):
    """d fun / d x by central differences: shape `out.shape + x.shape`."""
    x = np.asarray(x, dtype=float)
    out = np.asarray(fun(x))
    jac = np.zeros(out.shape + x.shape)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        jac[(...,) + index] = (np.asarray(fun(x + step)) - np.asarray(fun(x - step))) / (2 * eps)
    return jac


X = np.array([0.4, -0.9, 1.3])


def field(x):
    return np.sin(x) * x[0] + np.array([x[1] * x[2], np.exp(x[0]), x[2] ** 3])


def looped_field(x):
    out = np.zeros(2)
    for i in range(3):
        if x[i] > 0.0:
            out = out + np.array([x[i] ** 2, np.sin(x[i] * x[0])])
        else:
            out = out - np.array([np.tanh(x[i]), x[i] * x[1]])
    return out


INNER = {"jacfwd": s2sad.jacfwd, "jacrev": s2sad.jacrev}


@pytest.mark.parametrize("fun", [field, looped_field])
@pytest.mark.parametrize("outer", ["jacfwd", "jacrev"])
@pytest.mark.parametrize("inner", ["jacfwd", "jacrev"])
def test_a_jacobian_of_a_jacobian(fun, outer, inner):
    first = INNER[inner](fun)
    second = INNER[outer](first)(X)
    assert second.shape == np.shape(fun(X)) + X.shape + X.shape
    np.testing.assert_allclose(second, central(first, X), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(second, np.swapaxes(second, -1, -2), rtol=1e-12, atol=1e-14)


def energy(x):
    return np.sum(x ** 4) / 4 + x[0] * x[1] * x[2] + np.sin(x[1]) * x[2]


def test_jacobians_of_the_jacobian_of_a_scalar_function_are_its_hessian():
    hessian = s2sad.hessian(energy)(X)
    for nested in (s2sad.jacfwd(s2sad.jacrev(energy)), s2sad.jacrev(s2sad.jacfwd(energy)),
                   s2sad.jacfwd(s2sad.jacfwd(energy))):
        np.testing.assert_allclose(nested(X), hessian, rtol=1e-12)


def test_third_derivatives_by_three_jacobians_and_a_jacobian_of_the_hessian():
    third = s2sad.jacfwd(s2sad.jacrev(s2sad.jacfwd(field)))(X)
    assert third.shape == (3, 3, 3, 3)
    np.testing.assert_allclose(third, central(s2sad.jacfwd(s2sad.jacfwd(field)), X), rtol=1e-6, atol=1e-8)
    of_hessian = s2sad.jacfwd(s2sad.hessian(energy))(X)
    np.testing.assert_allclose(of_hessian, central(s2sad.hessian(energy), X), rtol=1e-6, atol=1e-8)
    expected = np.zeros((3, 3, 3))
    for i in range(3):
        expected[i, i, i] = 6 * X[i]
    for i, j, k in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
        expected[i, j, k] = 1.0  # x0 x1 x2
    expected[1, 1, 1] += -math.cos(X[1]) * X[2]  # sin(x1) x2
    expected[1, 1, 2] = expected[1, 2, 1] = expected[2, 1, 1] = -math.sin(X[1])
    np.testing.assert_allclose(of_hessian, expected, rtol=1e-12, atol=1e-14)


def test_jvp_of_a_jacobian():
    v = np.array([1.0, -0.5, 2.0])
    value, along = s2sad.jvp(s2sad.jacrev(field), (X,), (v,))
    np.testing.assert_allclose(value, s2sad.jacrev(field)(X), rtol=1e-14)
    np.testing.assert_allclose(along, central(s2sad.jacrev(field), X) @ v, rtol=1e-6, atol=1e-8)


def softplus(x):
    return np.log1p(np.exp(x)) * x


def test_elementwise_grad_of_elementwise_grad():
    x = np.linspace(-2.0, 2.0, 5)
    first = s2sad.elementwise_grad(softplus)
    second = s2sad.elementwise_grad(first)(x)
    np.testing.assert_allclose(second, np.diag(central(first, x)), rtol=1e-6)
    third = s2sad.elementwise_grad(s2sad.elementwise_grad(first))(x)
    np.testing.assert_allclose(third, np.diag(central(s2sad.elementwise_grad(first), x)), rtol=1e-5, atol=1e-8)


def pair(x, y):
    return np.array([np.sum(np.sin(x) * y), np.sum(x * x) * y[0]])


def test_nested_jacobians_with_tuples_of_argnums():
    y = np.array([0.7, -0.2])
    x = np.array([0.3, 1.1])
    inner = s2sad.jacrev(pair, argnums=(0, 1))
    # one Jacobian per outer argument, each with the inner output's structure: (dJx, dJy) along x, then y
    (jx_x, jy_x), (jx_y, jy_y) = s2sad.jacfwd(inner, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(jx_x, central(lambda x: inner(x, y)[0], x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jy_x, central(lambda x: inner(x, y)[1], x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jx_y, central(lambda y: inner(x, y)[0], y), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jy_y, central(lambda y: inner(x, y)[1], y), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jx_y, np.swapaxes(jy_x, 1, 2), rtol=1e-12, atol=1e-14)


def scaled_field(x, mu=1.0):
    return np.tanh(x * mu) * x[0]


def test_nested_jacobians_pass_keyword_arguments_through():
    nested = s2sad.jacfwd(s2sad.jacrev(scaled_field))(X, mu=0.5)
    np.testing.assert_allclose(nested, central(lambda x: s2sad.jacrev(scaled_field)(x, mu=0.5), X),
                               rtol=1e-6, atol=1e-8)


def dict_layer(params, x):
    return np.tanh(params["w"] @ x + params["b"])


def test_nested_jacobians_of_pytrees():
    params = {"w": np.array([[0.5, -1.0], [2.0, 0.3]]), "b": np.array([0.1, -0.2])}
    x = np.array([1.0, 0.5])
    nested = s2sad.jacfwd(s2sad.jacrev(dict_layer, argnums=1), argnums=1)(params, x)
    np.testing.assert_allclose(nested, central(lambda x: s2sad.jacrev(dict_layer, argnums=1)(params, x), x),
                               rtol=1e-6, atol=1e-8)
    mixed = s2sad.jacfwd(s2sad.jacrev(dict_layer, argnums=1), argnums=0)(params, x)
    assert mixed["w"].shape == (2, 2, 2, 2) and mixed["b"].shape == (2, 2, 2)


# ---------------------------------------------------------------- hessian of two arguments


def two(x, y):
    return np.sum(x * x * y) + np.sum(np.sin(x) * y * y) + x[0] * y[1] ** 3


def test_hessian_of_two_arguments_against_central_differences():
    x, y = np.array([1.0, 2.0]), np.array([0.5, 0.3])
    blocks = s2sad.hessian(two, argnums=(0, 1))(x, y)
    gradient = s2sad.grad(two, argnums=(0, 1))
    np.testing.assert_allclose(blocks[0][0], central(lambda x: gradient(x, y)[0], x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(blocks[0][1], central(lambda y: gradient(x, y)[0], y), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(blocks[1][0], central(lambda x: gradient(x, y)[1], x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(blocks[1][1], central(lambda y: gradient(x, y)[1], y), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(blocks[0][1], blocks[1][0].T, rtol=1e-12)


def scalar_two(a, b):
    return a ** 3 * b + math.exp(a * b)


def test_hessian_of_two_scalars_by_a_jacobian_of_a_jacobian():
    blocks = s2sad.hessian(scalar_two, argnums=(0, 1))(0.4, 1.2)
    nested = s2sad.jacfwd(s2sad.jacrev(scalar_two, argnums=(0, 1)), argnums=(0, 1))(0.4, 1.2)
    for i in range(2):
        for j in range(2):
            assert float(nested[j][i]) == pytest.approx(float(blocks[i][j]), rel=1e-12)


# ---------------------------------------------------------------- grad inside the function


def cube(x):
    return x ** 3


def uses_grad(x):
    return s2sad.grad(cube)(x) * x


def uses_value_and_grad(x, y):
    value, slope = s2sad.value_and_grad(cube)(x * y)
    return value + slope * y


def test_grad_of_a_function_that_calls_grad():
    assert s2sad.grad(uses_grad)(2.0) == pytest.approx(9 * 2.0 ** 2)
    assert s2sad.grad(s2sad.grad(uses_grad))(2.0) == pytest.approx(18 * 2.0)
    assert s2sad.hessian(uses_grad)(2.0) == pytest.approx(18 * 2.0)
    out, tangent = s2sad.jvp(uses_grad, (2.0,), (1.0,))
    assert (out, tangent) == pytest.approx((24.0, 36.0))


def test_grad_of_a_function_that_calls_value_and_grad_in_both_arguments():
    gradient = s2sad.grad(uses_value_and_grad, argnums=(0, 1))(0.7, 1.3)
    for i, got in enumerate(gradient):
        step = np.eye(2)[i] * 1e-6
        args = np.array([0.7, 1.3])
        numeric = (uses_value_and_grad(*(args + step)) - uses_value_and_grad(*(args - step))) / 2e-6
        assert got == pytest.approx(numeric, rel=1e-7)


# ---------------------------------------------------------------- what stays refused


def test_grad_of_a_jacobian_is_refused_with_what_works():
    with pytest.raises(s2sad.NoSource, match="jacfwd, jacrev, elementwise_grad or jvp") as info:
        s2sad.grad(s2sad.jacfwd(field))(X)
    assert "hessian" in info.value.hint


def scalar_energy(x):
    return np.sum(np.sin(x) * x)


def test_hessian_of_a_jacobian_and_a_jacobian_of_hvp_are_refused():
    with pytest.raises(s2sad.NoSource, match="no generated code"):
        s2sad.hessian(s2sad.jacrev(scalar_energy))(X)
    with pytest.raises(s2sad.NoSource, match="no generated code"):
        s2sad.jacfwd(s2sad.hvp(scalar_energy))(X, X)


class Spring:
    def __init__(self, k):
        self.k = k

    def force(self, x):
        return -self.k * np.sin(x) * x[0]


def test_nested_jacobians_of_a_bound_method():
    spring = Spring(2.0)
    nested = s2sad.jacfwd(s2sad.jacrev(spring.force))(X)
    np.testing.assert_allclose(nested, central(s2sad.jacrev(spring.force), X), rtol=1e-6, atol=1e-8)


def dict_row_times_row(x, y):
    c = {"c": y, "b": x}
    c["a"] = x[1]
    return c["a"] @ y[0]


def test_hessian_in_two_arguments_moves_every_argument():
    """The tester's seed 3207: a Jacobian taken one argument at a time ran a jvp in that argument
    alone, which crashed in the forward-over-reverse code; x[1] @ y[0] has the closed form
    d2/dx[1]dy[0] = I and zero second derivatives within x or within y."""
    x = np.array([[-0.977, 0.817, -0.481], [0.282, 1.194, 0.458]])
    y = np.array([[0.624, -0.209, -0.284], [0.498, -0.334, -0.328]])
    h = s2sad.hessian(dict_row_times_row, argnums=(0, 1))(x, y)
    expected_xy = np.zeros((2, 3, 2, 3))
    expected_xy[1, :, 0, :] = np.eye(3)
    assert np.allclose(h[0][1], expected_xy) and np.allclose(h[1][0], expected_xy.transpose(2, 3, 0, 1))
    assert np.allclose(h[0][0], 0.0) and np.allclose(h[1][1], 0.0)
    jf = s2sad.jacfwd(s2sad.grad(dict_row_times_row, argnums=1), argnums=0)(x, y)
    assert np.allclose(jf, expected_xy.transpose(2, 3, 0, 1))
