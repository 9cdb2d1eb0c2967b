"""API parity with JAX and autograd: how the transforms are called.

`jvp` with trailing defaults left out, keyword arguments passed through every Jacobian-like
transform, `argnums` by position in every transform (`grad(f, 1)`), `hvp` with a tuple of
argnums and `hessp(x, p, *args)` for `scipy.optimize.minimize`, and `grad` of an array holding
one number (shape `(1,)` or `(1, 1)`), accepted as autograd accepts it. Each derivative is
checked against central differences.
"""

import inspect

import numpy as np
import pytest
from scipy.optimize import minimize

import s2sad


def central(fun, x, eps=1e-6):
    """d fun / d x by central differences: shape `out.shape + x.shape` (x a float or an array)."""
    x = np.asarray(x, dtype=float)
    out = np.asarray(fun(x[()] if x.ndim == 0 else x))
    jac = np.zeros(out.shape + x.shape)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        plus, minus = (np.asarray(fun((x + s)[()] if x.ndim == 0 else x + s)) for s in (step, -step))
        jac[(...,) + index] = (plus - minus) / (2 * eps)
    return jac


X = np.array([0.4, -0.9, 1.3])

# ---------------------------------------------------------------- jvp with defaults left out


def scaled(x, y, a=2.0, b=3.0):
    return np.sin(x) * y * a + b * x


@pytest.mark.parametrize("given", [2, 3, 4])
def test_jvp_with_trailing_defaults_left_out(given):
    primals = (0.7, 1.5, 2.5, -1.0)[:given]
    tangents = (1.0, 0.5, 0.25, 2.0)[:given]
    out, tangent = s2sad.jvp(scaled, primals, tangents)
    assert out == pytest.approx(scaled(*primals))
    numeric = central(lambda e: scaled(*(p + e * t for p, t in zip(primals, tangents))), 0.0)
    assert tangent == pytest.approx(float(numeric), rel=1e-7)


def test_jvp_of_a_gradient_with_defaults_left_out():
    out, tangent = s2sad.jvp(s2sad.grad(scaled), (0.7, 1.5), (1.0, 0.0))
    assert out == pytest.approx(np.cos(0.7) * 1.5 * 2.0 + 3.0)
    assert tangent == pytest.approx(-np.sin(0.7) * 1.5 * 2.0)


def test_jvp_without_a_required_argument_is_refused():
    with pytest.raises(TypeError, match="takes 4 arguments; got 1 primals"):
        s2sad.jvp(scaled, (0.7,), (1.0,))


# ---------------------------------------------------------------- keyword arguments passed through


def damped(x, mu=1.0, power=2):
    return np.sin(x) * mu + np.cosh(x) ** power / power


def damped_sum(x, mu=1.0, power=2):
    return np.sum(damped(x, mu, power))


@pytest.mark.parametrize("transform", [s2sad.jacobian, s2sad.jacrev, s2sad.jacfwd])
def test_jacobians_pass_keyword_arguments_through(transform):
    got = transform(damped)(X, mu=2.5)
    np.testing.assert_allclose(got, central(lambda x: damped(x, mu=2.5), X), rtol=1e-7, atol=1e-9)
    got = transform(damped)(X, power=3)  # mu left out before a keyword: its default
    np.testing.assert_allclose(got, central(lambda x: damped(x, power=3), X), rtol=1e-7, atol=1e-9)


def damped_fixed(x):
    return damped_sum(x, mu=-1.5, power=3)


def test_hessian_hvp_and_elementwise_grad_pass_keyword_arguments_through():
    exact = central(s2sad.grad(damped_fixed), X)
    np.testing.assert_allclose(s2sad.hessian(damped_sum)(X, mu=-1.5, power=3), exact, rtol=1e-7, atol=1e-9)
    v = np.array([1.0, 0.5, -2.0])
    np.testing.assert_allclose(s2sad.hvp(damped_sum)(X, v, mu=-1.5, power=3), exact @ v, rtol=1e-7)
    diagonal = np.diag(central(lambda x: damped(x, mu=0.5), X))
    np.testing.assert_allclose(s2sad.elementwise_grad(damped)(X, mu=0.5), diagonal, rtol=1e-7)


def test_a_keyword_argument_can_be_the_one_differentiated():
    got = s2sad.jacfwd(damped, argnums="mu")(X, mu=2.0)
    np.testing.assert_allclose(got, np.sin(X), rtol=1e-12)
    got = s2sad.hessian(damped_sum, argnums=(0, 1))(X, mu=2.0)
    np.testing.assert_allclose(got[0][1], -0.0 * X + np.cos(X), rtol=1e-12)


# ---------------------------------------------------------------- argnums by position


def bilinear(x, y):
    return np.sum(np.sin(x) * y * y)


@pytest.mark.parametrize("transform", [s2sad.grad, s2sad.value_and_grad, s2sad.jacfwd, s2sad.jacrev,
                                       s2sad.jacobian, s2sad.hessian, s2sad.hvp, s2sad.elementwise_grad])
def test_every_transform_takes_argnums_second(transform):
    parameters = list(inspect.signature(transform).parameters.values())
    assert parameters[1].name == "argnums"
    assert parameters[1].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD


def test_grad_and_value_and_grad_with_positional_argnums():
    y = np.array([2.0, -1.0, 0.5])
    np.testing.assert_allclose(s2sad.grad(bilinear, 1)(X, y), 2 * np.sin(X) * y, rtol=1e-12)
    value, gradient = s2sad.value_and_grad(bilinear, (0, 1))(X, y)
    assert value == pytest.approx(bilinear(X, y))
    np.testing.assert_allclose(gradient[0], np.cos(X) * y * y, rtol=1e-12)
    np.testing.assert_allclose(s2sad.hessian(bilinear, 1)(X, y), np.diag(2 * np.sin(X)), rtol=1e-12)
    np.testing.assert_allclose(s2sad.elementwise_grad(bilinear, 1)(X, y), 2 * np.sin(X) * y, rtol=1e-12)


def test_decorator_forms_still_work():
    @s2sad.grad(argnums=1)
    def product(x, y):
        return x * y

    @s2sad.value_and_grad
    def square(x):
        return x * x

    assert product(2.0, 7.0) == 2.0
    assert square(3.0) == (9.0, 6.0)


# ---------------------------------------------------------------- hvp and hessp


def coupled(x, y):
    return np.sum(x ** 2 * y) + np.sum(np.sin(x)) * np.sum(y ** 3)


def test_hvp_with_a_tuple_of_argnums_against_the_hessian_blocks():
    y = np.array([0.3, 0.8, -0.2])
    vx, vy = np.array([1.0, 0.0, 2.0]), np.array([-1.0, 0.5, 0.0])
    blocks = s2sad.hessian(coupled, argnums=(0, 1))(X, y)
    hx, hy = s2sad.hvp(coupled, argnums=(0, 1))(X, y, (vx, vy))
    np.testing.assert_allclose(hx, blocks[0][0] @ vx + blocks[0][1] @ vy, rtol=1e-12)
    np.testing.assert_allclose(hy, blocks[1][0] @ vx + blocks[1][1] @ vy, rtol=1e-12)
    exact_xx = central(lambda x: s2sad.grad(coupled)(x, y), X)  # d(grad in x)/dx
    np.testing.assert_allclose(blocks[0][0], exact_xx, rtol=1e-7, atol=1e-8)


def rosenbrock_scaled(x, a, b):
    return np.sum(b * (x[1:] - x[:-1] ** 2) ** 2 + (a - x[:-1]) ** 2)


def test_hessp_takes_the_vector_second_as_scipy_calls_it():
    x, p = np.array([0.5, -0.3, 1.2]), np.array([1.0, 2.0, -0.5])
    exact = central(lambda x: s2sad.grad(rosenbrock_scaled)(x, 1.0, 10.0), x)
    np.testing.assert_allclose(s2sad.hessp(rosenbrock_scaled)(x, p, 1.0, 10.0), exact @ p, rtol=1e-7)
    np.testing.assert_allclose(s2sad.hessp(rosenbrock_scaled)(x, p, 1.0, b=10.0), exact @ p, rtol=1e-7)


def test_hessp_in_scipy_trust_ncg_with_args():
    x0, args = np.array([0.5, 0.5, 0.5]), (1.5, 20.0)
    result = minimize(rosenbrock_scaled, x0, args=args, method="trust-ncg",
                      jac=s2sad.grad(rosenbrock_scaled), hessp=s2sad.hessp(rosenbrock_scaled),
                      options={"gtol": 1e-8})
    assert result.success
    assert np.max(np.abs(s2sad.grad(rosenbrock_scaled)(result.x, *args))) < 1e-8
    plain = minimize(rosenbrock_scaled, x0, args=args, method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(result.x, plain.x, rtol=1e-5)


def test_hvp_keeps_the_vector_last():
    x, p = np.array([0.5, -0.3, 1.2]), np.array([1.0, 2.0, -0.5])
    np.testing.assert_allclose(s2sad.hvp(rosenbrock_scaled)(x, 1.0, 10.0, p),
                               s2sad.hessp(rosenbrock_scaled)(x, p, 1.0, 10.0), rtol=1e-14)


# ---------------------------------------------------------------- size-1 outputs


def affine_one(x, w):
    return np.tanh(w @ x)  # w of shape (1, 3): an output of shape (1,)


def outer_one(x):
    return np.sum(x).reshape(1, 1) * x[0]


def looped_one(x):
    y = np.zeros(1)
    for i in range(3):
        y = y + x[i] ** 2 * x[0]
    return y


W = np.array([[1.0, 2.0, -1.0]])


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize("fun, args", [(affine_one, (X, W)), (outer_one, (X,)), (looped_one, (X,))])
def test_grad_of_a_size_one_output_is_the_gradient_of_its_number(fun, args, optimize):
    exact = central(lambda x: fun(x, *args[1:]), X).reshape(X.shape)
    np.testing.assert_allclose(s2sad.grad(fun, optimize=optimize)(*args), exact, rtol=1e-7)
    value, gradient = s2sad.value_and_grad(fun, optimize=optimize)(*args)
    np.testing.assert_array_equal(value, fun(*args))  # the value keeps its shape
    np.testing.assert_allclose(gradient, exact, rtol=1e-7)
    forward = s2sad.jvp(fun, args, (np.ones(3),) + tuple(np.zeros_like(a) for a in args[1:]))[1]
    np.testing.assert_allclose(forward, exact.sum(keepdims=True).reshape(np.shape(fun(*args))), rtol=1e-7)


def test_hessian_and_grad_of_grad_of_a_size_one_output():
    exact = central(s2sad.grad(looped_one), X)
    np.testing.assert_allclose(s2sad.hessian(looped_one)(X), exact, rtol=1e-7, atol=1e-8)
    assert s2sad.grad(s2sad.grad(lambda_one))(np.array([1.5])) == pytest.approx([6 * 1.5])


def lambda_one(x):
    return x ** 3


def test_a_size_one_float32_output_keeps_its_dtype():
    gradient = s2sad.grad(lambda_one)(np.array([2.0], dtype=np.float32))
    assert gradient.dtype == np.float32 and gradient.shape == (1,)
    assert gradient[0] == pytest.approx(12.0)


def test_an_output_of_two_numbers_is_still_refused():
    with pytest.raises(s2sad.NonScalarOutput, match=r"\(2,\)"):
        s2sad.grad(lambda_one)(np.array([1.0, 2.0]))
