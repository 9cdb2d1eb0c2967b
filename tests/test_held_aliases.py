"""An array held by another value (a tuple, a list, a dict, an array it was stored into), then
written in place: the holder sees the write in Python.

Found by the random-program tester (seeds 7596, 7640, 7873 of `python -m tests.fuzz`). Where
the holder is read after the write, s2sad cannot follow the change: the program is refused at
the user's line. Where nothing reads it afterwards, or the holder is an array (which copies
what it stores), the derivative is exact in every mode (`agree`: finite differences in a random
direction, jvp against vjp, the pullback twice, hessian and hvp).
"""

import numpy as np
import pytest

import s2sad
from s2sad.errors import S2SADError, UnsupportedSyntax, UnsupportedValue
from tests.test_modes_agree import each_mode
from tests.test_purity import agree

X = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])


def _line_of(fun, text: str) -> int:
    source = open(__file__).read().splitlines()
    return next(i for i in range(fun.__code__.co_firstlineno, len(source) + 1) if text in source[i - 1])


def _refused(fun, x, error: type, text: str, match: str) -> None:
    """Every first-order mode refuses `fun` at the line holding `text`."""
    line = _line_of(fun, text)
    for call in each_mode(fun, x):
        with pytest.raises(error, match=match) as info:
            call()
        located = (getattr(info.value, "filename", None), getattr(info.value, "lineno", None)) == (__file__, line)
        assert located or any(f"{__file__}:{line}:" in note for note in getattr(info.value, "__notes__", ()))


# ------------------------------------------------------------------ read after the write: refused


def unpacks_a_view_then_writes(x):
    pair = (x > 0.22, x.T.T)
    mask, view = pair
    for i in range(2):
        x[i, 1] = 0.86
    return np.sum(view)


def lists_a_view_then_writes(x):
    items = [x.T, 1.0]
    x[0, 1] = 0.5
    return np.sum(items[0])


def test_a_view_held_in_a_tuple_or_list_and_read_after_a_write_is_refused():
    """Seed 7640: `sum(view)` read the array before the loop wrote it (value 3.0 where f gave 7.16)."""
    _refused(unpacks_a_view_then_writes, X, S2SADError, "pair = (x > 0.22", "is a view of that array")
    _refused(lists_a_view_then_writes, X, S2SADError, "items = [x.T", "is a view of that array")


def appends_pops_then_writes(x):
    items = []
    items.append(x)
    same = items.pop()
    x[0] = same[-3]
    return np.sum(same)


def appends_to_a_dict_held_list_then_writes(x):
    items = []
    items.append(x)
    same = items.pop()
    table = {"a": items, "b": 2}
    table["d"] = same[0]
    x[0] = same[-3] + table["d"]
    return np.sum(same)


def stores_into_a_list_then_writes(x):
    u = x * 1.0
    out = [0.0, 0.0]
    out[0] = u
    u[1] = 3.0 * u[0]
    return np.sum(out[0])


@pytest.mark.parametrize("fun", [appends_pops_then_writes, appends_to_a_dict_held_list_then_writes,
                                 stores_into_a_list_then_writes])
def test_an_array_stored_into_a_list_and_read_after_a_write_is_refused(fun):
    """Seed 7596: the item popped from the list is the array itself; its gradient missed the write."""
    text = "out[0] = u" if fun is stores_into_a_list_then_writes else "items.append(x)"
    _refused(fun, np.array([0.3, -0.7, 1.1, 0.5]), UnsupportedSyntax, text, "would change too")


def _two_slots():
    return [0.0, 0.0]


def stores_into_a_list_made_elsewhere(x):
    u = x * 1.0
    out = _two_slots()
    out[0] = u
    u[1] = 3.0 * u[0]
    return np.sum(out[0])


def test_a_store_into_a_list_of_unknown_kind_is_refused_when_it_runs():
    """Whether `out` is a list or an array is known only when it runs (`runtime.stored_value`)."""
    _refused(stores_into_a_list_made_elsewhere, np.array([0.3, -0.7, 1.1]), UnsupportedSyntax, "out[0] = u",
             "a list holds this value itself")


# ------------------------------------------------------------------ exact


def stores_rows_of_a_trajectory(x):
    u = x * 1.0
    out = np.zeros((3, 4))
    for k in range(3):
        u[1:] = u[1:] * u[:-1]
        out[k] = u
    return np.sum(out ** 2)


def stores_into_a_list_not_read_again(x):
    u = x * 1.0
    out = [0.0, 0.0]
    out[0] = u
    u[1] = 3.0 * u[0]
    return np.sum(u * u)


def stores_into_an_array_made_elsewhere(x):
    u = x * 1.0
    out = np.zeros((2, 4))
    out[0] = u
    u[1] = 3.0 * u[0]
    return np.sum(out[0] * u)


def adds_then_reads_a_branch_of_it(y):
    y[1] += np.sin(y[0])
    t = y if y[0, 0] < 0.22 else y
    return np.sum(np.sin(t))


def adds_then_sums_a_branch_of_it(y):
    y[1] += y[0] ** 2
    v = np.sum(np.sin(y if y[0, 0] < 0.22 else 2.0 * y), axis=0)
    return v[1]


@pytest.mark.parametrize("fun", [stores_rows_of_a_trajectory, stores_into_a_list_not_read_again,
                                 stores_into_an_array_made_elsewhere])
def test_stores_whose_holder_is_an_array_or_not_read_again_are_exact(fun):
    agree(fun, np.array([0.3, -0.7, 1.1, 0.5]))


@pytest.mark.parametrize("fun", [adds_then_reads_a_branch_of_it, adds_then_sums_a_branch_of_it])
@pytest.mark.parametrize("y00", [0.1, 0.9])
def test_a_branch_that_holds_a_written_parameter_is_exact_to_second_order(fun, y00):
    """Seed 7873: `t = y` in a branch held the array that the gradient's restore of `y[1]` wrote
    into, and the second derivative read `t` after that (grad of grad off by a third)."""
    y = np.array([[y00, -0.7], [1.1, 0.5], [0.2, 0.4]])
    agree(fun, y)


def adds_a_scalar_then_branches(x, y):
    y[1] += x
    v = np.sum(np.sin(y if y[0, 0] < 0.22 else y), axis=0)
    return v[1]


def test_grad_of_grad_through_a_branch_that_holds_a_written_parameter():
    """The tester's own shrunk program, in x: grad(grad) against the closed form -sum(sin(y[1] + x))."""
    y = np.arange(6.0).reshape(3, 2) / 7 + 0.1
    for x in (0.3, -0.4):
        closed = -np.sin(y[1, 1] + x)
        assert np.isclose(s2sad.grad(s2sad.grad(adds_a_scalar_then_branches))(x, y.copy()), closed, rtol=1e-12)
        assert np.isclose(s2sad.hessian(adds_a_scalar_then_branches)(x, y.copy()), closed, rtol=1e-12)


# ------------------------------------------------------------------ one array passed as two parameters


def writes_first_reads_second(a0, a1):
    a0[:] = np.array([0.26, 0.58])
    return a1[1] * a0[0]


def passes_one_array_twice(x):
    v = x[1:] + x[0]
    return np.sum(x) + writes_first_reads_second(v, v)


def passes_two_arrays(x):
    v = x[1:] + x[0]
    return np.sum(x) + writes_first_reads_second(v, v * 2.0)


def test_a_parameter_written_in_place_that_is_another_parameter_is_refused():
    """Seed 10638 (tester's seeds 10000:11000): `h(v, v)` where h writes into its first parameter
    and reads its second. s2sad writes into a copy of the first, so the second kept the old
    values (Python's sees the write): value_and_grad gave 0.46 where f gave 0.24."""
    x = np.array([0.3, -0.7, 1.1])
    for call in each_mode(passes_one_array_twice, x):
        with pytest.raises(UnsupportedValue, match="'a0' is written in place and 'a1' is the same object"):
            call()
    same = x[:2].copy()
    with pytest.raises(UnsupportedValue, match="is the same object"):  # called with one array twice
        s2sad.grad(writes_first_reads_second, argnums=1)(same, same)
    with pytest.raises(UnsupportedValue, match="shares memory"):  # or with overlapping views
        s2sad.grad(writes_first_reads_second, argnums=1)(x[:2], x[1:])
    assert s2sad.grad(writes_first_reads_second, argnums=1)(x[:2].copy(), x[1:].copy())[1] == 0.26
    agree(passes_two_arrays, x)


# ------------------------------------------------------------------ an item taken out, written in place


def _zero(a):
    a -= a
    return a


def item_written_by_augmented_assignment(x):
    c = [x[0]]
    t = c[0]
    t -= t
    return x + t[0]


def appended_item_written_by_a_helper(x):
    held = []
    for _ in range(3):
        held.append(x[0])
    t = _zero(held[2])
    return x + t[0]


def test_an_item_of_a_list_written_in_place_is_refused():
    """Seed 11400: a row of `x` appended to a list, taken out again and written in place (`-=`, in
    the function or in a helper) zeroes that row of `x`; the derivative went on with the row as
    it was (a wrong value, in every mode). The item's object is traced back through the list to
    `x`, and the write is refused at the user's line."""
    _refused(item_written_by_augmented_assignment, X, UnsupportedSyntax, "    t -= t", "another name may hold")
    _refused(appended_item_written_by_a_helper, X, UnsupportedSyntax, "t = _zero(held[2])", "writes into its parameter")


def item_of_a_fresh_list_extended(x):
    c = [x]
    c += [x * 2.0]
    return np.sum(c[0] * c[1])


def test_a_fresh_list_extended_in_place_is_exact():
    """The list itself is the function's own: `c += [...]` extends it, nothing else holds it."""
    agree(item_of_a_fresh_list_extended, X)


def _double(a, b):
    b += b
    return 1.0


def writes_a_view_of_itself_into_itself(x):
    v = 0.68 if _double(x[1], x[::2]) > 0.49 else x
    x[1:] = x[::2]
    return np.sum(x * x) + v


def test_an_array_written_from_a_view_of_itself_is_traced_without_end():
    """Seed 20919: `x[1:] = x[::2]` stores a view of x into x; tracing an item back through its
    holders went round that circle until the recursion limit (a crash in every mode). `v`, which
    may be x, is read after x is written: refused at the user's line."""
    _refused(writes_a_view_of_itself_into_itself, np.array([0.5, -0.2, 0.7]), UnsupportedSyntax,
             "v = 0.68 if _double", "holds 'x' itself")
