"""Statements the IR has no node for, lowered into those it has: `assert`, chained assignment,
starred unpacking, `pass`, `del name`, `enumerate` with a start, `zip`/`enumerate`/dict views
and `.get` used as values, dict displays with computed keys and `dict(...)`, repetition, calls
made for their output (`print`, `logging`), `with` blocks, `try` and `raise`. Each is
differentiated in every mode (checked against finite differences) and runs as Python runs it;
what stays out of reach is refused at the user's line.
"""

import contextlib
import logging
import warnings

import numpy as np
import pytest

import s2sad
from s2sad.errors import S2SADError
from s2sad.testing import check_grads, make_function
from tests.test_errors import line_of

# ------------------------------------------------------------------ assert


def asserts(x):
    assert np.all(x > 0), "x must be positive"
    assert x.shape == (3,)
    return np.sum(np.log(x) * x)


def test_assert_runs_and_has_no_derivative():
    x = np.array([0.5, 1.5, 2.0])
    check_grads(asserts, [x], order=2)
    np.testing.assert_allclose(s2sad.grad(asserts)(x), np.log(x) + 1.0)


@pytest.mark.parametrize("transform", [s2sad.grad, s2sad.jacfwd, lambda f: (lambda x: s2sad.vjp(f, x))])
def test_a_failing_assert_raises_what_python_raises(transform):
    with pytest.raises(AssertionError, match="x must be positive"):
        transform(asserts)(np.array([0.5, -1.0, 2.0]))
    with pytest.raises(AssertionError) as info:
        transform(asserts)(np.ones(4))
    assert info.value.args == ()


def lazy_message(x):
    assert x > 0, x[None]  # the message is computed only when the test fails, as in Python
    return x * x


def test_an_assert_message_is_computed_only_when_the_test_fails():
    assert s2sad.grad(lazy_message)(3.0) == 6.0


# ------------------------------------------------------------------ assignment forms


def chained(x):
    a = b = np.sin(x)
    return a * b + a


def chained_items(x):
    m = np.zeros((2, 2))
    m[0, 1] = m[1, 0] = x * 2.0
    d = {}
    d["a"] = first = x
    return np.sum(m * m) + d["a"] * first


def chained_tuple(x, y):
    p, q = pair = (x * y, y)
    return p * q + pair[0]


def starred(xs):
    first, *rest = xs
    *init, last = xs
    a, *middle, z = xs
    return first * sum(rest) + last * len(init) + a * z * sum(middle)


def starred_list(x, y):
    head, *tail = [x, y, x * y]
    return head * tail[0] * tail[1] + len(tail)


def passes_and_deletes(x):
    y = x * 2.0
    if x > 0:
        pass
    else:
        pass
    scratch = np.exp(x)
    del scratch
    for _ in range(2):
        pass
    del y
    return x * x


@pytest.mark.parametrize("fun, args", [
    (chained, [0.7]),
    (chained_items, [1.3]),
    (chained_tuple, [0.4, 1.5]),
    (starred, [np.array([1.0, 2.0, 3.0, 4.0])]),
    (starred, [[1.0, 2.0, 3.0]]),
    (starred_list, [0.5, 2.0]),
    (passes_and_deletes, [1.5]),
], ids=lambda v: v.__name__ if callable(v) else "")
def test_assignment_forms(fun, args):
    check_grads(fun, args, order=2)
    assert s2sad.value_and_grad(fun)(*args)[0] == pytest.approx(fun(*args))


def test_starred_target_is_a_list_as_in_python():
    def rest_twice(xs):
        _, *rest = xs
        return len(rest * 2) * xs[0]

    assert s2sad.grad(rest_twice)(np.array([2.0, 3.0, 4.0]))[0] == 4.0


def deletes_a_key(x):
    d = {"a": x * 2.0, "b": np.sin(x), "c": x ** 2}
    del d["b"]
    total = 0.0
    for k in d:
        total = total + np.sum(d[k])
    return total + len(d)


def deletes_keys_in_a_loop(x):
    d = {}
    for i in range(3):
        d[i] = x * i
        if i == 1:
            del d[0]
    return np.sum(d[1] * d[2]) + len(d)


def deletes_items_and_a_slice(x):
    xs = [x, x * 2.0, np.sin(x), x ** 3]
    del xs[0]
    del xs[1:2]
    return np.sum(xs[0] * xs[-1])


@pytest.mark.parametrize("fun", [deletes_a_key, deletes_keys_in_a_loop, deletes_items_and_a_slice])
def test_del_of_an_item_gives_the_container_without_it(fun):
    x = np.array([0.3, -0.7, 1.1])
    check_grads(fun, [x], order=2)
    value, pullback = s2sad.vjp(fun, x)
    np.testing.assert_array_equal(pullback(1.0)[0], pullback(1.0)[0])


def test_del_of_an_item_of_a_shared_list_is_refused_at_its_line():
    def del_shared(x):
        items = [x, x * 2.0]
        alias = items
        del items[0]
        return alias[0]

    with pytest.raises(s2sad.UnsupportedSyntax, match=r"`del items\[...\]` on a dict or list that another") as info:
        s2sad.grad(del_shared)(1.0)
    assert info.value.lineno == line_of(del_shared, "del items")


# ------------------------------------------------------------------ iteration as a value


def enumerate_from_one(xs):
    total = 0.0
    for i, v in enumerate(xs, 1):
        total = total + i * v
    for i, v in enumerate(xs, start=-2):
        total = total + i * v * v
    return total


def zipped_values(a, b):
    pairs = list(zip(a, b))
    numbered = list(enumerate(b, 2))
    walk = zip(a, b)
    return pairs[0][0] * pairs[1][1] + numbered[1][0] * numbered[1][1] + sum(x * y for x, y in walk)


def dict_views(x, y):
    d = {"a": x, "b": y * y}
    keys = list(d.keys())
    return sum(d.values()) * len(keys) + sum(k_v[1] for k_v in d.items())


def dict_gets(x, y):
    d = {"a": x}
    return d.get("a", 0.0) * d.get("b", y) + (d.get("c") is None)


def dict_builders(x, y):
    key = "k" + str(1)
    computed = {key: x * y, "c": x}
    named = dict(a=x, b=y * x, **computed)
    merged = {**named, "a": y}
    paired = dict(zip(["p", "q"], [x, y]))
    from_items = dict(merged.items())
    return computed["k1"] + named["b"] * named["k1"] + merged["a"] * paired["q"] + from_items["c"] + len(merged)


def repeated(x, n):
    items = [x] * 3
    pair = 2 * (x, x * x)
    return items[0] * items[2] + sum(pair) * n


@pytest.mark.parametrize("fun, args", [
    (enumerate_from_one, [np.array([0.5, 1.5, -2.0])]),
    (zipped_values, [np.array([1.0, 2.0]), np.array([0.5, -1.0])]),
    (dict_views, [0.3, 1.7]),
    (dict_gets, [0.3, 1.7]),
    (dict_builders, [0.3, 1.7]),
    (repeated, [0.6, 2]),
], ids=lambda v: v.__name__ if callable(v) else "")
def test_iteration_and_dicts_as_values(fun, args):
    check_grads(fun, args, order=2)
    assert s2sad.value_and_grad(fun)(*args)[0] == pytest.approx(fun(*args))


def test_dict_argument_read_by_get_and_views():
    def loss(params):
        return params.get("w", 1.0) * sum(params.values())

    grads = s2sad.grad(loss)({"w": 2.0, "b": 3.0})
    assert grads == pytest.approx({"w": 7.0, "b": 2.0})


# ------------------------------------------------------------------ calls for their output

LOG = logging.getLogger("tests.statements")


def talks(x):
    print("x is", x)
    logging.info("x is %s", x)
    logging.warning("square %s", x * x)
    return x * x


def test_print_and_logging_run_in_the_primal_sweep(capsys, caplog):
    caplog.set_level(logging.INFO)
    assert s2sad.grad(talks)(3.0) == 6.0
    assert capsys.readouterr().out == "x is 3.0\n"
    assert [r.getMessage() for r in caplog.records] == ["x is 3.0", "square 9.0"]
    out, dx = s2sad.jvp(talks, (2.0,), (1.0,))
    assert (out, dx) == (4.0, 4.0)
    assert capsys.readouterr().out == "x is 2.0\n"


# ------------------------------------------------------------------ with


class Counting:
    """A user's manager: counts enters and exits, hands out a scale."""

    def __init__(self):
        self.entered = self.exited = 0

    def __enter__(self):
        self.entered += 1
        return 2.0

    def __exit__(self, *exc):
        self.exited += 1
        return False


COUNTER = Counting()


def managed(x):
    with np.errstate(divide="ignore", invalid="ignore"), COUNTER as scale:
        y = np.log(x) * scale
    with contextlib.suppress(KeyError):
        z = y * y
    return np.sum(z)


def returns_inside(x):
    total = 0.0
    for i in range(4):
        with COUNTER:
            if i == 2:
                break
            total = total + x * i
    with COUNTER:
        return total * x


@pytest.mark.parametrize("fun, args", [
    (managed, [np.array([0.5, 2.0])]),
    (returns_inside, [1.5]),
], ids=lambda v: v.__name__ if callable(v) else "")
def test_with_blocks_are_differentiated_as_straight_code(fun, args):
    check_grads(fun, args, order=2)
    assert s2sad.value_and_grad(fun)(*args)[0] == pytest.approx(fun(*args))


def test_the_manager_runs_in_the_primal_sweep_once_per_call():
    counter = Counting()

    def scaled(x):
        with counter as scale:
            y = x * scale
        return y * y

    assert s2sad.grad(scaled)(1.5) == 12.0
    assert (counter.entered, counter.exited) == (1, 1)
    out, pullback = s2sad.vjp(scaled, 1.5)
    assert (counter.entered, counter.exited) == (2, 2)
    assert pullback(1.0) == (12.0,) and counter.exited == 2  # the adjoint sweep runs without it


def test_errstate_silences_the_primal_sweep():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(s2sad.grad(managed)(np.array([0.0, 1.0]))[1], 0.0)


def raising(x):
    with np.errstate(all="raise"):
        y = np.log(x)
    return np.sum(y)


def test_a_raising_body_exits_its_manager():
    before = np.geterr()
    with pytest.raises(FloatingPointError):
        s2sad.grad(raising)(np.array([-1.0]))
    assert np.geterr() == before
    np.testing.assert_allclose(s2sad.grad(raising)(np.array([2.0])), [0.5])


def swallowing(x):
    y = x[0]
    with contextlib.suppress(IndexError):
        y = x[5]
    return y


def test_a_manager_that_would_swallow_the_error_is_reported():
    with pytest.raises(IndexError) as info:
        s2sad.grad(swallowing)(np.ones(2))
    assert any("would suppress this error" in note for note in info.value.__notes__)


# ------------------------------------------------------------------ try and raise


def guarded(x, i):
    try:
        y = np.log(x[i])
    except (IndexError, KeyError):
        y = x[0]
    else:
        y = y * 2.0
    finally:
        z = np.exp(x[0])
    if x[0] < 0:
        raise ValueError("x[0] must not be negative")
    return y * z


def returns_in_try(x):
    total = x
    for i in range(3):
        try:
            if i == 1:
                continue
            total = total * x
        except ZeroDivisionError:
            total = 0.0
        else:
            total = total + 1.0
        finally:
            total = total * 2.0
    try:
        return total * x
    finally:
        total = 0.0


@pytest.mark.parametrize("fun, args", [
    (guarded, [np.array([1.5, 2.0]), 1]),
    (returns_in_try, [0.7]),
], ids=lambda v: v.__name__ if callable(v) else "")
def test_try_follows_the_path_on_which_the_block_raises_nothing(fun, args):
    check_grads(fun, args, order=2)
    assert s2sad.value_and_grad(fun)(*args)[0] == pytest.approx(fun(*args))


def test_raise_raises_what_python_raises():
    with pytest.raises(ValueError, match="must not be negative"):
        s2sad.grad(guarded)(np.array([-1.0, 2.0]), 1)


def test_the_except_path_is_differentiated_when_the_block_raises():
    x = np.array([1.5, 2.0])
    check_grads(guarded, [x, 5], order=2)  # x[5]: IndexError, caught: y = x[0]
    value, grad = s2sad.value_and_grad(guarded)(x, 5)
    assert value == pytest.approx(x[0] * np.exp(x[0]), rel=1e-12)
    np.testing.assert_allclose(grad, [(1.0 + x[0]) * np.exp(x[0]), 0.0], rtol=1e-12)


def _checked(x, limit):
    if x > limit:
        raise ValueError("too big")
    return x * x


def stops_partway(x, limit):
    """The block stops at its second statement: the first one's effect stays, as in Python."""
    y = np.sin(x)
    try:
        z = x * 3.0
        y = _checked(x, limit) + z
        y = y * 2.0
    except ValueError:
        y = y * z
    else:
        y = y + 1.0
    finally:
        y = y * 2.0
    return y


def stops_partway_closed_form(x, limit):
    """(value, derivative in x) of `stops_partway`."""
    if x > limit:
        return 6.0 * x * np.sin(x), 6.0 * (np.sin(x) + x * np.cos(x))
    return 2.0 * (2.0 * (x * x + 3.0 * x) + 1.0), 4.0 * (2.0 * x + 3.0)


def handled_in_a_loop(x):
    s = 0.0
    for i in range(4):
        try:
            s = s + _checked(x * i, 2.0)
        except ValueError as err:
            s = s + np.cos(x) * i * len(str(err))
    return s


def least_squares_fallback(a, b):
    try:
        y = np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        y = np.linalg.lstsq(a, b, rcond=None)[0]
    return np.sum(y ** 2)


def nested_tries(x):
    try:
        try:
            y = _checked(x, 1.0)
        except ValueError:
            y = _checked(x * 0.1, 0.5) * x
    except ValueError:
        y = np.tanh(x)
    return y * x


@pytest.mark.parametrize("x", [0.5, 3.0])
def test_a_block_that_stops_partway_keeps_what_ran(x):
    value, slope = stops_partway_closed_form(x, 1.0)
    check_grads(stops_partway, [x, 1.0], order=2)
    assert s2sad.value_and_grad(stops_partway)(x, 1.0) == pytest.approx((value, slope), rel=1e-12)
    assert s2sad.jvp(stops_partway, (x, 1.0), (1.0, 0.0))[1] == pytest.approx(slope, rel=1e-12)
    assert s2sad.vjp(stops_partway, x, 1.0)[1](1.0)[0] == pytest.approx(slope, rel=1e-12)
    hess = s2sad.hessian(stops_partway)(x, 1.0)
    assert hess == pytest.approx(s2sad.jacfwd(s2sad.grad(stops_partway))(x, 1.0), rel=1e-12)


@pytest.mark.parametrize("x", [0.4, 0.8, 3.0, 6.0])
def test_nested_tries_and_tries_in_loops_follow_each_path(x):
    for fun in (handled_in_a_loop, nested_tries):
        check_grads(fun, [x], order=2)
        assert s2sad.grad(fun)(x) == pytest.approx(s2sad.jacobian(fun)(x), rel=1e-12)
    assert s2sad.grad(nested_tries)(x) == pytest.approx(
        3 * x ** 2 if x <= 1.0 else 0.04 * x ** 3 if x <= 5.0 else np.tanh(x) + x / np.cosh(x) ** 2, rel=1e-12)


def test_a_solver_falls_back_to_least_squares_where_the_matrix_is_singular():
    b = np.array([1.0, 0.5])
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    check_grads(least_squares_fallback, [singular + np.eye(2), b])
    check_grads(lambda b: least_squares_fallback(singular, b), [b])  # A singular: no derivative in A
    pinv = np.linalg.pinv(singular)
    np.testing.assert_allclose(s2sad.grad(least_squares_fallback, argnums=1)(singular, b),
                               2.0 * pinv.T @ (pinv @ b), rtol=1e-10)


def returns_from_an_except(x):
    """The random-program tester's seed 102 (with `try` blocks drawn): a `return` in an `except`
    was not seen as an exit, and reached the reverse transform as a statement."""
    for i in range(3):
        try:
            x = _checked(x * 1.5, 1.0)
        except ValueError:
            if x > 0.0:
                return np.sin(x) * i
    return x * x


@pytest.mark.parametrize("x", [0.3, 0.6, -0.5])
def test_a_return_in_an_except_leaves_the_function(x):
    check_grads(returns_from_an_except, [x], order=2)
    assert s2sad.value_and_grad(returns_from_an_except)(x)[0] == pytest.approx(returns_from_an_except(x), rel=1e-12)
    assert s2sad.grad(returns_from_an_except)(x) == pytest.approx(s2sad.jacfwd(returns_from_an_except)(x), rel=1e-12)


def test_a_long_block_differentiates_twice():
    """The random-program tester's seed 570: the adjoint of a `try` block was one `if` nested in
    the next per statement, and its second derivative went past Python's 100 indentation levels.
    Each piece is now one branch of its own."""
    steps = 120
    body = "".join(f"        y = y * 0.99 + np.sin(x) * {k % 3}\n" for k in range(steps))
    source = (f"def long_block(x):\n    y = x\n    try:\n{body}    except ValueError:\n        y = -y\n"
              "    return y * x\n")
    fun = make_function(source)
    coefficients = [k % 3 for k in range(steps)]
    a = 0.99 ** steps
    b = sum(c * 0.99 ** (steps - 1 - k) for k, c in enumerate(coefficients))
    x = 0.4  # y = a x + b sin(x), f = x y
    slope = 2 * a * x + b * (np.sin(x) + x * np.cos(x))
    curvature = 2 * a + b * (2 * np.cos(x) - x * np.sin(x))
    assert s2sad.grad(fun)(x) == pytest.approx(slope, rel=1e-12)
    assert s2sad.grad(s2sad.grad(fun))(x) == pytest.approx(curvature, rel=1e-10)
    assert s2sad.hessian(fun)(x) == pytest.approx(curvature, rel=1e-10)


def test_a_bare_raise_in_an_except_raises_the_error_again():
    def reraises(x):
        try:
            y = _checked(x, 1.0)
        except ValueError:
            if x > 5.0:
                raise
            y = x
        return y

    assert s2sad.grad(reraises)(3.0) == 1.0 and s2sad.grad(reraises)(0.5) == 1.0
    with pytest.raises(ValueError, match="too big"):
        s2sad.grad(reraises)(6.0)


def raises_inside_a_loop_of_the_block(x):
    y = x
    try:
        for _ in range(3):
            y = _checked(y * 2.0, 3.0)
    except ValueError:
        y = y + 1.0
    return y


def raises_in_a_branch(x, flag):
    total = x * 2.0
    try:
        if flag:
            total = total * x
            total = _checked(total, 1.0) + np.sin(total)
        else:
            total = np.exp(total)
        total = _checked(total * 0.5, 2.0)
    except ValueError:
        total = total * 3.0
    return total


@pytest.mark.parametrize("x, flag", [(0.3, True), (0.9, True), (2.0, True), (0.3, False), (0.9, False)])
def test_a_block_that_stops_inside_a_branch(x, flag):
    """Inside an `if` of the block, and after another statement of the branch."""
    check_grads(raises_in_a_branch, [x, flag], order=2)
    assert s2sad.value_and_grad(raises_in_a_branch)(x, flag)[0] == pytest.approx(raises_in_a_branch(x, flag))
    assert s2sad.grad(raises_in_a_branch)(x, flag) == pytest.approx(s2sad.jacfwd(raises_in_a_branch)(x, flag),
                                                                    rel=1e-12)


def test_an_error_caught_after_part_of_a_loop_in_the_block_ran_is_refused():
    assert s2sad.grad(raises_inside_a_loop_of_the_block)(0.1) == pytest.approx(131072 * 0.1 ** 7, rel=1e-12)
    with pytest.raises(s2sad.errors.UnsupportedValue, match="inside a loop in the block of the `try`") as info:
        s2sad.grad(raises_inside_a_loop_of_the_block)(1.0)
    assert f"{__file__}:{line_of(raises_inside_a_loop_of_the_block, 'try:')}" in str(info.value)


def test_an_error_no_except_catches_propagates_and_names_the_skipped_finally():
    def unguarded(x):
        try:
            y = x[3]
        except KeyError:
            y = x
        finally:
            pass
        return y

    with pytest.raises(IndexError) as info:
        s2sad.grad(unguarded)(np.ones(2))
    notes = info.value.__notes__
    assert not any("`except`" in n for n in notes)
    assert any("`finally` block of the `try`" in n for n in notes)


def test_return_in_finally_is_refused_at_its_line():
    def swallows(x):
        try:
            x = x * 2.0
        finally:
            return x  # noqa: B012 - the construct under test

    with pytest.raises(s2sad.UnsupportedSyntax, match="in a `finally` block") as info:
        s2sad.grad(swallows)(1.0)
    assert info.value.lineno == line_of(swallows, "return x")


# ------------------------------------------------------------------ writes into an item of an item


def item_of_item(x):
    m = np.zeros((3, 2, 2))
    for i in range(3):
        m[i][0] = x * i
        m[i][1][1] = x[0] * x[1]
        m[i][0][1] += x[1] ** 2
    m[1:][0][1] = np.sin(x)
    return np.sum(m * m)


def writes_a_parameter(x):
    x[0][1] = x[1][0] * 2.0
    return np.sum(x * x)


@pytest.mark.parametrize("fun, args", [
    (item_of_item, [np.array([0.5, -1.5])]),
    (writes_a_parameter, [np.array([[1.0, 2.0], [3.0, 4.0]])]),
], ids=lambda v: v.__name__ if callable(v) else "")
def test_writes_into_an_item_of_an_array_item(fun, args):
    check_grads(fun, args, order=2 if fun is item_of_item else 1)  # grad of grad calls fun from a helper
    before = [a.copy() for a in args]
    assert s2sad.value_and_grad(fun)(*args)[0] == pytest.approx(fun(*[b.copy() for b in before]))
    np.testing.assert_array_equal(args[0], before[0])  # the caller's array is not written


def into_a_list_item(x):
    rows = [np.zeros(2), np.zeros(2)]
    rows[0][1] = x
    return rows[0][1] * x + np.sum(rows[1])


def into_a_list_of_lists(x):
    grid = [[0.0] * 3 for _ in range(3)]
    for i in range(3):
        for j in range(3):
            grid[i][j] = x[i] * x[j] + (1.0 if i == j else 0.0)
    grid[0][1] = np.sin(grid[0][1])
    return np.sum(np.array(grid) ** 2)


def into_a_dict_of_lists(x):
    d = {"a": [x[0], x[1]], "b": {"u": x[2]}}
    d["a"][1] = d["a"][0] * x[2]
    d["b"]["u"] = d["b"]["u"] ** 2
    return d["a"][1] + d["b"]["u"] + d["a"][0]


@pytest.mark.parametrize("fun, args", [
    (into_a_list_item, [1.5]),
    (into_a_list_of_lists, [np.array([0.3, -0.7, 1.1])]),
    (into_a_dict_of_lists, [np.array([0.3, -0.7, 1.1])]),
], ids=lambda v: v.__name__ if callable(v) else "")
def test_writes_into_an_item_of_a_list_or_dict(fun, args):
    """`x[i][j] = v` on a list of lists (or arrays) or a dict of them: the item is copied, written
    and put back, which is what Python's item holds when no other name or item holds it."""
    check_grads(fun, args, order=2)


def through_a_mask(x):
    m = np.zeros((2, 2))
    m[np.array([0, 1])][0] = x  # writes into a copy: Python drops it
    return np.sum(m) + x


def into_shared_rows(x):
    grid = [[0.0] * 2] * 2  # one row, twice: Python's write changes both
    grid[0][0] = x
    return grid[1][0] + grid[0][0]


@pytest.mark.parametrize("fun", [through_a_mask, into_shared_rows])
def test_writes_into_a_shared_item_or_through_an_index_array_are_refused(fun):
    with pytest.raises(s2sad.UnsupportedValue, match=r"x\[i\]\[j\] = v writes into an item") as info:
        s2sad.grad(fun)(1.5)
    assert any("raised in the derivative code" in note for note in info.value.__notes__)


def holds_a_row_then_writes_into_it(x):
    grid = [[x[0], x[1]], [x[2], 1.0]]
    row = grid[0]
    grid[0][1] = 5.0
    return row[1] * x[0]


def holds_an_array_item_then_writes_into_it(x):
    rows = [x * 1.0, x * 2.0]
    row = rows[0]
    rows[0][1] = 5.0
    return np.sum(row * x)


def copies_rows_by_index_then_writes(x):
    m = np.outer(x, x)
    picked = m[np.array([0, 2])]  # a copy, unlike m[0]
    m[0][1] = 5.0
    return np.sum(picked ** 2) * np.sum(m)


@pytest.mark.parametrize("fun", [holds_a_row_then_writes_into_it, holds_an_array_item_then_writes_into_it])
def test_an_item_held_by_a_name_and_read_after_a_write_into_it_is_refused(fun):
    with pytest.raises(S2SADError, match="is one of its items") as info:
        s2sad.grad(fun)(np.array([0.3, -0.7, 1.1]))
    line = fun.__code__.co_firstlineno + 2
    assert any(f":{line}:" in note for note in info.value.__notes__)


def test_a_copy_read_from_an_array_before_a_write_into_its_row_is_exact():
    check_grads(copies_rows_by_index_then_writes, [np.array([0.3, -0.7, 1.1])], order=2)


def _unused_mismatch_caught(x):
    s = np.sum(x * x)
    try:
        unused = np.ones(3) * np.ones((3, 2))  # noqa: F841 - raises: shapes (3,) and (3, 2) do not broadcast
    except ValueError:
        return s * 2.0
    return s * 3.0


def _unused_mismatch_caught_in_a_helper(x):
    return _unused_mismatch_caught(x) * x


@pytest.mark.parametrize("fun", [_unused_mismatch_caught, _unused_mismatch_caught_in_a_helper])
def test_an_unused_statement_of_a_try_block_still_raises(fun):
    """Seed 61263: the unused product of arrays that do not broadcast raises the ValueError that
    sends the function to its `except`; the optimizer dropped it as dead code, so every mode took
    the other return (a wrong value and derivative). Nothing a `try` block runs is dropped."""
    from tests.test_purity import agree
    x = np.array([-0.218, -1.051, -0.301])
    assert fun(x) is not None
    agree(fun, x)
    np.testing.assert_allclose(s2sad.grad(lambda v: np.sum(fun(v)))(x), np.sum(s2sad.jacobian(fun)(x), axis=0)
                               if np.ndim(fun(x)) else 4.0 * x)
