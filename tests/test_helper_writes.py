"""A user's function that writes into its argument (`a[:] = ...`, `a[i] = v`, `a += b` on an
array, `items.append(v)`): where the caller can see the argument after the call, the call is
refused at the caller's line (s2sad passes a copy, so value and derivative would follow other
code than Python runs); a fresh temporary, `x = h(x)` and a helper writing into its own copy
are differentiated, in every mode, and an inactive call no longer changes what the adjoint reads.
"""

import inspect

import numpy as np
import pytest

import s2sad
from s2sad.errors import UnsupportedSyntax
from s2sad.testing import check_grads


def h1(a0):
    a0[:] = np.tanh(a0)
    return a0[0]


def view_read_after(x):
    w8 = np.ones(3) * x
    return h1(w8[0:2]) + np.sum(w8)


def fill(out, x):
    out[0] = x * x


def filled_then_read(x):
    out = np.zeros(2)
    _ = fill(out, x)
    return np.sum(out) + x


def h0(a0, a1):
    a0 += a1
    return 0.05


def augmented_into_a_row(x):
    x = x * 1.0
    v6 = x[0]
    v10 = x if h0(x, v6) > 0.73 else x  # noqa: F841
    return np.sum(np.concatenate([v6, [0.54]]))


def passes_its_parameter(x):
    return h1(x) * 2.0


def held_by_a_list(x):
    w = x * 1.0
    items = [w, 1.0]
    _ = h1(w)
    return np.sum(items[0])


def read_earlier_in_the_loop(x):
    w = x * 1.0
    s = 0.0
    for _ in range(2):
        s = s + np.sum(w)
        _ = fill(w, x[0])
    return s


def writes_through(a, x):
    _ = fill(a, x)
    return 1.0


def nested_writer(x):
    out = np.zeros(2)
    _ = writes_through(out, x)
    return np.sum(out) * x


def appends(items, v):
    items.append(v)
    return 0.0


def list_read_after(x):
    items = [x]
    _ = appends(items, x * x)
    return items[0] + items[-1]


def fill_and_return(out, x):
    out[0] = x * x
    return out


def augmented_parameter_passed_on(x):
    x += 1.0
    return np.sum(fill_and_return(x, 2.0))


def loop_item_passed(x):
    rows = [x * 1.0, x * 2.0]
    s = 0.0
    for r in rows:
        s = s + np.sum(fill_and_return(r, 1.0))
    return s


def rebinds_in_one_arm(a0, a1):
    if a1 > 10.0:
        a0 = a0 * 1.0
    else:
        a0 -= a0  # the other arm's rebinding does not run first (found by tests/fuzz)
    return a1


def written_in_the_other_arm(x):
    return rebinds_in_one_arm(x, 0.5) + np.sum(x)


def line_of(fun, text: str) -> int:
    lines, first = inspect.getsourcelines(fun)
    return first + next(k for k, line in enumerate(lines) if text in line)


def every_mode(fun, x):
    x = np.asarray(x, dtype=float) if not isinstance(x, float) else x
    dx = np.ones_like(x) if not isinstance(x, float) else 1.0
    yield "grad", lambda: s2sad.grad(fun)(x)
    yield "value_and_grad", lambda: s2sad.value_and_grad(fun)(x)
    yield "jvp", lambda: s2sad.jvp(fun, (x,), (dx,))
    yield "vjp", lambda: s2sad.vjp(fun, x)[1](1.0)
    yield "hessian", lambda: s2sad.hessian(fun)(x)
    yield "jacrev", lambda: s2sad.jacrev(fun)(x)
    yield "jacfwd", lambda: s2sad.jacfwd(fun)(x)


REFUSED = [
    (view_read_after, 0.3, "return h1(w8[0:2])", "h1() writes into its parameter 'a0' in place", "'w8' is read"),
    (filled_then_read, 0.3, "_ = fill(out, x)", "fill() writes into its parameter 'out' in place", "'out' is read"),
    (augmented_into_a_row, [[1.0, 2.0], [0.5, 0.25]], "h0(x, v6)", "h0() writes into its parameter 'a0' with `+=`",
     "'x' is read"),
    (passes_its_parameter, [0.1, 0.2], "return h1(x)", "h1() writes", "'x' is a parameter of passes_its_parameter"),
    (held_by_a_list, [0.1, 0.2], "_ = h1(w)", "h1() writes", "held by"),
    (read_earlier_in_the_loop, [0.1, 0.2], "_ = fill(w, x[0])", "fill() writes", "'w' is read"),
    (nested_writer, 0.4, "_ = writes_through(out, x)", "writes_through() writes into its parameter 'a'", "'out'"),
    (augmented_parameter_passed_on, [0.1, 0.2], "fill_and_return(x, 2.0)", "fill_and_return() writes",
     "'x' is a parameter of augmented_parameter_passed_on"),
    (loop_item_passed, [0.1, 0.2], "fill_and_return(r, 1.0)", "fill_and_return() writes", "read afterwards"),
    (list_read_after, 0.4, "_ = appends(items, x * x)", "appends() writes into its parameter 'items'", "'items'"),
    (written_in_the_other_arm, [0.1, 0.2], "return rebinds_in_one_arm(x, 0.5)", "rebinds_in_one_arm() writes",
     "'x' is a parameter of written_in_the_other_arm"),
]


@pytest.mark.parametrize("fun, x, text, what, why", REFUSED, ids=[r[0].__name__ for r in REFUSED])
def test_a_write_the_caller_can_see_is_refused_at_the_callers_line(fun, x, text, what, why):
    for mode, run in every_mode(fun, x):
        with pytest.raises(UnsupportedSyntax) as info:
            run()
        error = info.value
        assert error.where.filename == __file__, mode
        assert error.where.line == line_of(fun, text), mode
        assert what in str(error) and why in str(error), mode
        assert "return the new value and assign it" in error.hint and ".copy()" in error.hint, mode


def test_python_agrees_that_those_calls_change_the_caller():
    """The refused programs really depend on the write: a copy (what s2sad passes) gives another value."""
    x = 0.3
    with_the_write = np.tanh(x) + 2 * np.tanh(x) + x
    with_a_copy = np.tanh(x) + 3 * x
    assert view_read_after(x) == pytest.approx(with_the_write, rel=1e-12)
    assert abs(with_the_write - with_a_copy) > 1e-3
    assert filled_then_read(x) == pytest.approx(x * x + x, rel=1e-12)


def test_the_expression_statement_refusal_does_not_suggest_a_refused_pattern():
    def statement_call(x):
        out = np.zeros(2)
        fill(out, x)
        return np.sum(out)

    with pytest.raises(UnsupportedSyntax) as info:
        s2sad.grad(statement_call)(0.3)
    assert info.value.where.line == line_of(statement_call, "fill(out, x)")
    assert "out = fill(out, x)" in info.value.hint and "return out" in info.value.hint


# ---------------------------------------------------------------- allowed: copy semantics equal Python's


def triple_first(a):
    a[0] = a[0] * 3.0
    return a


def square_first(a):
    a[0] = a[0] ** 2
    return np.sum(a)


def local_copy(a):
    a = a.copy()
    a[1] = 0.0
    return np.sum(a * a)


def bump(a, b):
    a += b
    return a * a


def rebound_by_the_call(x):
    w = np.sin(x)
    w = triple_first(w)
    return np.sum(w * w)


def fresh_temporary(x):
    return square_first(x * 2.0) + np.sum(x)


def passes_a_copy(x):
    w = np.cos(x)
    s = square_first(w.copy())
    return s * np.sum(w)


def helper_copies_first(x):
    w = np.sin(x)
    return local_copy(w) + np.sum(w)


def augmented_on_numbers(x):
    y = np.sum(x) * 2.0
    return bump(y, x[0]) + y


def loop_rebinding(x):
    w = x * 1.0
    for _ in range(2):
        w = triple_first(w)
    return np.sum(w * x)


def grad_rebound(x):
    g = 2 * np.sin(x) * np.cos(x)
    g[0] *= 9.0
    return g


def grad_fresh(x):
    return np.array([8 * x[0] + 1.0, 3.0, 3.0])


def grad_copy(x):
    w = np.cos(x)
    s = w[0] ** 2 + w[1] + w[2]
    ds = -np.sin(x) * np.array([2 * w[0], 1.0, 1.0])
    return ds * np.sum(w) + s * -np.sin(x)


def grad_local(x):
    d = 2 * np.sin(x) * np.cos(x)
    d[1] = 0.0
    return d + np.cos(x)


def grad_augmented(x):
    s = np.sum(x)
    g = np.full(3, 2 * (2 * s + x[0]) * 2.0 + 2.0)
    g[0] += 2 * (2 * s + x[0])
    return g


def grad_loop(x):
    return np.array([18 * x[0], 2 * x[1], 2 * x[2]])


ALLOWED = [(rebound_by_the_call, grad_rebound), (fresh_temporary, grad_fresh), (passes_a_copy, grad_copy),
           (helper_copies_first, grad_local), (augmented_on_numbers, grad_augmented), (loop_rebinding, grad_loop)]


@pytest.mark.parametrize("fun, expected", ALLOWED, ids=[a[0].__name__ for a in ALLOWED])
def test_allowed_patterns_give_pythons_value_and_derivatives(fun, expected):
    x = np.array([0.3, -0.7, 1.1])
    value, g = s2sad.value_and_grad(fun)(x)
    assert value == pytest.approx(fun(x.copy()), rel=1e-12)
    assert s2sad.grad(fun)(x) == pytest.approx(expected(x), rel=1e-10)
    assert g == pytest.approx(expected(x), rel=1e-10)
    direction = np.random.default_rng(0).normal(size=3)
    out, tangent = s2sad.jvp(fun, (x,), (direction,))
    assert out == pytest.approx(fun(x.copy()), rel=1e-12)
    assert tangent == pytest.approx(expected(x) @ direction, rel=1e-10)
    out, back = s2sad.vjp(fun, x)
    assert back(1.0)[0] == pytest.approx(expected(x), rel=1e-10)
    check_grads(fun, [x], order=2)
    eps = 1e-5
    fd = np.array([(expected(x + eps * e) - expected(x - eps * e)) / (2 * eps) for e in np.eye(3)])
    assert s2sad.hessian(fun)(x) == pytest.approx(fd, rel=1e-5, abs=1e-6)
    assert s2sad.hvp(fun)(x, direction) == pytest.approx(fd @ direction, rel=1e-5, abs=1e-6)
    assert s2sad.jacrev(fun)(x) == pytest.approx(s2sad.jacfwd(fun)(x), rel=1e-12)

    def along(t):
        return fun(x + t * direction)

    assert s2sad.grad(s2sad.grad(along))(0.0) == pytest.approx(direction @ fd @ direction, rel=1e-5, abs=1e-6)


def writes_its_argument(c):
    c[0] = 5.0
    return 1.0


def inactive_writer(x):
    c = np.array([1.0, 2.0])
    y = x * c
    _ = writes_its_argument(c)
    return np.sum(y)


def test_an_inactive_call_no_longer_changes_what_the_adjoint_reads():
    x = np.array([0.3, 0.4])
    assert inactive_writer(x.copy()) == pytest.approx(0.3 + 0.8)
    assert s2sad.grad(inactive_writer)(x) == pytest.approx([1.0, 2.0])
    assert s2sad.value_and_grad(inactive_writer)(x)[1] == pytest.approx([1.0, 2.0])
    assert s2sad.vjp(inactive_writer, x)[1](1.0)[0] == pytest.approx([1.0, 2.0])
    assert s2sad.jvp(inactive_writer, (x,), (np.array([1.0, -1.0]),))[1] == pytest.approx(-1.0)
    assert s2sad.hessian(inactive_writer)(x) == pytest.approx(np.zeros((2, 2)))
