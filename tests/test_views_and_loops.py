"""Loops over what they write into, and `y += v` where `v` is a view of `y`.

A `for` loop over an array or a list indexes the object itself: Python's loop sees the rows the
body writes and the items it appends. s2sad's loop runs over the items the sequence held when it
started, so a loop whose body writes into what it iterates over (directly, through `enumerate`
or `zip`, or by appending) is refused at the `for` line when it starts; a dict (whose keys the
loop runs over) and a loop that writes only after it are exact.

`y += v` writes into `y`'s array in Python; a view of `y` (`y.T`, `y[1:]`, `y.reshape(-1)`, any
op whose rule says it returns a view) read afterwards would see the write, which `y = y + v`
does not: the guard refuses it at the `+=` line, like `+=` on an array another name holds.

Each supported program is checked in every mode by `agree` (finite differences in a random
direction, jvp against vjp by the dot-product identity, the pullback called twice, jacrev
against jacfwd, grad, value_and_grad, hessian and hvp).
"""

import numpy as np
import pytest

import s2sad
from s2sad.errors import S2SADError, UnsupportedSyntax
from tests.test_modes_agree import each_mode
from tests.test_purity import agree


def _line_of(fun, text: str) -> int:
    source = open(__file__).read().splitlines()
    return next(i for i in range(fun.__code__.co_firstlineno, len(source) + 1) if text in source[i - 1])


def _refused_at(fun, x, text: str, match: str) -> None:
    """Every first-order mode refuses `fun` with an UnsupportedSyntax at the line holding `text`."""
    for call in each_mode(fun, x):
        with pytest.raises(UnsupportedSyntax, match=match) as info:
            call()
        assert (info.value.filename, info.value.lineno) == (__file__, _line_of(fun, text))


# ------------------------------------------------------------------ loops over what they write into


def writes_rows_it_iterates(x):
    x = x * 1.0
    for r in x:
        x[1] = r * 2.0
    return np.sum(x)


def enumerates_and_writes(x):
    x = x * 1.0
    for i, r in enumerate(x):
        x[1] = r * (i + 2.0)
    return np.sum(x)


def zips_and_writes(x):
    x = x * 1.0
    y = x * 3.0
    for a, r in zip(y, x):
        x[1] = r * a
    return np.sum(x)


def writes_in_a_loop_that_breaks(x):
    x = x * 1.0
    for r in x:
        if np.sum(r) > 100.0:
            break
        x[1] = np.sin(r)
    return np.sum(x)


def appends_to_the_list_it_iterates(x):
    items = [x[0], x[1]]
    for a in items:
        if len(items) < 5:
            items.append(a * 2.0)
    return np.sum(items[0] * items[-1])


def writes_the_list_it_iterates(x):
    items = [x[0], x[1], x[0] * x[1]]
    for a in items:
        items[2] = a * 2.0
    return np.sum(items[2])


@pytest.mark.parametrize(("fun", "kind"), [(writes_rows_it_iterates, "array"), (enumerates_and_writes, "array"),
                                           (zips_and_writes, "array"), (writes_in_a_loop_that_breaks, "array"),
                                           (appends_to_the_list_it_iterates, "list"),
                                           (writes_the_list_it_iterates, "list")])
def test_a_loop_over_what_it_writes_into_is_refused_at_the_for_line(fun, kind):
    x = np.arange(6.0).reshape(2, 3) / 10 + 0.1
    what = "an array" if kind == "array" else "a list"
    _refused_at(fun, x, "for ", f"iterates over {what} that its body writes into")
    with pytest.raises(UnsupportedSyntax, match="for i in range"):
        s2sad.grad(fun)(x)


def iterates_then_writes(x):
    x = x * 1.0
    t = x[0] * 0.0
    for r in x:
        t = t + np.sin(r)
    x[0] = t
    return np.sum(x * x)


def iterates_over_indices_and_writes(x):
    x = x * 1.0
    for i in range(len(x)):
        r = x[i]
        x[1] = r * 2.0
    return np.sum(x * x)


def iterates_over_a_copy_and_writes(x):
    x = x * 1.0
    for r in x.copy():
        x[1] = np.sin(r) * x[0]
    return np.sum(x)


def writes_the_dict_it_iterates(x):
    d = {"a": x[0], "b": x[1]}
    for k in d:
        d[k] = d[k] * np.sin(d[k])
    return d["a"] * d["b"]


def enumerates_the_indices_written(x):
    x = x * 1.0
    out = x * 0.0
    for i, r in enumerate(x):
        out[i] = r * x[0]
    return out


def iterates_in_an_outer_loop_that_writes(x):
    x = x * 1.0
    s = 0.0
    for i in range(2):
        for r in x:
            s = s + np.sum(np.sin(r) * r)
        x[i] = x[1 - i] * s
    return s + np.sum(x)


@pytest.mark.parametrize("fun", [iterates_then_writes, iterates_over_indices_and_writes,
                                 iterates_over_a_copy_and_writes, enumerates_the_indices_written,
                                 iterates_in_an_outer_loop_that_writes])
def test_loops_that_do_not_write_what_they_iterate_are_exact(fun):
    x = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])
    assert np.allclose(s2sad.jvp(fun, (x,), (np.ones_like(x),))[0], fun(x.copy()))
    agree(fun, x)


def test_the_indexed_loop_sees_the_rows_it_writes():
    x = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])
    python = iterates_over_indices_and_writes(x)
    expected = np.sum(x[0] ** 2) + np.sum((4.0 * x[0]) ** 2)  # the second trip reads the row the first wrote
    np.testing.assert_allclose(python, expected)
    value, gradient = s2sad.value_and_grad(iterates_over_indices_and_writes)(x)
    np.testing.assert_allclose(value, expected)
    np.testing.assert_allclose(gradient, np.stack([2 * x[0] + 32 * x[0], np.zeros(3)]))


def test_a_loop_may_write_the_dict_it_iterates():
    agree(writes_the_dict_it_iterates, np.array([0.3, -0.7, 1.1]))


def reads_a_view_before_the_loop_and_writes_in_it(x):
    x = x * 1.0
    v = x[0:1]
    for _ in range(2):
        s = np.sum(v)
        x[0] = x[0] * s
    return np.sum(x)


def iterates_a_transpose_and_writes(x):
    x = x * 1.0
    for r in x.T:
        x[0, 1] = np.sum(r)
    return np.sum(x)


@pytest.mark.parametrize("fun", [reads_a_view_before_the_loop_and_writes_in_it, iterates_a_transpose_and_writes])
def test_a_view_read_before_a_loop_that_writes_its_array_is_checked(fun):
    """The view is used on the next trip, after the write: it would change, so it is refused."""
    x = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])
    line = _line_of(fun, "v = x[0:1]" if fun is reads_a_view_before_the_loop_and_writes_in_it else "for r in x.T")
    for call in each_mode(fun, x):
        with pytest.raises(S2SADError, match="is a view of that array") as info:
            call()
        assert any(f"{__file__}:{line}:" in note for note in info.value.__notes__)


# ------------------------------------------------------------------ `y += v` where v is a view of y


def adds_its_transpose_read_later(y):
    y = y * 1.0
    v = y.T
    y += v
    return np.mean(v)


def adds_to_a_reshape_read_later(y):
    y = y * 1.0
    v = y.reshape(-1)
    y += 1.0
    return np.sum(v * v)


def adds_to_a_slice_read_later(y):
    y = y * 1.0
    v = y[1:]
    y += 1.0
    return np.sum(v * v)


def adds_to_np_transpose_read_later(y):
    y = y * 1.0
    v = np.transpose(y)
    y *= 2.0
    return np.sum(np.sin(v))


def adds_to_a_view_of_a_view(y):
    y = y * 1.0
    u = y.T
    v = u[0]
    y += 1.0
    return np.sum(v)


def adds_through_the_view(y):
    y = y * 1.0
    v = y.T
    v += 1.0
    return np.sum(y * y)


@pytest.mark.parametrize("fun", [adds_its_transpose_read_later, adds_to_a_reshape_read_later,
                                 adds_to_a_slice_read_later, adds_to_np_transpose_read_later,
                                 adds_to_a_view_of_a_view, adds_through_the_view])
def test_augmented_assignment_with_a_view_read_later_is_refused_at_its_line(fun):
    y = np.array([[0.3, -0.7], [1.1, 0.5]])
    _refused_at(fun, y, "*= " if fun is adds_to_np_transpose_read_later else "+= ", "another name may hold too")


def adds_its_transpose(y):
    y = y * 1.0
    v = y.T
    y += v
    return np.sum(y * y)


def adds_after_reading_the_shape(y):
    y = y * 2.0
    n = y.shape[0]
    y += np.sin(y)
    return np.sum(y * y) / n


def adds_to_a_view_read_before(y):
    y = y * 1.0
    v = y[1:]
    s = np.sum(v * v)
    y += s
    return y


@pytest.mark.parametrize("fun", [adds_its_transpose, adds_after_reading_the_shape, adds_to_a_view_read_before])
def test_augmented_assignment_with_no_view_read_later_is_exact(fun):
    y = np.array([[0.3, -0.7], [1.1, 0.5]])
    np.testing.assert_allclose(s2sad.jvp(fun, (y,), (np.ones_like(y),))[0], fun(y.copy()))
    agree(fun, y)
