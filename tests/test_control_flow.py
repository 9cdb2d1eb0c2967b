"""Control flow, both modes: branches on values (active ones too), conditional expressions,
`and`/`or`/`not`, chained comparisons; `for` over ranges, arrays, lists, tuples, `enumerate`,
`zip` and dict views; `while` with a data-dependent stop; `break`, `continue`, `for ... else`;
nested loops; early and multiple returns; comprehensions and generator expressions; operations
without derivative inside active code.

Every function is checked by `check_grads` (forward mode against central differences in a
random direction, reverse mode against forward mode by the dot-product identity) at points away
from the branch boundaries, and against a closed form where there is one (`slopes` gives the
derivative by both modes).
"""

import math

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads
from tests.programs import slopes

NOISE = np.random.default_rng(0).normal(size=3)
"""Random values drawn once, at import: constants for the functions below."""

# ---------------------------------------------------------------------------- branches


def piecewise(x):
    if x > 1.0:
        y = x * x
    elif x > -1.0:
        y = np.sin(x)
    else:
        y = -3.0 * x
    return y


@pytest.mark.parametrize(("x", "expected"), [(1.5, 3.0), (0.3, math.cos(0.3)), (-2.0, -3.0)])
def test_if_elif_else(x, expected):
    check_grads(piecewise, [x])
    assert slopes(piecewise, [x]) == pytest.approx((expected, expected), rel=1e-12)


def branch_on_active_value(x):
    s = np.sin(x)
    if s > 0.5:
        s = s * x
    else:
        s = s + x * x
    return s


@pytest.mark.parametrize(("x", "expected"), [(1.0, math.cos(1.0) + math.sin(1.0)), (0.2, math.cos(0.2) + 0.4)])
def test_branch_on_an_active_value(x, expected):
    check_grads(branch_on_active_value, [x])
    assert slopes(branch_on_active_value, [x]) == pytest.approx((expected, expected), rel=1e-12)


def branch_on_a_flag(x, mode):
    if mode == 1:
        return np.exp(x)
    elif mode == 2:
        return np.log(x)
    return x


@pytest.mark.parametrize(("mode", "expected"), [(1, math.exp(1.5)), (2, 1 / 1.5), (3, 1.0)])
def test_branch_on_an_integer_argument(mode, expected):
    check_grads(branch_on_a_flag, [1.5, mode])
    assert slopes(branch_on_a_flag, [1.5, mode]) == pytest.approx((expected, expected), rel=1e-12)


def conditional_expression(x, y):
    return x * y if x > y else x + np.exp(y)


@pytest.mark.parametrize("args", [(1.0, 0.5), (0.2, 0.5)])
def test_conditional_expression(args):
    check_grads(conditional_expression, list(args))


def boolean_tests(x, y):
    z = x
    if x > 0 and y > 0:
        z = z * y
    if x > 1 or y < 0:
        z = z + y * y
    if not x > 1:
        z = np.sin(z)
    return z


@pytest.mark.parametrize("args", [(0.7, 0.4), (1.7, -0.4), (-0.5, 0.3), (1.5, 0.2)])
def test_and_or_not_in_tests(args):
    check_grads(boolean_tests, list(args))


def boolean_values(x, y):
    """`and`/`or` give one of their operands: both are differentiable values here."""
    return (x and y) * 2.0 + (x or y) * 3.0


def test_and_or_give_an_operand():
    check_grads(boolean_values, [0.7, 0.4])
    assert s2sad.grad(boolean_values, argnums=(0, 1))(0.7, 0.4) == pytest.approx((3.0, 2.0))
    assert slopes(boolean_values, [0.7, 0.4], 1) == pytest.approx((2.0, 2.0))


def chained_comparison(x):
    if 0.0 < x < 1.0 <= 2.0 * x + 1.0:
        return x * x
    return 3.0 * x


@pytest.mark.parametrize(("x", "expected"), [(0.5, 1.0), (1.5, 3.0), (-0.5, 3.0)])
def test_chained_comparison(x, expected):
    check_grads(chained_comparison, [x])
    assert slopes(chained_comparison, [x]) == pytest.approx((expected, expected))


# ---------------------------------------------------------------------------- for over range


def sum_of_powers(x, start, stop, step):
    s = 0.0
    for i in range(start, stop, step):
        s = s + x ** i
    return s


@pytest.mark.parametrize("bounds", [(0, 4, 1), (2, 11, 3), (5, 0, -2), (3, 3, 1), (1, 8, 2)])
def test_for_over_range_with_any_start_stop_step(bounds):
    x = 1.1
    check_grads(sum_of_powers, [x, *bounds])
    expected = sum(i * x ** (i - 1) for i in range(*bounds))
    assert slopes(sum_of_powers, [x, *bounds]) == pytest.approx((expected, expected), rel=1e-12)


def data_dependent_count(x):
    n = int(np.floor(3.0 * x))
    s = 0.0
    for i in range(n):
        s = s + np.sin(x * i)
    return s


@pytest.mark.parametrize("x", [0.2, 1.4, 2.1])
def test_for_with_a_trip_count_computed_from_the_input(x):
    check_grads(data_dependent_count, [x])
    expected = sum(i * math.cos(x * i) for i in range(int(3 * x)))
    assert slopes(data_dependent_count, [x]) == pytest.approx((expected, expected), rel=1e-12, abs=1e-15)


def loop_over_length(v):
    s = v[0]
    for i in range(1, len(v)):
        s = s * v[i] + v[i - 1]
    return s


def test_for_over_range_of_len_reads_items():
    check_grads(loop_over_length, [np.array([0.5, -1.2, 2.0, 0.7])])


def carried_through_steps(x, steps):
    y = x
    for _ in range(steps):
        y = np.sin(y) + 0.5 * x
    return y


def test_loop_carried_value():
    check_grads(carried_through_steps, [0.4, 6])
    x, y, dy = 0.4, 0.4, 1.0
    for _ in range(6):
        y, dy = math.sin(y) + 0.5 * x, math.cos(y) * dy + 0.5
    assert slopes(carried_through_steps, [0.4, 6]) == pytest.approx((dy, dy), rel=1e-12)


# ---------------------------------------------------------------------------- for over containers


def over_rows(a):
    s = 0.0
    for row in a:
        s = s + np.sum(row * row) * row[0]
    return s


def over_elements(v):
    s = 0.0
    for e in v:
        s = s + np.exp(e)
    return s


def test_for_over_array_rows_and_elements():
    a = np.array([[0.5, 1.0, -2.0], [1.5, 0.3, 0.2]])
    check_grads(over_rows, [a])
    check_grads(over_elements, [np.array([0.1, -0.4, 0.8])])
    np.testing.assert_allclose(s2sad.grad(over_elements)(np.array([0.1, -0.4])), np.exp([0.1, -0.4]), rtol=1e-14)


def over_list(x):
    s = 0.0
    for v in [x, 2.0 * x, x * x]:
        s = s + np.sin(v)
    return s


def over_tuple(x, y):
    s = 1.0
    for v in (x, y, x * y):
        s = s * v
    return s


def test_for_over_list_and_tuple():
    check_grads(over_list, [0.3])
    expected = math.cos(0.3) + 2 * math.cos(0.6) + 0.6 * math.cos(0.09)
    assert slopes(over_list, [0.3]) == pytest.approx((expected, expected), rel=1e-12)
    check_grads(over_tuple, [0.3, 1.2])
    assert s2sad.grad(over_tuple, argnums=(0, 1))(0.3, 1.2) == pytest.approx((2 * 0.3 * 1.44, 2 * 1.2 * 0.09))


def over_enumerate(v):
    s = 0.0
    for i, e in enumerate(v):
        s = s + i * e * e
    return s


def over_zip(a, b):
    s = 0.0
    for u, v in zip(a, b):
        s = s + u * v * u
    return s


def test_for_over_enumerate_and_zip():
    v = np.array([1.0, 2.0, -3.0])
    check_grads(over_enumerate, [v])
    np.testing.assert_allclose(s2sad.grad(over_enumerate)(v), 2 * np.arange(3) * v)
    b = np.array([0.5, -1.0])  # zip stops at the shorter sequence
    check_grads(over_zip, [v, b])
    ga, gb = s2sad.grad(over_zip, argnums=(0, 1))(v, b)
    np.testing.assert_allclose(ga, [2 * v[0] * b[0], 2 * v[1] * b[1], 0.0])
    np.testing.assert_allclose(gb, v[:2] ** 2)


def over_dict_views(d):
    s = 0.0
    for _k, v in d.items():
        s = s + np.sum(v * v)
    for k in d.keys():
        s = s + np.sum(d[k])
    for v in d.values():
        s = s * 1.5 + np.sum(np.sin(v))
    return s


def over_dict(d):
    s = 0.0
    for k in d:
        s = s + d[k] ** 3
    return s


def test_for_over_dict_views():
    d = {"a": np.array([1.0, 2.0]), "b": np.array([0.3])}
    check_grads(over_dict_views, [d])
    check_grads(over_dict, [{"u": 0.5, "v": -1.5}])
    assert s2sad.grad(over_dict)({"u": 0.5, "v": -1.5}) == pytest.approx({"u": 0.75, "v": 6.75})


# ---------------------------------------------------------------------------- while, break, continue


def grow_until(x):
    y = x
    while y < 10.0:
        y = y * 1.5 + x
    return y


@pytest.mark.parametrize("x", [0.7, 3.0, 12.0])
def test_while_with_a_data_dependent_stop(x):
    check_grads(grow_until, [x])
    y, dy = x, 1.0
    while y < 10.0:
        y, dy = y * 1.5 + x, dy * 1.5 + 1.0
    assert slopes(grow_until, [x]) == pytest.approx((dy, dy), rel=1e-12)


def while_true_break(x):
    s = x
    while True:
        s = s * 2.0
        if s > 5.0:
            break
    return s * x


def while_break_else(x):
    y = x
    n = 0
    while n < 5:
        y = y * x
        n += 1
        if y > 3.0:
            break
    else:
        y = -y
    return y


@pytest.mark.parametrize(("fun", "x"), [(while_true_break, 0.7), (while_break_else, 1.3), (while_break_else, 0.5)])
def test_while_with_break_and_else(fun, x):
    check_grads(fun, [x])


def test_while_break_else_closed_forms():
    assert slopes(while_break_else, [1.3]) == pytest.approx((5 * 1.3 ** 4,) * 2)  # breaks after 4 products
    assert slopes(while_break_else, [0.5]) == pytest.approx((-6 * 0.5 ** 5,) * 2)  # no break: else runs


def skip_even(x):
    s = 0.0
    for i in range(7):
        if i % 2 == 0:
            continue
        s = s + x ** i
    return s


def test_continue():
    check_grads(skip_even, [0.8])
    assert slopes(skip_even, [0.8]) == pytest.approx((1 + 3 * 0.64 + 5 * 0.8 ** 4,) * 2)


def for_else_without_break(x):
    s = 0.0
    for _ in range(3):
        s = s + x
    else:
        s = s * x
    return s


def test_for_else_without_break():
    check_grads(for_else_without_break, [0.7])
    assert slopes(for_else_without_break, [0.7]) == pytest.approx((6 * 0.7,) * 2)


def for_with_break(x):
    s = 0.0
    for i in range(10):
        if s > 3.0:
            break
        s = s + x * i
    return s


def for_break_else(x):
    s = 0.0
    for i in range(4):
        s = s + x * i
        if s > 2.0:
            break
    else:
        s = -s
    return s


def return_from_for(x):
    for i in range(4):
        if x * i > 3.0:
            return np.sin(x) * i
    return x


@pytest.mark.parametrize(("fun", "x"), [(for_with_break, 0.7), (for_break_else, 0.1), (return_from_for, 1.2)])
def test_break_and_return_inside_for(fun, x):
    check_grads(fun, [x])


def triangle(a):
    s = 0.0
    for i in range(a.shape[0]):
        for j in range(i, a.shape[1]):
            s = s + a[i, j] * a[j, i]
    return s


def loop_in_a_loop_in_a_branch(x, n):
    if x > 0:
        for i in range(n):
            for j in range(i):
                x = x * 0.5 + j
    else:
        while x < 0:
            x = x + 0.7
    return x


def test_nested_loops():
    a = np.arange(9.0).reshape(3, 3) / 5
    check_grads(triangle, [a])
    np.testing.assert_allclose(s2sad.grad(triangle)(a), a.T + np.diag(np.diag(a)), rtol=1e-14)
    check_grads(loop_in_a_loop_in_a_branch, [0.5, 4])
    check_grads(loop_in_a_loop_in_a_branch, [-1.5, 4])
    assert slopes(loop_in_a_loop_in_a_branch, [0.5, 4]) == pytest.approx((0.5 ** 6,) * 2)
    assert slopes(loop_in_a_loop_in_a_branch, [-1.5, 4]) == pytest.approx((1.0, 1.0))


# ---------------------------------------------------------------------------- returns


def several_returns(x, y):
    if x > y:
        return x - y
    if x < 0.0:
        return -x * y
    return y * y


@pytest.mark.parametrize(("args", "expected"), [((2.0, 1.0), (1.0, -1.0)), ((-1.0, 1.0), (-1.0, 1.0)),
                                                ((0.5, 1.0), (0.0, 2.0))])
def test_several_returns(args, expected):
    check_grads(several_returns, list(args))
    assert s2sad.grad(several_returns, argnums=(0, 1))(*args) == pytest.approx(expected)


def return_from_while(x):
    y = x
    while y < 10.0:
        y = y * 2.0
        if y > 5.0:
            return y * x
    return y


@pytest.mark.parametrize(("x", "expected"), [(0.7, 16 * 0.7), (20.0, 1.0), (3.0, 4 * 3.0)])
def test_early_return_inside_a_loop(x, expected):
    check_grads(return_from_while, [x])
    assert slopes(return_from_while, [x]) == pytest.approx((expected, expected))


def returns_a_pair(x, y):
    if x > 0:
        return x * y, np.sin(x)
    return y, x


def test_returns_of_a_pair_in_branches():
    check_grads(returns_a_pair, [0.5, 2.0])
    check_grads(returns_a_pair, [-0.5, 2.0])


# ---------------------------------------------------------------------------- comprehensions


def positive_squares(xs):
    return sum(v * v for v in xs if v > 0)


def test_generator_expression_with_a_filter():
    xs = np.array([1.0, -2.0, 3.0])
    check_grads(positive_squares, [xs])
    check_grads(positive_squares, [[1.0, -2.0, 3.0]])
    np.testing.assert_allclose(s2sad.grad(positive_squares)(xs), [2.0, 0.0, 6.0])
    assert s2sad.grad(positive_squares)([1.0, -2.0, 3.0]) == pytest.approx([2.0, 0.0, 6.0])


def list_comprehension(x):
    ys = [np.sin(x * i) for i in range(4)]
    return ys[0] + ys[1] * ys[3] + len(ys)


def array_of_comprehension(x):
    return np.sum(np.array([x * i for i in range(4)]) ** 2)


def pairs_comprehension(a):
    return sum([a[i] * a[j] for i in range(3) for j in range(i, 3)])


def dict_comprehension(x):
    d = {k: x * i for i, k in enumerate(("a", "b", "c"))}
    return d["a"] + d["b"] * d["c"]


def test_comprehensions():
    check_grads(list_comprehension, [0.4])
    check_grads(array_of_comprehension, [0.4])
    assert slopes(array_of_comprehension, [0.4]) == pytest.approx((2 * 0.4 * 14,) * 2)
    a = np.array([0.5, 1.0, 2.0])
    check_grads(pairs_comprehension, [a])
    np.testing.assert_allclose(s2sad.grad(pairs_comprehension)(a), a + np.sum(a))
    check_grads(dict_comprehension, [0.7])
    assert slopes(dict_comprehension, [0.7]) == pytest.approx((4 * 0.7,) * 2)


# ---------------------------------------------------------------------------- no derivative


def nondiff_inside(x):
    n = len(x)
    k = int(np.argmax(x))
    f = np.floor(x)
    m = x.shape[0]
    s = 0.0
    for i in range(n):
        if x[i] > 0.5 and i != k:
            s = s + x[i] * f[i]
    return s + x[k] * m + np.sum(x * NOISE) + (x[0] < x[1]) * 1.0 + round(x[2])


def test_operations_without_derivative_inside_active_code():
    x = np.array([0.3, 1.7, 2.2])
    check_grads(nondiff_inside, [x])
    np.testing.assert_allclose(s2sad.grad(nondiff_inside)(x), [0.0, 1.0, 3.0] + NOISE, rtol=1e-14)


def random_constants_inline(x):
    return np.sum(x * np.random.default_rng(0).normal(size=3))


def test_random_values_drawn_inside_the_function_are_constants():
    x = np.array([0.3, 1.7, 2.2])
    check_grads(random_constants_inline, [x])
    np.testing.assert_allclose(s2sad.grad(random_constants_inline)(x), NOISE)
