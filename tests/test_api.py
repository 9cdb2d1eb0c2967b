"""The public transforms on straight-line code: grad, value_and_grad, jvp, vjp, show.

Values are checked against closed forms and, through `s2sad.testing.check_grads`, against
central finite differences (forward mode) and the dot-product identity (reverse mode).
"""

import functools
import math

import numpy as np
import pytest

import s2sad
from s2sad.errors import CotangentError, UnsupportedSyntax
from s2sad.testing import check_grads

SCALE = 3.0
OFFSET = np.array([1.0, -2.0, 0.5])


def f(x, y):
    return x * y * y + np.sin(x)


def df(x, y):
    return (y * y + math.cos(x), 2 * x * y)


# ------------------------------------------------------------------ grad and argnums


def test_grad_as_a_bare_decorator():
    @s2sad.grad
    def square(x):
        return x * x

    assert square(3.0) == 6.0


def test_grad_as_a_decorator_with_options():
    @s2sad.grad(argnums=1)
    def h(x, y):
        return x * y * y

    assert h(2.0, 3.0) == pytest.approx(12.0)


@pytest.mark.parametrize("argnums, index", [(0, 0), (1, 1), (-1, 1), (-2, 0), ("x", 0), ("y", 1)])
def test_argnums_single(argnums, index):
    assert s2sad.grad(f, argnums=argnums)(0.5, 3.0) == pytest.approx(df(0.5, 3.0)[index], rel=1e-14)


@pytest.mark.parametrize("argnums, indices", [((0, 1), (0, 1)), ((1, 0), (1, 0)), ((-1, "x"), (1, 0)),
                                              (("y",), (1,)), ([0, "y"], (0, 1))])
def test_argnums_tuple_gives_a_tuple(argnums, indices):
    grads = s2sad.grad(f, argnums=argnums)(0.5, 3.0)
    assert isinstance(grads, tuple) and len(grads) == len(indices)
    assert grads == pytest.approx(tuple(df(0.5, 3.0)[i] for i in indices), rel=1e-14)


def test_arguments_by_keyword():
    assert s2sad.grad(f, argnums="y")(0.5, y=3.0) == pytest.approx(3.0, rel=1e-14)


def test_value_and_grad():
    value, grad = s2sad.value_and_grad(f)(0.5, 3.0)
    assert value == pytest.approx(f(0.5, 3.0), rel=1e-15)
    assert grad == pytest.approx(df(0.5, 3.0)[0], rel=1e-14)
    value, grads = s2sad.value_and_grad(f, argnums=(0, 1))(0.5, 3.0)
    assert value == pytest.approx(f(0.5, 3.0), rel=1e-15)
    assert grads == pytest.approx(df(0.5, 3.0), rel=1e-14)


# ------------------------------------------------------------------ jvp and vjp


def test_jvp_is_the_directional_derivative():
    out, tangent = s2sad.jvp(f, (0.5, 3.0), (2.0, -1.0))
    d = df(0.5, 3.0)
    assert out == pytest.approx(f(0.5, 3.0), rel=1e-15)
    assert tangent == pytest.approx(2.0 * d[0] - d[1], rel=1e-14)


def test_jvp_on_arrays(rng):
    x, dx = rng.standard_normal(4), rng.standard_normal(4)
    out, tangent = s2sad.jvp(sum_of_squares, (x,), (dx,))
    assert out == pytest.approx(np.sum(x * x), rel=1e-14)
    assert tangent == pytest.approx(2 * np.dot(x, dx), rel=1e-13)


def sum_of_squares(x):
    return np.sum(x * x)


def test_vjp_gives_one_cotangent_per_primal():
    out, pullback = s2sad.vjp(f, 0.5, 3.0)
    assert out == pytest.approx(f(0.5, 3.0), rel=1e-15)
    cotangents = pullback(2.0)
    assert isinstance(cotangents, tuple) and len(cotangents) == 2
    assert cotangents == pytest.approx(tuple(2.0 * d for d in df(0.5, 3.0)), rel=1e-14)


def test_pullback_called_twice_gives_the_same_answer():
    _, pullback = s2sad.vjp(f, 0.5, 3.0)
    first = pullback(1.0)
    second = pullback(1.0)
    assert first == second
    assert pullback(-1.0) == pytest.approx(tuple(-v for v in first), rel=1e-15)


def two_outputs(x, y):
    return x * y, np.exp(x) + y


def test_vjp_of_a_tuple_output():
    (p, q), pullback = s2sad.vjp(two_outputs, 0.5, 3.0)
    assert (p, q) == pytest.approx((1.5, math.exp(0.5) + 3.0), rel=1e-15)
    assert pullback((1.0, 0.0)) == pytest.approx((3.0, 0.5), rel=1e-15)
    assert pullback((0.0, 1.0)) == pytest.approx((math.exp(0.5), 1.0), rel=1e-15)
    assert pullback((2.0, -1.0)) == pytest.approx((6.0 - math.exp(0.5), 1.0 - 1.0), abs=1e-14)


def test_jvp_of_a_tuple_output():
    out, tangents = s2sad.jvp(two_outputs, (0.5, 3.0), (1.0, 2.0))
    assert out == pytest.approx((1.5, math.exp(0.5) + 3.0), rel=1e-15)
    assert tangents == pytest.approx((1.0 * 3.0 + 0.5 * 2.0, math.exp(0.5) + 2.0), rel=1e-15)


# ------------------------------------------------------------------ the transformed object


def test_transformed_object_exposes_fun_source_and_show(capsys):
    df_ = s2sad.grad(f, argnums=(0, 1))
    assert df_.fun is f
    assert df_.source.startswith("def f_grad(x, y):\n")
    assert "# line" in df_.source
    shown = df_.show()
    assert shown == df_.source
    assert capsys.readouterr().out == df_.source
    assert df_.__name__ == "f"
    assert "f" in repr(df_) and "x, y" in repr(df_)


def test_show_matches_the_transform():
    assert s2sad.show(f, argnums=(0, 1)) == s2sad.grad(f, argnums=(0, 1)).source
    forward = s2sad.show(f, mode="forward", argnums=(0, 1))
    assert forward.startswith("def f_jvp(x, y, dx, dy):\n")
    with pytest.raises(ValueError, match="mode must be"):
        s2sad.show(f, mode="sideways")


# ------------------------------------------------------------------ bound methods


class Spring:
    def __init__(self, k):
        self.k = k

    def energy(self, x):
        return 0.5 * x * x

    def scaled_energy(self, x):
        return 0.5 * self.k * x * x


def test_grad_of_a_bound_method():
    spring = Spring(4.0)
    assert s2sad.grad(spring.energy)(3.0) == pytest.approx(3.0)
    out, pullback = s2sad.vjp(spring.energy, 3.0)
    assert out == pytest.approx(4.5) and pullback(1.0) == pytest.approx((3.0,))


def test_grad_of_a_bound_method_reading_self_attributes():
    """Attributes of `self` are constants: d/dx (k x² / 2) = k x."""
    assert s2sad.grad(Spring(4.0).scaled_energy)(3.0) == pytest.approx(12.0)
    assert s2sad.grad(Spring(2.0).scaled_energy)(3.0) == pytest.approx(6.0)


# ------------------------------------------------------------------ straight-line programs


def unpack_and_swap(x, y):
    a, b = x, y
    a, b = b, a
    c, d = np.sin(a), b * 2.0
    return a * 10.0 + c + d


def test_tuple_unpacking_and_swaps():
    grads = s2sad.grad(unpack_and_swap, argnums=(0, 1))(0.5, 0.3)
    assert grads == pytest.approx((2.0, 10.0 + math.cos(0.3)), rel=1e-14)


def constants_and_literals(x):
    y = SCALE * x + 2 * x + math.pi * x - 1
    return np.sum(y * OFFSET) + 1e-3 * x


def test_module_constants_and_literals():
    expected = (SCALE + 2 + math.pi) * np.sum(OFFSET) + 1e-3
    assert s2sad.grad(constants_and_literals)(0.7) == pytest.approx(expected, rel=1e-14)


def augmented(x):
    y = x
    y *= x
    y += 3.0 * x
    y /= 2.0
    return y


def test_augmented_assignment():
    assert s2sad.grad(augmented)(1.5) == pytest.approx((2 * 1.5 + 3.0) / 2.0, rel=1e-15)


def test_float32_array_gives_float32_gradient():
    x = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    grad = s2sad.grad(sum_of_squares)(x)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-7)
    value, grad = s2sad.value_and_grad(sum_of_squares)(x)
    assert grad.dtype == np.float32 and np.asarray(value).dtype == np.float32


def scalar_mix(x):
    return np.exp(x) * 2.0 + math.sin(x)


def test_float32_scalar_gives_float32_gradient():
    grad = s2sad.grad(scalar_mix)(np.float32(0.5))
    assert isinstance(grad, np.float32)
    assert grad == pytest.approx(2 * math.exp(0.5) + math.cos(0.5), rel=1e-6)


def mlp_loss(w, x, y):
    return np.mean((np.tanh(x @ w) - y) ** 2) + np.log(np.sum(w * w))


def test_float32_through_matmul_and_reductions(rng):
    w = rng.standard_normal(3).astype(np.float32)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    y = rng.standard_normal(4).astype(np.float32)
    gw, gx = s2sad.grad(mlp_loss, argnums=(0, 1))(w, x, y)
    assert gw.dtype == np.float32 and gx.dtype == np.float32
    gw64, gx64 = s2sad.grad(mlp_loss, argnums=(0, 1))(w.astype(float), x.astype(float), y.astype(float))
    np.testing.assert_allclose(gw, gw64, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gx, gx64, rtol=1e-4, atol=1e-6)
    (cw, _, _) = s2sad.vjp(mlp_loss, w, x, y)[1](np.float32(1.0))
    assert cw.dtype == np.float32


def power(x, n):
    return x ** n


def test_integer_arguments_not_in_argnums_are_constants():
    assert s2sad.grad(power)(2.0, 3) == pytest.approx(12.0)
    assert s2sad.jvp(power, (2.0, 3), (1.0, 0)) == pytest.approx((8.0, 12.0))
    out, pullback = s2sad.vjp(power, 2.0, 3)
    assert out == 8.0
    grads = pullback(1.0)
    assert grads[0] == pytest.approx(12.0) and grads[1] is None


def rows(x, n):
    return np.sum(x.reshape((n, -1)).T @ x.reshape((n, -1)))


def test_integer_shape_argument_is_a_constant():
    x = np.arange(6.0)
    m = x.reshape((2, 3))
    expected = (2 * m @ np.ones((3, 3))).reshape(-1)  # d/dm sum(m^T m) = m (J + J^T)
    np.testing.assert_allclose(s2sad.grad(rows)(x, 2), expected, rtol=1e-14)
    check_grads(rows, (x, 3))


def several(a, b, u, v):
    return a * np.sum(u * v) + math.exp(b) * np.sum(np.sin(u)) + a * b


def test_several_float_and_array_arguments(rng):
    a, b, u, v = 0.7, -0.2, rng.standard_normal(5), rng.standard_normal(5)
    ga, gb, gu, gv = s2sad.grad(several, argnums=(0, 1, 2, 3))(a, b, u, v)
    assert ga == pytest.approx(np.sum(u * v) + b, rel=1e-13)
    assert gb == pytest.approx(math.exp(b) * np.sum(np.sin(u)) + a, rel=1e-13)
    np.testing.assert_allclose(gu, a * v + math.exp(b) * np.cos(u), rtol=1e-13)
    np.testing.assert_allclose(gv, a * u, rtol=1e-13)
    check_grads(several, (a, b, u, v))


def network(w, b, x, s):
    z = x @ w.T + b
    h = np.tanh(z).reshape(-1)
    q = np.sum(z * z, axis=1, keepdims=True)
    r = z.sum(axis=0)
    return math.exp(s) * np.sum(h) + np.mean(q / (1.0 + q)) * s + np.sum(r * r) / 10.0


def test_mixed_math_and_numpy_program(rng):
    w, b, x = rng.standard_normal((2, 3)), rng.standard_normal(2), rng.standard_normal((4, 3))
    check_grads(network, (w, b, x, 0.3))


def rows_then_squares(b, w, x):
    z = x @ w.T + b
    r = z.sum(axis=0)
    return np.sum(r * r) / 10.0


def test_broadcast_sum_closed_form(rng):
    """With w = 0, z is b broadcast over 4 rows: r = 4 b and d/db sum(r²)/10 = 2·4·(4 b)/10."""
    b = np.array([0.5, -1.0])
    grad = s2sad.grad(rows_then_squares)(b, np.zeros((2, 3)), rng.standard_normal((4, 3)))
    np.testing.assert_allclose(grad, 2 * 4 * (4 * b) / 10.0, rtol=1e-14)


def keepdims_normalise(x):
    total = x.sum(axis=1, keepdims=True)
    return np.sum((x / total) * np.log(x))


def test_sum_with_axis_and_keepdims(rng):
    x = rng.uniform(0.5, 2.0, (3, 4))
    check_grads(keepdims_normalise, (x,))
    grad = s2sad.grad(keepdims_normalise)(x)
    t = x.sum(axis=1, keepdims=True)
    expected = (np.log(x) + 1) / t - np.sum(x * np.log(x), axis=1, keepdims=True) / t ** 2
    np.testing.assert_allclose(grad, expected, rtol=1e-12)


def matrix_form(a, x):
    return x @ a @ x


def test_quadratic_form_closed_form(rng):
    a, x = rng.standard_normal((3, 3)), rng.standard_normal(3)
    ga, gx = s2sad.grad(matrix_form, argnums=(0, 1))(a, x)
    np.testing.assert_allclose(gx, (a + a.T) @ x, rtol=1e-13)
    np.testing.assert_allclose(ga, np.outer(x, x), rtol=1e-13)


def reshape_positional(x):
    return np.sum(x.reshape(2, 3) ** 2)


def test_reshape_with_separate_dimensions():
    np.testing.assert_allclose(s2sad.grad(reshape_positional)(np.arange(6.0)), 2 * np.arange(6.0))
    check_grads(reshape_positional, (np.arange(6.0),))


# ------------------------------------------------------------------ decorated functions


def doubled(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return 2.0 * fn(x)
    return wrapper


def forwarding(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)
    return wrapper


@doubled
def doubled_wave(x):
    return np.sum(np.sin(x) * x)


@doubled
@doubled
def quadrupled_cube(x):
    return x ** 3


def calls_doubled(x):
    return doubled_wave(x) + np.sum(x)


@forwarding
def forwarded_cube(x):
    return x ** 3


def test_a_decorated_function_is_differentiated_as_the_wrapper_in_every_mode(rng):
    x, v = rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 3)
    exact = 2.0 * (np.cos(x) * x + np.sin(x))
    hess = np.diag(2.0 * (2 * np.cos(x) - x * np.sin(x)))
    np.testing.assert_allclose(s2sad.grad(doubled_wave)(x), exact, rtol=1e-13)
    value, gradient = s2sad.value_and_grad(doubled_wave)(x)
    assert value == pytest.approx(doubled_wave(x), rel=1e-14)
    np.testing.assert_allclose(gradient, exact, rtol=1e-13)
    assert s2sad.jvp(doubled_wave, (x,), (v,))[1] == pytest.approx(exact @ v, rel=1e-13)
    pullback = s2sad.vjp(doubled_wave, x)[1]
    np.testing.assert_allclose(pullback(1.5)[0], 1.5 * exact, rtol=1e-13)
    np.testing.assert_array_equal(pullback(1.5)[0], pullback(1.5)[0])
    np.testing.assert_allclose(s2sad.hessian(doubled_wave)(x), hess, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(s2sad.hvp(doubled_wave)(x, v), hess @ v, rtol=1e-12)
    np.testing.assert_allclose(s2sad.jacrev(s2sad.grad(doubled_wave))(x), hess, rtol=1e-12, atol=1e-14)
    eps = 1e-6
    fd = (doubled_wave(x + eps * v) - doubled_wave(x - eps * v)) / (2 * eps)
    assert s2sad.grad(doubled_wave)(x) @ v == pytest.approx(fd, rel=1e-8)


def test_stacked_decorators_and_a_decorated_callee():
    assert s2sad.grad(quadrupled_cube)(1.5) == pytest.approx(4 * 3 * 1.5 ** 2)
    assert s2sad.jvp(quadrupled_cube, (1.5,), (1.0,))[1] == pytest.approx(4 * 3 * 1.5 ** 2)
    assert s2sad.grad(s2sad.grad(quadrupled_cube))(1.5) == pytest.approx(4 * 6 * 1.5)
    x = np.array([0.3, -0.4])
    exact = 2.0 * (np.cos(x) * x + np.sin(x)) + 1.0
    np.testing.assert_allclose(s2sad.grad(calls_doubled)(x), exact, rtol=1e-13)
    assert s2sad.jvp(calls_doubled, (x,), (np.ones(2),))[1] == pytest.approx(np.sum(exact), rel=1e-13)


@pytest.mark.parametrize("transform", [
    lambda f: s2sad.grad(f)(1.5), lambda f: s2sad.value_and_grad(f)(1.5),
    lambda f: s2sad.jvp(f, (1.5,), (1.0,)), lambda f: s2sad.vjp(f, 1.5), lambda f: s2sad.hessian(f)(1.5),
], ids=["grad", "value_and_grad", "jvp", "vjp", "hessian"])
def test_a_wrapper_passing_star_args_on_is_refused_at_its_line(transform):
    with pytest.raises(UnsupportedSyntax) as err:
        transform(forwarded_cube)
    assert err.value.where.filename == __file__
    assert err.value.where.line == forwarding.__code__.co_firstlineno + 1
    assert "wrapper(*args, **kwargs)" in str(err.value) and "__wrapped__" in err.value.hint


def calls_forwarded(x):
    return forwarded_cube(x) + x


def test_a_star_args_wrapper_called_from_differentiated_code_is_refused_at_its_line():
    with pytest.raises(UnsupportedSyntax, match=r"\*args") as err:
        s2sad.grad(calls_forwarded)(1.5)
    assert err.value.where.filename == __file__
    assert err.value.where.line == forwarding.__code__.co_firstlineno + 2
    assert "decorator's wrapper of forwarded_cube" in err.value.hint


# ------------------------------------------------------------------ pullback cotangents


def sine_and_norms(x):
    return np.sin(x) * 2.0, {"total": np.sum(x * x), "pair": (x[0], x[1] * x[0])}


@pytest.mark.parametrize(("cotangent", "message"), [
    (np.ones(4), r"the cotangent\[0\] is an array of shape \(4,\), but the output is an array of shape \(3,\)"),
    (np.ones((1, 3)), r"the cotangent\[0\] is an array of shape \(1, 3\)"),
    ((np.ones(3),), r"the cotangent\[0\] is a tuple of 1 items, but the output is an array of shape \(3,\)"),
    (1.0, r"the cotangent\[0\] is a number \(float\), but the output is an array of shape \(3,\)"),
], ids=["longer", "more-axes", "tuple", "number"])
def test_a_pullback_names_the_expected_shape_of_a_wrong_cotangent(cotangent, message):
    _, pullback = s2sad.vjp(sine_and_norms, np.array([0.3, 0.5, -0.2]))
    with pytest.raises(CotangentError, match=message) as err:
        pullback((cotangent, {"total": 1.0, "pair": (1.0, 1.0)}))
    assert err.value.where.filename == __file__


@pytest.mark.parametrize(("cotangent", "message"), [
    (np.ones(3), r"the cotangent is an array of shape \(3,\), but the output is a tuple of 2 items"),
    ([np.ones(3), {}], "the cotangent is a list"),
    ((np.ones(3),), "the cotangent has 1 items"),
    ((np.ones(3), {"total": 1.0}),
     r"the cotangent\[1\] has the keys 'total', but the output is a dict with the keys 'pair', 'total'"),
    ((np.ones(3), {"total": 1.0, "pair": (1.0, np.ones(2))}),
     r"the cotangent\[1\]\['pair'\]\[1\] is an array of shape \(2,\), but the output is a number"),
], ids=["array-for-tuple", "list-for-tuple", "short", "keys", "nested"])
def test_a_pullback_names_the_expected_structure_of_a_wrong_cotangent(cotangent, message):
    _, pullback = s2sad.vjp(sine_and_norms, np.array([0.3, 0.5, -0.2]))
    with pytest.raises(CotangentError, match=message):
        pullback(cotangent)


def test_a_pullback_takes_numbers_for_an_array_and_none_as_zero():
    x = np.array([0.3, 0.5, -0.2])
    _, pullback = s2sad.vjp(sine_and_norms, x)
    (first,) = pullback(([1.0, 0.0, 2.0], {"total": 0.0, "pair": (0.0, 0.0)}))
    np.testing.assert_allclose(first, 2.0 * np.cos(x) * [1.0, 0.0, 2.0], rtol=1e-14)
    (second,) = pullback((None, {"total": 1.0, "pair": (None, 0.0)}))
    np.testing.assert_allclose(second, 2 * x, rtol=1e-14)
    again = pullback((None, {"total": 1.0, "pair": (None, 0.0)}))
    np.testing.assert_array_equal(again[0], second)


def with_default(x, k=3.0):
    return k * x * x


def test_jvp_leaves_out_defaulted_parameters_as_constants():
    assert s2sad.jvp(with_default, (1.5,), (1.0,)) == (pytest.approx(6.75), pytest.approx(9.0))
    assert s2sad.jvp(with_default, (1.5, 2.0), (1.0, 0.0)) == (pytest.approx(4.5), pytest.approx(6.0))
    assert s2sad.jvp(with_default, (1.5, 2.0), (0.0, 1.0))[1] == pytest.approx(2.25)
    with pytest.raises(TypeError, match="takes 2 arguments; got 0 primals"):
        s2sad.jvp(with_default, (), ())


# ------------------------------------------------------------------ the call's fast path


def dict_loss(params, x):
    return np.sum(np.tanh(x * params["w"] + params["b"]) ** 2)


def dict_loss_grad(params, x):
    t = np.tanh(x * params["w"] + params["b"])
    d = 2 * t * (1 - t * t)
    return {"w": np.sum(d * x, axis=0), "b": np.sum(d, axis=0) if np.ndim(params["b"]) else float(np.sum(d))}


def test_a_repeated_call_takes_the_fast_path_and_gives_the_same_gradient(rng):
    grad = s2sad.grad(dict_loss)
    params, x = {"w": rng.standard_normal(3), "b": rng.standard_normal(3)}, rng.standard_normal((4, 3))
    first = grad(params, x)
    assert len(grad._fast) == 1
    for _ in range(2):
        params = {"w": rng.standard_normal(3), "b": rng.standard_normal(3)}
        again, expected = grad(params, x), dict_loss_grad(params, x)
        assert again.keys() == expected.keys() == first.keys()
        for key in expected:
            np.testing.assert_allclose(again[key], expected[key], rtol=1e-12)
    assert len(grad._fast) == 1


def test_the_fast_path_tells_apart_what_the_general_path_does(rng):
    """A float32 array, an integer, other dict keys or shapes after a float64 call of the same
    shape each take their own code: cast, refused or rebuilt as on a first call."""
    grad = s2sad.grad(sum_of_squares)
    x = rng.standard_normal(3)
    np.testing.assert_allclose(grad(x), 2 * x, rtol=1e-12)
    x32 = x.astype(np.float32)
    assert grad(x32).dtype == np.float32 and grad(x32).dtype == np.float32
    with pytest.raises(s2sad.errors.IntegerArgument):
        grad(np.arange(3))
    with pytest.raises(s2sad.errors.IntegerArgument):
        grad(np.arange(3))
    np.testing.assert_allclose(grad(np.ones((2, 2))), 2 * np.ones((2, 2)), rtol=1e-12)
    np.testing.assert_allclose(grad(1.5), 3.0, rtol=1e-12)
    with pytest.raises(s2sad.errors.IntegerArgument):
        grad(2)
    dict_grad = s2sad.grad(dict_loss)
    x2 = rng.standard_normal((4, 3))
    params = {"w": rng.standard_normal(3), "b": rng.standard_normal(3)}
    dict_grad(params, x2)
    swapped = {"b": params["b"], "w": params["w"]}
    got, expected = dict_grad(swapped, x2), dict_loss_grad(params, x2)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-12)
    with_float = {"w": rng.standard_normal(3), "b": 0.25}
    got, expected = dict_grad(with_float, x2), dict_loss_grad(with_float, x2)
    np.testing.assert_allclose(got["b"], expected["b"], rtol=1e-12)
    assert isinstance(got["b"], float)


def test_the_fast_path_sees_a_changed_global():
    global FACTOR
    grad = s2sad.grad(scaled)
    assert grad(2.0) == pytest.approx(3.0) and grad(2.0) == pytest.approx(3.0)
    FACTOR = 5.0
    try:
        assert grad(2.0) == pytest.approx(5.0)
    finally:
        FACTOR = 3.0


FACTOR = 3.0


def scaled(x):
    return FACTOR * x


def product_and_log(x1, x2):
    return np.log(x1) + x1 * x2


def test_show_prints_each_stage_for_given_kinds_as_the_cli_does():
    ir = s2sad.show(product_and_log, argnums=(0, 1), stage="ir", kinds=("scalar", "scalar"))
    assert ir == ("def product_and_log(x1, x2):\n    t1 = np.log(x1)\n    t2 = x1 * x2\n    t3 = t1 + t2\n"
                  "    return t3\n")
    activity = s2sad.show(product_and_log, argnums=0, stage="activity")
    assert "active: t1, t2, t3, x1\n" in activity
    scalar = s2sad.show(product_and_log, argnums=(0, 1), kinds=("scalar", "scalar"))
    assert "unbroadcast" not in scalar and scalar != s2sad.show(product_and_log, argnums=(0, 1))
    shaped = s2sad.show(product_and_log, kinds=("array", "array"), shapes=((3,), (3,)))
    assert shaped == s2sad.show(product_and_log, args=(np.ones(3), np.ones(3)))


def test_show_refuses_an_unknown_stage_and_args_with_kinds():
    with pytest.raises(ValueError, match="stage must be one of"):
        s2sad.show(product_and_log, stage="tape")
    with pytest.raises(ValueError, match="not both"):
        s2sad.show(product_and_log, args=(1.0, 2.0), kinds=("scalar", "scalar"))
