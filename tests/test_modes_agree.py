"""Forward and reverse mode make the same decisions, and neither is silently wrong: calls of
helpers with `*args` (followed by both, at each call's shape), dict keys (never differentiable), `y += v` on a name
(a new value, or refused where Python would write into memory another name holds), `+` and `*`
on tuples and lists (concatenation and repetition), and shapes recorded in loops for lists of
arrays of different lengths (with and without the optimizer). Every mode each touches:
grad, value_and_grad, jvp, vjp, hessian, jvp of grad, grad of grad.
"""

import numpy as np
import pytest

import s2sad
from s2sad.errors import UnsupportedSyntax, UnsupportedValue
from s2sad.testing import check_grads


def all_modes(fun, x):
    """The derivative of a scalar function of a float by every mode, and its second derivative
    by every second-order mode."""
    first = [s2sad.grad(fun)(x), s2sad.value_and_grad(fun)(x)[1], s2sad.jvp(fun, (x,), (1.0,))[1],
             s2sad.vjp(fun, x)[1](1.0)[0]]
    second = [s2sad.hessian(fun)(x), s2sad.jvp(s2sad.grad(fun), (x,), (1.0,))[1], s2sad.grad(s2sad.grad(fun))(x),
              s2sad.hvp(fun)(x, 1.0)]
    return first, second


def each_mode(fun, *args):
    """Call every first-order mode of `fun` at `args` (for the refusals)."""
    tangents = tuple(np.ones_like(a) if isinstance(a, np.ndarray) else 1.0 for a in args)
    yield lambda: s2sad.grad(fun)(*args)
    yield lambda: s2sad.value_and_grad(fun)(*args)
    yield lambda: s2sad.jvp(fun, args, tangents)
    yield lambda: s2sad.vjp(fun, *args)[1](1.0)


# ---------------------------------------------------------------------------- helpers with *args


def _sum_all(*terms):
    s = 0.0
    for t in terms:
        s = s + t
    return s


def sums_through_star_args(x):
    return _sum_all(x * x, x)


def _first_squared(a, *rest):
    return a * a


def passes_into_star_args(x):
    return _first_squared(2.0, x)


@pytest.mark.parametrize(("fun", "first", "second"), [(sums_through_star_args, 2 * 1.5 + 1, 2.0),
                                                      (passes_into_star_args, 0.0, 0.0)])
def test_a_helper_with_star_args_is_followed_by_every_mode(fun, first, second):
    found_first, found_second = all_modes(fun, 1.5)
    assert found_first == pytest.approx([first] * 4, rel=1e-12)
    assert found_second == pytest.approx([second] * 4, rel=1e-12)


@s2sad.custom_vjp
def _custom_square(*xs):
    return xs[0] * xs[0]


_custom_square.defvjp(lambda *xs: (xs[0] * xs[0], xs[0]), lambda r, g: (2.0 * r * g,))


@s2sad.custom_jvp
def _custom_cube(*xs):
    return xs[0] ** 3


_custom_cube.defjvp(lambda p, t: (p[0] ** 3, 3.0 * p[0] ** 2 * t[0]))


def calls_custom_vjp(x):
    return _custom_square(x)


def calls_custom_jvp(x):
    return _custom_cube(x)


@pytest.mark.parametrize("fun", [calls_custom_vjp, calls_custom_jvp])
def test_a_custom_rule_with_star_args_is_refused_by_every_mode(fun):
    for call in each_mode(fun, 1.5):
        with pytest.raises(UnsupportedSyntax, match=r"\*args,? (or )?\*\*kwargs"):
            call()


def _weighted(a, b=1.0):
    return a * a * b


def passes_by_keyword(x):
    return _weighted(2.0, b=x) + _weighted(a=x)


def test_an_active_argument_passed_by_keyword_is_followed_by_both_modes():
    first, second = all_modes(passes_by_keyword, 0.7)
    assert first == pytest.approx([4.0 + 2 * 0.7] * 4, rel=1e-12)
    assert second == pytest.approx([2.0] * 4, rel=1e-12)


# ---------------------------------------------------------------------------- dict keys


def keys_as_weights(z):
    d = {0: z, 1: z * z}
    s = 0.0
    for key in d:
        s = s + d[key] * key
    return s


def keys_of_items_and_keys(z):
    d = {2: z, 3: z * z}
    s = 0.0
    for key, v in d.items():
        s = s + v * key * z
    for key in d.keys():
        s = s + d[key] * key
    return s


@pytest.mark.parametrize(("fun", "slope", "curvature"), [
    (keys_as_weights, lambda z: 2 * z, lambda z: 2.0),
    (keys_of_items_and_keys, lambda z: 9 * z * z + 10 * z + 2, lambda z: 18 * z + 10),
])
def test_dict_keys_carry_no_derivative(fun, slope, curvature):
    z = 0.5
    first, second = all_modes(fun, z)
    assert first == pytest.approx([slope(z)] * 4, rel=1e-12)
    assert second == pytest.approx([curvature(z)] * 4, rel=1e-12)
    check_grads(fun, [z], order=2)


def keys_of_a_dict_argument(d, z):
    s = 0.0
    for key in d:
        s = s + d[key] * key * z
    return s


def test_keys_of_a_dict_argument_carry_no_derivative():
    d, z = {1: 0.3, 2: 0.7}, 0.5
    grads = s2sad.grad(keys_of_a_dict_argument, argnums=(0, 1))(d, z)
    assert grads[0] == pytest.approx({1: 1 * z, 2: 2 * z}) and grads[1] == pytest.approx(1 * 0.3 + 2 * 0.7)
    _, tangent = s2sad.jvp(keys_of_a_dict_argument, (d, z), ({1: 0.2, 2: -0.4}, 0.3))
    assert tangent == pytest.approx((0.2 - 2 * 0.4) * z + (0.3 + 1.4) * 0.3, rel=1e-12)
    assert s2sad.hessian(keys_of_a_dict_argument, argnums=1)(d, z) == 0.0
    check_grads(keys_of_a_dict_argument, [d, z], order=2)


# ---------------------------------------------------------------------------- y += v on a name


def adds_into_an_alias(x):
    z = x * 2.0
    y = z
    y += x
    return np.sum(z * z)


def adds_into_a_view(x):
    z = x * 2.0
    y = z[1:]
    y += 1.0
    return np.sum(z * z)


def adds_into_a_parameter_alias(x):
    y = x
    y += 1.0
    return np.sum(x * y)


def adds_into_a_held_array(x):
    y = x * 2.0
    a = y
    y += x
    return np.sum(a * y)


def accumulates_from_a_parameter(x):
    s = x
    for _ in range(2):
        s += x
    return np.sum(s * x)


def adds_into_an_array_a_tuple_holds(x):
    t = (x, 1.0)
    y = x
    y += 1.0
    return np.sum(t[0] * y)


def adds_into_an_array_nested_lists_hold(x):
    t = [x]
    u = [t]
    y = x
    y += 1.0
    return np.sum(u[0][0] * y)


def adds_into_an_array_a_joined_tuple_holds(x):
    s = x * 2.0
    t = (x, s) + (x * x,)
    s += x
    return np.sum(s + t[1])


@pytest.mark.parametrize("fun", [adds_into_an_alias, adds_into_a_view, adds_into_a_parameter_alias,
                                 adds_into_a_held_array, accumulates_from_a_parameter,
                                 adds_into_an_array_a_tuple_holds, adds_into_an_array_nested_lists_hold,
                                 adds_into_an_array_a_joined_tuple_holds])
def test_augmented_assignment_into_a_shared_array_is_refused_at_its_line(fun):
    source = open(__file__).read().splitlines()
    line = next(i for i in range(fun.__code__.co_firstlineno, len(source)) if "+= " in source[i - 1])
    for call in each_mode(fun, np.array([1.0, -2.0, 0.5])):
        with pytest.raises(UnsupportedSyntax, match="another name may hold too") as info:
            call()
        assert (info.value.filename, info.value.lineno) == (__file__, line)
        assert "y = y + v" in str(info.value)


@pytest.mark.parametrize("fun", [adds_into_an_alias, adds_into_a_parameter_alias, accumulates_from_a_parameter])
def test_augmented_assignment_on_shared_floats_makes_a_new_value(fun):
    x = 0.7
    first, second = all_modes(fun, x)
    h = 1e-6
    slope = (fun(x + h) - fun(x - h)) / (2 * h)
    assert first == pytest.approx([slope] * 4, rel=1e-7)
    check_grads(fun, [x], order=2)


def fresh_array_then_reads(x):
    y = x * 2.0
    y += x
    y *= x
    a = y
    s = 0.0
    for i in range(3):
        s += np.sum(a * i)
    return s


def test_augmented_assignment_on_an_array_no_other_name_holds_works():
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(s2sad.grad(fresh_array_then_reads)(x), 3 * 6 * x, rtol=1e-12)
    np.testing.assert_allclose(s2sad.jvp(fresh_array_then_reads, (x,), (np.ones(3),))[1], np.sum(18 * x), rtol=1e-12)
    check_grads(fresh_array_then_reads, [x], order=2)


# ---------------------------------------------------------------------------- + and * on tuples and lists


def joins_tuples(a):
    b = a * 2.0
    t = (a, b) + (np.ones(3),)
    return np.sum(t[0] * t[1] + t[2])


def joins_and_repeats_lists(a):
    t = [a] + [a * 3.0]
    t = t * 2
    t += [a]
    return t[0] * t[1] * t[3] * t[4]


def repeats_a_tuple_first(a):
    t = 2 * (a, a * 2.0)
    return t[0] * t[3] + t[2]


def test_tuple_concatenation_of_arrays():
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(s2sad.grad(joins_tuples)(x), 4 * x, rtol=1e-12)
    np.testing.assert_allclose(s2sad.vjp(joins_tuples, x)[1](1.0)[0], 4 * x, rtol=1e-12)
    np.testing.assert_allclose(s2sad.jvp(joins_tuples, (x,), (np.ones(3),))[1], np.sum(4 * x), rtol=1e-12)
    np.testing.assert_allclose(s2sad.hessian(joins_tuples)(x), 4 * np.eye(3), rtol=1e-12)
    check_grads(joins_tuples, [x], order=2)


@pytest.mark.parametrize(("fun", "slope", "curvature"), [
    (joins_and_repeats_lists, lambda a: 36 * a ** 3, lambda a: 108 * a * a),  # 9 a^4
    (repeats_a_tuple_first, lambda a: 4 * a + 1, lambda a: 4.0),  # 2 a^2 + a
])
def test_list_and_tuple_concatenation_and_repetition(fun, slope, curvature):
    a = 0.5
    first, second = all_modes(fun, a)
    assert first == pytest.approx([slope(a)] * 4, rel=1e-12)
    assert second == pytest.approx([curvature(a)] * 4, rel=1e-12)
    check_grads(fun, [a], order=2)


def _join(t, u):
    return t + u


def joins_in_a_helper(a):
    t = _join((a,), (a * 2.0,))
    return t[0] * t[1]


def test_joining_tuples_s2sad_cannot_see_are_tuples_is_refused_by_both_modes():
    line = joins_in_a_helper.__code__.co_firstlineno + 1
    for call in each_mode(joins_in_a_helper, 0.5):
        with pytest.raises(UnsupportedValue, match="joined tuples or lists") as info:
            call()
        assert any(f"{__file__}:{line}:" in note for note in info.value.__notes__)


def times_a_list(x, a):
    return np.sum(x * [a, 2.0 * a])


def plus_a_list(x, a):
    return np.sum(x + [a, a * a])


def list_times_an_array(x, a):
    w = [a, 2.0 * a]
    return np.sum(w * x)


@pytest.mark.parametrize(("fun", "slopes"), [
    (times_a_list, lambda x, a: (np.array([a, 2 * a]), x[0] + 2 * x[1])),
    (plus_a_list, lambda x, a: (np.ones(2), 1 + 2 * a)),
    (list_times_an_array, lambda x, a: (np.array([a, 2 * a]), x[0] + 2 * x[1])),
])
def test_a_list_and_an_array_add_and_multiply_elementwise(fun, slopes):
    x, a = np.array([0.5, -1.0]), 0.7
    gx, ga = s2sad.grad(fun, argnums=(0, 1))(x, a)
    np.testing.assert_allclose(gx, slopes(x, a)[0], rtol=1e-12)
    assert ga == pytest.approx(slopes(x, a)[1], rel=1e-12)
    check_grads(fun, [x, a], order=2)


# ---------------------------------------------------------------------------- ragged lists in loops


def concatenates_growing_slices(x):
    s = 0.0
    for i in range(2):
        y = np.concatenate([x[:i + 1], x[i:]])
        s = s + np.sum(y * y)
    return s


def concatenates_in_a_while_loop(x):
    s = 0.0
    i = 0
    while i < 2:
        s = s + np.sum(np.concatenate([x[:2], x[i:]]) ** 2)
        i = i + 1
    return s


def ragged_list_of_slices(x):
    parts = []
    for i in range(3):
        parts.append(x[i:])
    return sum([np.sum(p * p) for p in parts])


@pytest.mark.parametrize("fun", [concatenates_growing_slices, concatenates_in_a_while_loop, ragged_list_of_slices])
def test_lists_of_arrays_of_different_lengths_in_loops_with_and_without_the_optimizer(fun):
    x = np.array([1.0, -2.0, 0.5])
    h, expected = 1e-6, np.zeros(3)
    for i in range(3):
        e = np.eye(3)[i] * h
        expected[i] = (fun(x + e) - fun(x - e)) / (2 * h)
    for optimize in (True, False):
        np.testing.assert_allclose(s2sad.grad(fun, optimize=optimize)(x), expected, rtol=1e-7)
        value, grad = s2sad.value_and_grad(fun, optimize=optimize)(x)
        assert value == pytest.approx(fun(x), rel=1e-12)
        np.testing.assert_allclose(grad, expected, rtol=1e-7)
    check_grads(fun, [x], order=2)


def grows_a_tuple_then_a_list(x):
    t = ()
    for i in range(3):
        t = t + (x * i,)
    items = []
    for v in t:
        items += [v * v]
    return t[2] * items[1] + sum(items)


def test_tuples_and_lists_grown_in_loops():
    x = 0.7  # 2 x^3 + 5 x^2
    first, second = all_modes(grows_a_tuple_then_a_list, x)
    assert first == pytest.approx([6 * x * x + 10 * x] * 4, rel=1e-12)
    assert second == pytest.approx([12 * x + 10] * 4, rel=1e-12)
    check_grads(grows_a_tuple_then_a_list, [x], order=2)  # through a callee built for any kind of argument


def test_adding_cotangents_where_none_stands_for_a_whole_subtree():
    from s2sad import runtime

    assert runtime.add([[1.0, 2.0], None], [None, (3.0,)]) == [[1.0, 2.0], (3.0,)]
    assert runtime.add({"a": [None, 1.0]}, {"a": [2.0, None]}) == {"a": [2.0, 1.0]}


# ---------------------------------------------------------------------------- items of lists are not lists


def doubles_an_item_popped_from_a_list(x):
    items = []
    items.append(x)
    v = items.pop()
    v += v
    return np.sum(v * v)


def doubles_an_item_read_from_a_list(x):
    items = [x, x * 2.0]
    v = items[1]
    v = v + v
    return np.sum(v * x)


@pytest.mark.parametrize("fun", [doubles_an_item_popped_from_a_list, doubles_an_item_read_from_a_list])
def test_an_item_taken_from_a_list_is_added_as_a_number(fun):
    """`v + v` with `v` popped from (or read out of) a list is arithmetic, not concatenation (it
    was taken for a list and its adjoint crashed)."""
    first, second = all_modes(fun, 0.5)
    np.testing.assert_allclose(first, [8.0 * 0.5] * 4, rtol=1e-14)
    np.testing.assert_allclose(second, [8.0] * 4, rtol=1e-14)
    if fun is doubles_an_item_read_from_a_list:  # (the other writes into its argument, as Python would)
        check_grads(fun, [np.array([0.5, -1.5])], order=2)
