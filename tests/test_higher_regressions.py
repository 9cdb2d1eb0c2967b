"""Regressions of higher-order derivatives and shape specialisation.

- A float argument whose function returns an array: its cotangent is summed back to a float
  (the adjoint sweep of a vjp knows nothing of the output's shape from the input kinds).
- Forward over reverse through a loop that overwrites a variable: a tangent the loop body
  leaves zero is a real zero for the next trip.
- Reverse over reverse where a branch that assigns is not taken: the adjoint of a name the
  primal sweep never assigned is made without reading the name.
- Reverse over reverse through (nested) comprehensions, in a helper and in the function.

Every value is checked against something independent of the code under test: central
differences of the gradient (in a seeded random direction for arrays), closed forms, and
forward against reverse by the dot-product identity.
"""

import math

import numpy as np
import pytest

from s2sad import grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp, value_and_grad, vjp

RTOL, ATOL = 1e-6, 1e-8


def fd(fun, x, eps=1e-6):
    """Central differences of `fun` at `x` (a float or an array): the Jacobian, `out + in` shape."""
    if isinstance(x, float):
        return (np.asarray(fun(x + eps)) - np.asarray(fun(x - eps))) / (2 * eps)
    columns = []
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        columns.append((np.asarray(fun(x + step)) - np.asarray(fun(x - step))) / (2 * eps))
    out = np.stack(columns, axis=-1)
    return out.reshape(out.shape[:-1] + x.shape)


def close(actual, desired, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(desired, float), rtol=rtol, atol=atol)


def direction(x, seed=0):
    rng = np.random.default_rng(seed)
    return float(rng.normal()) if isinstance(x, float) else rng.normal(size=np.shape(x))


# ---------------------------------------------------------------------------- a float in, an array out


def ramp(p):
    return np.arange(4) * 0.3 + p


def scaled_ones(p):
    return np.ones(3) * p


def minus_ramp(p):
    return p - np.arange(3.0)


def squares(p):
    return (np.arange(3.0) + p) ** 2


def sine_ramp(p):
    return np.sin(np.linspace(0.0, 1.0, 5) * p)


def clipped(p):
    return np.maximum(np.arange(4.0) - 1.5, p)


def two_args(p, q):
    return q * p + p


FLOAT_TO_ARRAY = [ramp, scaled_ones, minus_ramp, squares, sine_ramp, clipped]


def test_vjp_of_a_float_argument_is_summed_back():
    out, pullback = vjp(ramp, 0.5)
    close(out, np.arange(4) * 0.3 + 0.5)
    (cotangent,) = pullback(np.ones(4))
    assert np.shape(cotangent) == ()
    close(cotangent, 4.0)


def test_jacobian_of_a_float_argument():
    close(jacobian(ramp)(0.5), np.ones(4))
    close(jacrev(ramp)(0.5), jacfwd(ramp)(0.5))


@pytest.mark.parametrize("fun", FLOAT_TO_ARRAY, ids=lambda f: f.__name__)
def test_float_to_array_every_mode(fun):
    p = 0.7
    out = fun(p)
    ct = np.random.default_rng(1).normal(size=out.shape)
    value, pullback = vjp(fun, p)
    close(value, out)
    (bp,) = pullback(ct)
    assert np.shape(bp) == ()
    _, tangent = jvp(fun, (p,), (1.0,))
    close(tangent, fd(fun, p))
    close(bp, np.sum(ct * tangent))  # <ct, J dp> = <J^T ct, dp>
    close(jacrev(fun)(p), fd(fun, p))
    close(jacrev(fun)(p), jacfwd(fun)(p))
    close(pullback(ct)[0], bp)  # the pullback again: the same cotangent


def sum_sin_ramp(p):
    return np.sum(np.sin(ramp(p)))


def sum_sin_squares(p):
    return np.sum(np.sin(squares(p)))


@pytest.mark.parametrize("fun", [sum_sin_ramp, sum_sin_squares], ids=lambda f: f.__name__)
def test_helper_with_float_argument_and_array_result(fun):
    p = 0.4
    close(grad(fun)(p), fd(fun, p))
    value, g = value_and_grad(fun)(p)
    close(value, fun(p))
    close(g, fd(fun, p))
    close(hessian(fun)(p), fd(grad(fun), p))
    close(grad(grad(fun))(p), fd(grad(fun), p))


def test_float_and_array_arguments():
    p, q = 0.3, np.array([1.0, -2.0, 0.5])
    ct = np.array([0.2, 0.4, -1.0])
    _, pullback = vjp(two_args, p, q)
    bp, bq = pullback(ct)
    assert np.shape(bp) == ()
    close(bp, np.sum(ct * (q + 1.0)))
    close(bq, ct * p)
    close(jacobian(two_args, argnums=0)(p, q), q + 1.0)
    close(jacfwd(two_args, argnums=(0, 1))(p, q)[1], np.eye(3) * p)


# ---------------------------------------------------------------------------- loops that overwrite


def overwrite_square(y):
    for _ in range(2):
        t = y * y
    return t * t


def overwrite_constant_after(y):
    """`t` is real after the first statement of the body, zero after the second."""
    s = 0.0
    t = y
    for _ in range(3):
        s = s + t * y
        t = 2.0
    return s * s


def overwrite_while(y):
    n = 0
    s = y
    while n < 3:
        t = np.sin(s)
        s = t * y
        t = 0.5
        n = n + 1
    return s * t


def overwrite_arrays(x):
    s = np.zeros(3)
    for i in range(3):
        t = x * x
        s = s + np.sin(t) * x[i]
        t = np.ones(3)
    return np.sum(s * t) + np.sum(t * x)


def overwrite_nested(y):
    acc = 0.0
    for i in range(2):
        for _ in range(2):
            t = y * y * (i + 1)
        acc = acc + t * np.cos(y)
        t = 1.0
    return acc * t


def overwrite_with_call(y):
    for _ in range(3):
        t = square(y)
        u = t * y
        t = 3.0
    return u * t


def square(u):
    return u * u


SCALAR_LOOPS = [overwrite_square, overwrite_constant_after, overwrite_while, overwrite_nested, overwrite_with_call]


def check_second_order(fun, x, reverse_over_reverse=True):
    """hessian vs central differences of grad, hvp vs hessian @ v, jvp(grad) vs hvp, and
    reverse over reverse (grad(grad) for a float, jacrev(grad) for an array)."""
    g = grad(fun)
    close(g(x), fd(fun, x))
    expected = fd(g, x)
    H = hessian(fun)(x)
    close(H, expected)
    v = direction(x, seed=3)
    product = hvp(fun)(x, v)
    close(product, np.tensordot(H, v, axes=np.ndim(x)) if np.ndim(x) else H * v)
    close(jvp(g, (x,), (v,))[1], product)
    value, gg = value_and_grad(fun)(x)
    close(value, fun(x))
    close(gg, g(x))
    if reverse_over_reverse:
        twice = grad(g)(x) if isinstance(x, float) else jacrev(g)(x)
        close(twice, expected)


@pytest.mark.parametrize("fun", SCALAR_LOOPS, ids=lambda f: f.__name__)
def test_forward_over_reverse_through_a_loop_that_overwrites(fun):
    check_second_order(fun, 0.7)


def test_overwrite_in_a_loop_closed_form():
    """f(y) = y**4: f'' = 12 y**2."""
    close(hessian(overwrite_square)(0.7), 12 * 0.7 ** 2)
    close(hvp(overwrite_square)(0.7, 1.0), 12 * 0.7 ** 2)
    close(jvp(grad(overwrite_square), (0.7,), (1.0,))[1], 12 * 0.7 ** 2)
    close(grad(grad(overwrite_square))(0.7), 12 * 0.7 ** 2)


def test_forward_over_reverse_through_a_loop_that_overwrites_arrays():
    check_second_order(overwrite_arrays, np.array([0.3, -0.8, 1.1]))


def tangent_zero_in_loop(y):
    """Forward mode alone: `t` keeps a stale tangent if the zero after `t = 2.0` is not real."""
    s = 0.0
    t = y * y
    for _ in range(3):
        s = s + t
        t = 2.0
    return s


def tangent_zero_in_while(y):
    s = 0.0
    t = y * y
    n = 0
    while n < 3:
        s = s + t
        t = 2.0
        n = n + 1
    return s + t


def tangent_zero_no_trip(y, n):
    t = y * y
    for _ in range(n):
        t = 2.0
    return t


@pytest.mark.parametrize("fun", [tangent_zero_in_loop, tangent_zero_in_while], ids=lambda f: f.__name__)
def test_forward_mode_zero_tangent_carried_by_a_loop(fun):
    y = 0.7
    close(jvp(fun, (y,), (1.0,))[1], fd(fun, y))
    close(jvp(fun, (y,), (1.0,))[1], grad(fun)(y))


@pytest.mark.parametrize("n", [0, 1, 2])
def test_forward_mode_loop_of_no_trips_keeps_the_tangent(n):
    y = 0.7
    expected = 2 * y if n == 0 else 0.0
    close(jvp(tangent_zero_no_trip, (y, n), (1.0, 0))[1], expected)
    close(grad(tangent_zero_no_trip)(y, n), expected)


# ---------------------------------------------------------------------------- branches not taken


def square_if_positive(a):
    if a > 0:
        a = a * a
    return a


def call_if_positive(a):
    if a > 0:
        a = square(a)
    return a


def calls_in_branch(a):
    if a > 0:
        b = np.sin(a) * square(a)
        a = b * a
    return a * a


def branch_in_loop_with_call(x):
    s = 0.0
    for i in range(3):
        if x > i * 0.5:
            t = square(x)
            s = s + t * x
    return s


def branch_new_name(x):
    if x > 0:
        v = x * x
        w = np.exp(v)
    else:
        w = x
    return w * x


BRANCHES = [square_if_positive, call_if_positive, calls_in_branch, branch_in_loop_with_call, branch_new_name]


@pytest.mark.parametrize("x", [-0.5, 0.3, 0.7, 1.3])
@pytest.mark.parametrize("fun", BRANCHES, ids=lambda f: f.__name__)
def test_second_order_through_a_branch_either_way(fun, x):
    check_second_order(fun, x)


def test_branch_not_taken_closed_form():
    """a for a <= 0, a**2 for a > 0."""
    for mode in (grad(grad(square_if_positive)), hessian(square_if_positive),
                 lambda a: hvp(square_if_positive)(a, 1.0),
                 lambda a: jvp(grad(square_if_positive), (a,), (1.0,))[1]):
        close(mode(-0.5), 0.0)
        close(mode(0.5), 2.0)
    close(grad(square_if_positive)(-0.5), 1.0)
    _, pullback = vjp(grad(square_if_positive), -0.5)
    close(pullback(1.0)[0], 0.0)


# ---------------------------------------------------------------------------- comprehensions


def nested_sum(p):
    return sum([sum([p for j in range(2)]) for i in range(2)])


def nested_sum_scaled(p):
    return sum([sum([p * i for j in range(2)]) for i in range(3)])


def through_nested_helper(x):
    return nested_sum(x) * x


def through_nested_helper_scaled(x):
    return nested_sum_scaled(x) * x


def nested_inline(x):
    return sum([sum([x for j in range(2)]) for i in range(2)]) * x


def nested_inline_scaled(x):
    return sum([sum([x * i * np.sin(x) for j in range(i + 1)]) for i in range(3)]) * x


def helper_of_helper(x):
    return nested_sum(nested_sum_scaled(x)) * x


COMPREHENSIONS = [through_nested_helper, through_nested_helper_scaled, nested_inline, nested_inline_scaled,
                  helper_of_helper]


@pytest.mark.parametrize("fun", COMPREHENSIONS, ids=lambda f: f.__name__)
def test_reverse_over_reverse_through_nested_comprehensions(fun):
    check_second_order(fun, 0.7)


def test_nested_comprehension_closed_form():
    """nested_sum(x) * x = 4 x**2: the second derivative is 8."""
    close(grad(grad(through_nested_helper))(0.7), 8.0)
    close(grad(grad(nested_inline))(0.7), 8.0)
    close(hessian(through_nested_helper)(0.7), 8.0)


# ---------------------------------------------------------------------------- a dozen small programs


def p_accumulate_overwrite(x):
    s = 0.0
    for i in range(3):
        t = np.sin(x) * (i + 1)
        s = s + t * t
        t = x
    return s + t


def p_while_break(x):
    s = x
    n = 0
    while True:
        s = s * np.cos(s) + x
        n = n + 1
        if n >= 3:
            break
    return s


def p_early_return(x):
    for i in range(4):
        x = x * 1.1 + np.sin(x)
        if i == 2:
            return x * x
    return x


def p_elif(x):
    if x > 1.0:
        y = x ** 3
    elif x > 0.0:
        y = np.exp(x) * x
    else:
        y = -x * x
    return y * x


def p_helper_in_loop(x):
    s = x
    for _ in range(2):
        s = square(s) * 0.5 + np.sin(s)
    return s


def p_list_append(x):
    values = []
    for i in range(3):
        values.append(x * i + np.cos(x))
    return values[0] * values[2] + values[1]


def p_list_pop(x):
    values = [x, x * x, np.sin(x)]
    last = values.pop()
    return last * values[1] + values[0]


def p_dict(x):
    d = {"a": x * x, "b": np.sin(x)}
    for key in d:
        d[key] = d[key] * x
    return d["a"] + d["b"] * d["a"]


def p_tuple_swap(x):
    a, b = x, 2.0 * x
    for _ in range(3):
        a, b = b * np.sin(a), a + b
    return a * b


def p_comprehension_branch(x):
    return sum([x * i if i % 2 else np.sin(x * i) for i in range(4)]) * x


def p_array_overwrite(x):
    y = x
    for _ in range(2):
        y = np.tanh(y) * x
        z = y[::-1]
    return np.sum(z * y) + np.sum(x ** 3)


def p_array_item_writes(x):
    y = np.zeros(4)
    for i in range(3):
        y[i] = np.sum(x[: i + 1] ** 2)
        t = y * x
    return np.sum(t * y)


def p_array_branch(x):
    s = np.sum(x)
    if s > 0:
        x = x * np.exp(-x)
    else:
        x = x ** 2
    return np.sum(np.sin(x)) * s


def p_array_helper_loop(x):
    acc = 0.0
    for i in range(2):
        acc = acc + np.sum(rescale(x, i + 1.0))
    return acc * acc


def rescale(v, k):
    return np.sin(v * k) / k


SCALAR_PROGRAMS = [p_accumulate_overwrite, p_while_break, p_early_return, p_elif, p_helper_in_loop, p_list_append,
                   p_list_pop, p_dict, p_tuple_swap, p_comprehension_branch]
ARRAY_PROGRAMS = [p_array_overwrite, p_array_item_writes, p_array_branch, p_array_helper_loop]


@pytest.mark.parametrize("x", [-0.8, 0.45, 1.3])
@pytest.mark.parametrize("fun", SCALAR_PROGRAMS, ids=lambda f: f.__name__)
def test_second_order_of_small_programs(fun, x):
    check_second_order(fun, x)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("fun", ARRAY_PROGRAMS, ids=lambda f: f.__name__)
def test_second_order_of_small_array_programs(fun, seed):
    x = np.random.default_rng(seed).uniform(-1.0, 1.0, size=4)
    x = x if seed == 0 else -x
    check_second_order(fun, x)


# ------------------------------------------------------------------ numbers kept by trip, again


def _written_in_a_loop(a):
    for i in range(2):
        a[i, 0] = np.prod(a) * np.mean(a)
    return np.dot(np.array([0.15, 0.59, 0.55]), a[1, :])


def written_in_a_loop(x):
    return _written_in_a_loop(x * np.ones((2, 3)))


def kept_by_trip(x):
    s, t = x, 0.5
    for _ in range(3):
        t = np.sin(s) * t  # t is saved before its first value: the first trip keeps None
        s = s * 1.2 + t
    return s * t


@pytest.mark.parametrize("fun", [written_in_a_loop, kept_by_trip], ids=lambda f: f.__name__)
def test_second_order_through_numbers_a_loop_keeps_by_trip(fun):
    """The first trip's slot of a number not yet bound holds None; reverse over reverse reads its
    cotangent as a zero (the tester's seed 3209: `unbroadcast` of a None cotangent raised)."""
    first = grad(fun)
    close(grad(first)(0.7), fd(first, 0.7))
    close(jvp(first, (0.7,), (1.0,))[1], fd(first, 0.7))


def test_a_missing_cotangent_is_a_zero_of_its_shape():
    from s2sad.runtime import unbroadcast

    assert unbroadcast(None, 0.5) == 0.0 and unbroadcast(None, None) is None
    np.testing.assert_array_equal(unbroadcast(None, np.ones(3)), np.zeros(3))


def test_a_numpy_number_cotangent_of_a_float_is_that_float():
    """An item of an array (`params[0]`) in scalar code: its cotangent is a NumPy number, which
    `unbroadcast` to a float takes as it is (the real part), with no reduction."""
    from s2sad.runtime import unbroadcast

    assert type(unbroadcast(np.float64(1.5), 0.0)) is float and unbroadcast(np.float64(1.5), 0.0) == 1.5
    assert unbroadcast(np.complex128(2.0 - 3.0j), 0.0) == 2.0
    assert type(unbroadcast(np.float32(0.25), 0)) is np.float32


def loop_from_an_item(params, n):
    a = params[0]
    s = 0.0
    for _ in range(n):
        a = a * 0.9 + math.sin(a) * params[1]
        s = s + a * a
    return s


def test_a_loop_started_from_array_items_matches_finite_differences_in_both_modes():
    params = np.array([0.7, 0.3])
    direction = np.array([0.6, -0.8])
    eps = 1e-6
    fd = (loop_from_an_item(params + eps * direction, 20) - loop_from_an_item(params - eps * direction, 20)) / (2 * eps)
    assert float(grad(loop_from_an_item)(params, 20) @ direction) == pytest.approx(fd, rel=1e-7)
    assert float(jvp(loop_from_an_item, (params, 20), (direction, 0))[1]) == pytest.approx(fd, rel=1e-7)
