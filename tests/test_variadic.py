"""Functions with `*args` and `**kwargs`: the differentiated function and the helpers it calls
are specialised to the shape of each call (how many extra positional arguments, which extra
keywords), in every mode and at higher order; argnums counts the extra arguments and names the
extra keywords. Spreading a value of unknown length into such a helper stays refused.
"""

import numpy as np
import pytest

import s2sad
from s2sad.errors import ArgnumsError, MissingRule, UnsupportedValue
from s2sad.testing import check_grads

X = np.array([0.3, -0.7, 1.1])


def scaled_sum(x, *args):
    return x * sum(args)


def weighted(x, *args, scale=1.0, **kwargs):
    return scale * np.sum(x * args[0]) + kwargs["w"] * np.sum(x ** 2) + np.sum(args[-1] * np.sin(x))


def closed_form(x, a, b, scale, w):
    """The gradients of `weighted` in x, a, b and w."""
    return scale * a + 2 * w * x + b * np.cos(x), scale * x, np.sin(x), np.sum(x ** 2)


# ---------------------------------------------------------------- the differentiated function


def test_extra_positional_arguments_every_mode():
    assert s2sad.grad(scaled_sum)(1.5, 2.0, 3.0) == pytest.approx(5.0)
    assert s2sad.grad(scaled_sum, argnums=1)(1.5, 2.0, 3.0) == pytest.approx(1.5)
    assert s2sad.grad(scaled_sum, argnums=(0, 1, -1))(1.5, 2.0, 3.0) == pytest.approx((5.0, 1.5, 1.5))
    assert s2sad.value_and_grad(scaled_sum, argnums=2)(1.5, 2.0, 3.0) == pytest.approx((7.5, 1.5))
    assert s2sad.jvp(scaled_sum, (1.5, 2.0, 3.0), (1.0, 0.5, -1.0))[1] == pytest.approx(5.0 + 0.75 - 1.5)
    assert s2sad.vjp(scaled_sum, 1.5, 2.0, 3.0)[1](2.0) == pytest.approx((10.0, 3.0, 3.0))
    check_grads(scaled_sum, (1.5, 2.0, 3.0), order=2)
    check_grads(scaled_sum, (1.5, 2.0, 3.0, -4.0), order=2)


def test_each_call_shape_gets_its_own_code():
    gradient = s2sad.grad(scaled_sum, argnums=1)
    assert gradient(1.5, 2.0) == pytest.approx(1.5)
    assert gradient(1.5, 2.0, 3.0, 4.0) == pytest.approx(1.5)
    assert s2sad.grad(scaled_sum)(1.5) == 0.0  # no extra argument: sum(()) is 0
    assert sorted(gradient._shapes) == [(1, ()), (3, ())]
    assert "args_0" in gradient.for_shape((2, ())).source and "args_1" in gradient.for_shape((2, ())).source


def test_keywords_and_extra_keywords_every_mode():
    a, b = np.array([1.0, 2.0, -1.0]), np.array([0.5, -0.5, 2.0])
    exact = closed_form(X, a, b, 2.0, 0.7)
    found = s2sad.grad(weighted, argnums=(0, 1, 2, "w"))(X, a, b, scale=2.0, w=0.7)
    for f, e in zip(found, exact):
        np.testing.assert_allclose(f, e, rtol=1e-13)
    assert s2sad.grad(weighted, argnums="w")(X, a, b, w=0.7) == pytest.approx(exact[3])
    value, gradient = s2sad.value_and_grad(weighted, argnums=1)(X, a, b, scale=2.0, w=0.7)
    assert value == pytest.approx(weighted(X, a, b, scale=2.0, w=0.7))
    np.testing.assert_allclose(gradient, exact[1], rtol=1e-13)
    out, pullback = s2sad.vjp(lambda x, a, b, w: weighted(x, a, b, scale=2.0, w=w), X, a, b, 0.7)
    np.testing.assert_allclose(pullback(1.0)[1], exact[1], rtol=1e-13)
    check_grads(lambda x, a, b, w: weighted(x, a, b, scale=2.0, w=w), (X, a, b, 0.7), order=2)


def test_jacobians_and_hessians():
    a, b = np.array([1.0, 2.0, -1.0]), np.array([0.5, -0.5, 2.0])
    forward = s2sad.jacfwd(weighted, argnums=(0, "w"))(X, a, b, w=0.7)
    reverse = s2sad.jacrev(weighted, argnums=(0, "w"))(X, a, b, w=0.7)
    for f, r, e in zip(forward, reverse, (closed_form(X, a, b, 1.0, 0.7)[0], np.sum(X ** 2))):
        np.testing.assert_allclose(f, e, rtol=1e-13)
        np.testing.assert_allclose(r, e, rtol=1e-13)
    hessian = np.diag(2 * 0.7 - b * np.sin(X))
    np.testing.assert_allclose(s2sad.hessian(weighted)(X, a, b, w=0.7), hessian, rtol=1e-13)
    mixed = s2sad.hessian(weighted, argnums=(0, "w"))(X, a, b, w=0.7)
    np.testing.assert_allclose(mixed[0][1], 2 * X, rtol=1e-13)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(s2sad.hvp(weighted)(X, a, b, v, w=0.7), hessian @ v, rtol=1e-13)
    np.testing.assert_allclose(s2sad.jacfwd(s2sad.jacrev(weighted))(X, a, b, w=0.7), hessian, rtol=1e-13)


def test_derivatives_of_derivatives():
    assert s2sad.grad(s2sad.grad(scaled_sum, 1), 0)(1.5, 2.0, 3.0) == pytest.approx(1.0)
    assert s2sad.grad(s2sad.grad(scaled_sum, 0), 2)(1.5, 2.0, 3.0) == pytest.approx(1.0)
    assert s2sad.jvp(s2sad.grad(scaled_sum), (1.5, 2.0, 3.0), (0.0, 1.0, 1.0))[1] == pytest.approx(2.0)
    check_grads(s2sad.grad(scaled_sum, argnums=1), (1.5, 2.0, 3.0), order=2)


def positional_default(x, s=2.0, *args):
    return s * x ** 2 + sum(a * x for a in args)


def keyword_default(x, s=2.0, **kwargs):
    return s * x ** 2 + kwargs["w"] * x


def test_defaults_before_the_extra_arguments():
    assert s2sad.grad(positional_default)(1.5) == pytest.approx(6.0)
    assert s2sad.grad(positional_default, argnums=(0, 1, 2))(1.5, 3.0, 4.0) == pytest.approx((13.0, 2.25, 1.5))
    assert s2sad.grad(keyword_default, argnums=(0, "w"))(1.5, w=4.0) == pytest.approx((10.0, 1.5))
    check_grads(lambda x, w: keyword_default(x, w=w), (1.5, 4.0), order=2)


def uses_the_names(x, *args):
    args_0 = 2.0
    return x * args[0] * args_0


def test_the_extra_parameters_take_names_the_function_does_not_use():
    assert s2sad.grad(uses_the_names, argnums=1)(1.5, 3.0) == pytest.approx(3.0)


def keyword_order(x, **kwargs):
    out = 0.0
    for i, key in enumerate(kwargs):
        out = out + (i + 1) * kwargs[key] * x
    return out


def test_extra_keywords_keep_the_order_of_the_call():
    assert s2sad.grad(keyword_order)(1.0, a=1.0, b=10.0) == pytest.approx(21.0)
    assert s2sad.grad(keyword_order)(1.0, b=10.0, a=1.0) == pytest.approx(12.0)


# ---------------------------------------------------------------- helpers


def total(*terms, **opts):
    out = 0.0
    for t in terms:
        out = out + t
    return out * opts.get("scale", 1.0)


def first_times_second(*ts):
    return ts[0] * ts[1]


def calls_helpers(x):
    return first_times_second(x, x) + total(x, 2.0 * x, np.sin(x), scale=3.0) + total(x ** 3)


def test_helpers_with_star_args_every_mode():
    exact = 2 * 1.5 + 3.0 * (3.0 + np.cos(1.5)) + 3 * 1.5 ** 2
    assert s2sad.grad(calls_helpers)(1.5) == pytest.approx(exact, rel=1e-13)
    assert s2sad.value_and_grad(calls_helpers)(1.5)[1] == pytest.approx(exact, rel=1e-13)
    assert s2sad.jvp(calls_helpers, (1.5,), (1.0,))[1] == pytest.approx(exact, rel=1e-13)
    assert s2sad.vjp(calls_helpers, 1.5)[1](1.0)[0] == pytest.approx(exact, rel=1e-13)
    second = 2.0 - 3.0 * np.sin(1.5) + 6 * 1.5
    assert s2sad.hessian(calls_helpers)(1.5) == pytest.approx(second, rel=1e-12)
    assert s2sad.grad(s2sad.grad(calls_helpers))(1.5) == pytest.approx(second, rel=1e-12)
    check_grads(calls_helpers, (1.5,), order=2)


def keyword_helper(x, **opts):
    return x * opts["a"] + opts["b"] ** 2


def passes_keywords(x, y):
    return keyword_helper(x, a=y, b=x) + keyword_helper(y, b=1.0, a=2.0)


def test_helpers_with_star_star_kwargs_every_mode():
    assert s2sad.grad(passes_keywords, argnums=(0, 1))(1.5, 0.5) == pytest.approx((0.5 + 3.0, 1.5 + 2.0))
    check_grads(passes_keywords, (1.5, 0.5), order=2)
    np.testing.assert_allclose(s2sad.hessian(passes_keywords, argnums=(0, 1))(1.5, 0.5), [[2.0, 1.0], [1.0, 0.0]])


class Model:
    def __init__(self, bias):
        self.bias = bias

    def combine(self, x, *parts):
        return self.bias * x + sum(p * x for p in parts)

    def energy(self, x):
        return self.combine(x, x, 2.0)


def test_methods_with_star_args():
    model = Model(0.5)
    assert s2sad.grad(model.energy)(1.5) == pytest.approx(0.5 + 2 * 1.5 + 2.0)
    assert s2sad.grad(model.combine, argnums=1)(1.5, 2.0, 3.0) == pytest.approx(1.5)
    check_grads(model.energy, (1.5,), order=2)


def energy(x, *weights, offset=0.0):
    """A weighted sum of energies, one weight per term, and a helper summing the terms."""
    terms = [np.sum(x ** 2), np.sum(np.cos(x)), np.sum(x) ** 2]
    out = offset
    for w, term in zip(weights, terms):
        out = out + w * term
    return total(out, weights[0] * terms[0], scale=0.5) + total(weights[1] * terms[1], weights[2] * terms[2]) / 2


def test_a_realistic_energy_with_weights_differentiated():
    w = (1.5, -0.5, 0.25)
    gradients = s2sad.grad(energy, argnums=(0, 1, 2, 3))(X, *w, offset=1.0)
    exact_x = 2 * w[0] * X - w[1] * np.sin(X) + 2 * w[2] * np.sum(X)
    np.testing.assert_allclose(gradients[0], exact_x, rtol=1e-13)
    assert gradients[1:] == pytest.approx((np.sum(X ** 2), np.sum(np.cos(X)), np.sum(X) ** 2), rel=1e-13)
    check_grads(lambda x, a, b, c: energy(x, a, b, c, offset=1.0), (X, *w), order=2)
    jacobian = s2sad.jacrev(s2sad.grad(energy), argnums=(1, 2, 3))(X, *w)
    np.testing.assert_allclose(jacobian[0], 2 * X, rtol=1e-13)


# ---------------------------------------------------------------- refusals


def spreads_a_list(x, xs):
    return total(*[x * v for v in xs])


def test_spreading_a_value_of_unknown_length_into_a_star_args_helper_is_refused():
    with pytest.raises(MissingRule, match=r"spreads values that carry a derivative") as info:
        s2sad.grad(spreads_a_list)(1.5, [1.0, 2.0])
    assert info.value.where.filename == __file__
    assert info.value.where.line == spreads_a_list.__code__.co_firstlineno + 1
    assert "f(xs[0], xs[1]" in info.value.hint


def test_an_extra_keyword_that_is_no_name_is_refused():
    with pytest.raises(UnsupportedValue, match=r"keyword 'a b'") as info:
        s2sad.grad(keyword_order)(1.0, **{"a b": 1.0})
    assert info.value.where.filename == __file__
    assert info.value.where.line == keyword_order.__code__.co_firstlineno


def test_argnums_past_the_arguments_of_the_call_is_refused():
    with pytest.raises(ArgnumsError, match=r"argnums=3 but scaled_sum takes 3 parameters") as info:
        s2sad.grad(scaled_sum, argnums=3)(1.5, 2.0, 3.0)
    assert "extra ones included" in info.value.hint
    with pytest.raises(ArgnumsError, match="'v'"):
        s2sad.grad(weighted, argnums="v")(X, X, X, w=1.0)


# ---------------------------------------------------------------- repetition by a count in a name


def repeats_by_a_parameter(x, n):
    t = (x,) * n
    return sum(t) * t[-1]


def repeats_by_a_computed_count(x, ys):
    m = len(ys) + 1
    row = m * [x, 2.0 * x]
    return row[0] * row[-1] + len(row)


def times_a_weight(x, w):
    return np.sum((x, x * x) * w)


def test_repetition_by_a_count_held_in_a_name_every_mode():
    assert s2sad.grad(repeats_by_a_parameter)(1.5, 3) == pytest.approx(6 * 1.5)
    assert s2sad.value_and_grad(repeats_by_a_parameter)(1.5, 3) == pytest.approx((3 * 1.5 ** 2, 9.0))
    assert s2sad.jvp(repeats_by_a_parameter, (1.5, 3), (1.0, 0))[1] == pytest.approx(9.0)
    assert s2sad.vjp(repeats_by_a_parameter, 1.5, 3)[1](1.0) == (pytest.approx(9.0), None)
    assert s2sad.hessian(repeats_by_a_parameter)(1.5, 3) == pytest.approx(6.0)
    check_grads(repeats_by_a_parameter, (1.5, 3), order=2)
    check_grads(repeats_by_a_parameter, (1.5, np.int64(2)), order=2)
    assert s2sad.grad(repeats_by_a_computed_count)(1.5, [0.0, 0.0]) == pytest.approx(4 * 1.5)
    check_grads(repeats_by_a_computed_count, (1.5, [0.0, 0.0]), order=2)


def test_a_tuple_times_an_array_in_a_name_stays_elementwise():
    w = np.array([[2.0], [3.0]])
    x = np.array([0.5, -1.0])
    np.testing.assert_allclose(s2sad.grad(times_a_weight)(x, w), 2.0 + 3.0 * 2 * x, rtol=1e-13)
    check_grads(times_a_weight, (x, w), order=2)


def test_a_float_count_raises_what_python_raises():
    with pytest.raises(TypeError, match="non-int"):
        s2sad.grad(repeats_by_a_parameter)(1.5, 3.0)


# ---------------------------------------------------------------- zip(*rows): the transpose


def pairs_of_columns(rows):
    return sum(a * b for a, b in zip(*rows))


def columns_as_a_value(rows):
    cols = list(zip(*rows))
    out = 0.0
    for col in zip(*rows):
        out = out + col[0] * col[-1]
    return out + np.sum(np.array(cols[0]) ** 2)


def ragged_rows(x):
    rows = [(x[0], x[1], x[2]), [2.0 * x[0], x[1] ** 2]]
    out = 0.0
    for i, (a, b) in enumerate(zip(*rows)):
        out = out + (i + 1) * a * b
    return out


def test_zip_of_spread_rows_in_a_for_header_and_as_a_value():
    rows = [[1.0, 2.0], [3.0, 4.0]]
    assert s2sad.grad(pairs_of_columns)(rows) == [[3.0, 4.0], [1.0, 2.0]]
    assert s2sad.grad(columns_as_a_value)(rows) == [[5.0, 4.0], [7.0, 2.0]]
    assert s2sad.grad(pairs_of_columns)(((1.0, 2.0), (3.0, 4.0))) == ((3.0, 4.0), (1.0, 2.0))
    check_grads(pairs_of_columns, (rows,), order=2)
    check_grads(columns_as_a_value, (rows,), order=2)
    matrix = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_allclose(s2sad.grad(pairs_of_columns)(matrix), matrix[::-1], rtol=1e-15)
    check_grads(pairs_of_columns, (matrix,), order=2)


def test_zip_of_rows_of_different_lengths_every_mode():
    x = np.array([0.5, -1.5, 2.0])
    exact = np.array([4 * x[0], 6 * x[1] ** 2, 0.0])  # 2 x0^2 + 2 x1^3: zip drops x[2]
    np.testing.assert_allclose(s2sad.grad(ragged_rows)(x), exact, rtol=1e-14)
    assert s2sad.jvp(ragged_rows, (x,), (np.ones(3),))[1] == pytest.approx(np.sum(exact))
    np.testing.assert_allclose(s2sad.vjp(ragged_rows, x)[1](2.0)[0], 2 * exact, rtol=1e-14)
    np.testing.assert_allclose(s2sad.jacfwd(ragged_rows)(x), s2sad.jacrev(ragged_rows)(x), rtol=1e-14)
    np.testing.assert_allclose(s2sad.hessian(ragged_rows)(x), np.diag([4.0, 12 * x[1], 0.0]), rtol=1e-14)
    check_grads(ragged_rows, (x,), order=2)


# ---------------------------------------------------------------- passing *args and **kwargs on


def forwards(x, *args, **kwargs):
    return x * total(*args, **kwargs) + total(x, *args)


def rebinds_its_args(x, *args):
    args = args + (x,)
    return total(*args)


def test_the_functions_own_star_args_and_kwargs_passed_on():
    found = s2sad.grad(forwards, argnums=(0, 1, 2, "scale"))(1.5, 2.0, 3.0, scale=2.0)
    assert found == pytest.approx(((2.0 + 3.0) * 2.0 + 1.0, 1.5 * 2.0 + 1.0, 1.5 * 2.0 + 1.0, 1.5 * 5.0))
    assert s2sad.jvp(forwards, (1.5, 2.0), (1.0, 0.0))[1] == pytest.approx(3.0)
    check_grads(lambda x, a, b, s: forwards(x, a, b, scale=s), (1.5, 2.0, 3.0, 2.0), order=2)
    assert s2sad.hessian(forwards, argnums=(0, "scale"))(1.5, 2.0, 3.0, scale=2.0)[0][1] == pytest.approx(5.0)


def test_passing_on_star_args_rebound_in_the_body_is_refused():
    with pytest.raises(MissingRule, match="the call of total spreads values") as info:
        s2sad.grad(rebinds_its_args)(1.5, 2.0)
    assert info.value.where.line == rebinds_its_args.__code__.co_firstlineno + 2
