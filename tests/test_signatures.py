"""Calls that spread their arguments (`f(*xs)`, `g(**opts)`, `np.random.randn(*shape)`) and
`global`/`nonlocal` declarations: differentiated in every mode where the items can be listed
when the derivative is built, run as in Python on constants, refused at the user's line
otherwise.
"""

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads
from tests.test_errors import line_of
from tests.test_modes_agree import each_mode


def affine(a, b, c):
    return a * b + c


def spreads(x, y):
    xs = (x, y, x * y)
    pair = [y, 2.0]
    shape = (2, 3)
    options = {"dtype": float}
    rows = np.sum(np.ones(shape) * x, **{"axis": 1})
    counts = np.zeros(*[shape], **options)
    return affine(*xs) + affine(x, *pair) + affine(*(y, x), 1.0) + np.sum(rows) + np.sum(counts)


def draws(x, seed):
    rng = np.random.default_rng(seed)
    shape = (3,)
    noise = rng.normal(0.0, 1.0, *shape)
    return np.sum(x * noise)


@pytest.mark.parametrize("fun, args", [
    (spreads, [1.5, -0.5]),
    (draws, [np.array([0.5, 1.0, 2.0]), 3]),
], ids=lambda v: v.__name__ if callable(v) else "")
def test_spread_calls(fun, args):
    check_grads(fun, args, order=2)
    assert s2sad.value_and_grad(fun)(*args)[0] == pytest.approx(fun(*args))


def test_spreading_a_wrong_number_of_items_is_a_type_error():
    def short(x):
        items = [x, x]
        return affine(*items)

    with pytest.raises(TypeError, match=r"affine\(\) needs 3 items"):
        s2sad.grad(short)(1.0)


def test_spreading_differentiated_values_into_a_library_call_is_refused():
    def spread_active(x):
        xs = (x, x)
        return np.multiply(*xs)

    with pytest.raises(s2sad.MissingRule, match=r"the call of np.multiply spreads values") as info:
        s2sad.grad(spread_active)(1.0)
    assert f"{__file__}:{line_of(spread_active, 'np.multiply')}:" in str(info.value)


SCALE = 3.0


def reads_global(x):
    global SCALE
    return x * SCALE


def make_reader():
    k = 2.0

    def reads_nonlocal(x):
        nonlocal k
        return x * k

    return reads_nonlocal


def test_global_and_nonlocal_reads_are_the_value():
    check_grads(reads_global, [1.5], order=2)
    assert s2sad.grad(reads_global)(1.5) == 3.0
    assert s2sad.grad(make_reader())(1.5) == 2.0


EVALUATIONS = 0
LAST_POINT = None


def counts_its_evaluations(x):
    global EVALUATIONS, LAST_POINT
    EVALUATIONS += 1
    LAST_POINT = x * 1.0
    return np.sum(np.sin(x) * x) * (1.0 + 0.0 * EVALUATIONS)


def loops_over_a_global(x):
    global EVALUATIONS
    total = 0.0
    for EVALUATIONS in range(3):
        total = total + EVALUATIONS * np.sum(x ** 2)
    return total


def test_a_global_the_function_assigns_is_module_state():
    """`global n; n += 1`: read where `global` stands, written after each assignment, in every
    mode as in the function (each derivative call runs the function once); no derivative."""
    global EVALUATIONS
    x = np.array([0.3, -0.7, 1.1])
    EVALUATIONS = 0
    for call in each_mode(counts_its_evaluations, x):
        call()
    assert EVALUATIONS == 4  # grad, value_and_grad, jvp, vjp
    np.testing.assert_array_equal(LAST_POINT, x)
    x[0] = 9.0
    assert LAST_POINT[0] == 0.3  # the module holds its own array, not the caller's
    check_grads(counts_its_evaluations, [np.array([0.3, -0.7, 1.1])], order=2)
    check_grads(loops_over_a_global, [np.array([0.3, -0.7, 1.1])], order=2)
    assert EVALUATIONS == 2


def test_nonlocal_writes_are_refused_at_the_line():
    def make():
        k = 1.0

        def writes_nonlocal(x):
            nonlocal k
            k = x
            return x

        return writes_nonlocal

    fun = make()
    with pytest.raises(s2sad.UnsupportedSyntax, match="assigning to the nonlocal name 'k'") as info:
        s2sad.grad(fun)(1.0)
    assert info.value.lineno == line_of(fun, "nonlocal k")


# ------------------------------------------------------------------ keyword-only and positional-only


def shifted(x, *, shift, scale=2.0):
    return x * scale + shift


def keyword_only(x, /, y, *, w, k=3):
    return shifted(x, shift=y, scale=w) * k + shifted(y, shift=x)


def calls_keyword_only(x, y, w):
    return keyword_only(x, y, w=w) + keyword_only(w, x, w=y, k=1)


def test_keyword_only_parameters_of_a_helper():
    check_grads(calls_keyword_only, [1.5, 2.0, 0.5], order=2)


def test_keyword_only_parameters_are_differentiated_by_name():
    grads = s2sad.grad(keyword_only, argnums=(0, 1, "w"))(1.5, 2.0, w=0.5)
    assert grads == pytest.approx((3 * 0.5 + 1, 3 + 2, 3 * 1.5))
    value, dw = s2sad.value_and_grad(keyword_only, argnums="w")(1.5, 2.0, w=0.5, k=2)
    assert (value, dw) == (pytest.approx(keyword_only(1.5, 2.0, w=0.5, k=2)), pytest.approx(3.0))


def test_a_keyword_only_parameter_without_a_default_after_one_with_a_default_is_refused():
    def late(x, y=1.0, *, z):
        return x * y * z

    with pytest.raises(s2sad.UnsupportedSyntax, match="keyword-only parameter without a default") as info:
        s2sad.grad(late)(1.0, z=2.0)
    assert "give 'z' a default" in str(info.value)


def test_star_args_parameters_are_specialised_to_the_call():
    def gathers(x, *rest):
        return x * rest[0]

    assert s2sad.grad(gathers)(1.0, 2.0) == pytest.approx(2.0)
    assert s2sad.grad(gathers, argnums=1)(1.0, 2.0) == pytest.approx(1.0)
