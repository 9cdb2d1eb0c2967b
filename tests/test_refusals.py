"""The aliasing fence refuses only real hazards. An alias of an array (`a = x`, `[x, y]`,
`(x if c else y)`) is refused only where the array is written in place after the alias is made
and before the alias is read, or where the alias is written into; otherwise the alias is made to
hold a copy, which is what Python's alias holds while it is read. A binding of a written name to
shared memory (`w = v`, a view, `x = x`) is refused only where an in-place write of the name can
follow it. Each program here was refused before (most were found by the random-program tester,
tests/fuzz/) and is checked now in every mode: the value, grad and value_and_grad against
central differences, jvp and vjp against differences and each other (dot-product identity), and
the second order (hessian, grad of grad) through `check_grads(order=2)`. The arrays written in
place are made inside the programs: `check_grads` calls the plain function on its arguments,
which a write into a parameter changes. The real hazards next to them stay refused at the
user's line."""

import inspect

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads

X3 = np.array([0.3, -0.4, 0.8])


def line_of(fun, text):
    """The line of the file where `text` is in `fun`'s source."""
    lines, first = inspect.getsourcelines(fun)
    return first + next(k for k, line in enumerate(lines) if text in line)


def fresh(args):
    """Copies of the arrays among `args` (the programs write into their parameters)."""
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def central_gradient(fun, args, eps=1e-6):
    """The gradient of a scalar `fun` in each argument by central differences."""
    out = []
    for k, a in enumerate(args):
        g = np.zeros(np.shape(a))
        for j in np.ndindex(np.shape(a)):
            step = np.zeros(np.shape(a))
            step[j] = eps
            plus, minus = fresh(args), fresh(args)
            plus[k], minus[k] = a + step, a - step
            g[j] = (fun(*fresh(plus)) - fun(*fresh(minus))) / (2 * eps)
        out.append(g if np.shape(a) else float(g))
    return out


def check_every_mode(fun, *args):
    argnums = tuple(range(len(args)))
    expected = central_gradient(fun, args)
    grads = s2sad.grad(fun, argnums=argnums)(*fresh(args))
    value, grads2 = s2sad.value_and_grad(fun, argnums=argnums)(*fresh(args))
    np.testing.assert_allclose(value, fun(*fresh(args)), rtol=1e-12)
    for got, got2, want in zip(grads, grads2, expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(got2, want, rtol=1e-6, atol=1e-8)
    check_grads(fun, fresh(args), order=2)


# ------------------------------------------------- an alias read only before the write


def indexes_a_choice_then_writes(x):
    w = np.array([0.5, x, 1.0])
    y = np.cos(w * x)
    for i in range(3):
        w[i] = (w if x > 0.0 else y)[i - 1] * x
    return np.sum(np.sin(w))


def stacks_then_writes(x, y):
    y = np.cos(y)
    v = np.stack([y, y * x])
    y[0] = x * x
    return np.sum(np.tanh(v)) + np.sum(y * y)


def multiplies_by_a_choice_then_writes(x):
    w = np.array([x, 0.2, -x])
    for i in range(2):
        w[0:2] += w[1:] * (w if x * i > -1.0 else 2.0 * w)[0]
    return np.sum(w * w)


def feeds_a_choice_to_sin_then_writes(x):
    y = np.array([0.3, -0.4, 0.8]) * x
    c = (y if x > 0.0 else y * 2.0)
    s = np.sum(np.sin(c))
    y[1] = s * x
    return s + np.sum(y * y)


def reads_a_dict_then_writes(x, y):
    y = y * x
    c = {"a": y}
    s = np.sum(np.sin(c["a"]))
    y[1] = s * x
    return s + np.sum(y * y)


@pytest.mark.parametrize("fun, args", [(indexes_a_choice_then_writes, (0.7,)), (stacks_then_writes, (0.6, X3)),
                                       (multiplies_by_a_choice_then_writes, (0.4,)),
                                       (feeds_a_choice_to_sin_then_writes, (0.7,)),
                                       (reads_a_dict_then_writes, (0.9, X3))],
                         ids=["index_in_loop", "stack", "augmented_item_in_loop", "kept_by_sin", "dict"])
def test_an_alias_read_before_the_write_is_accepted(fun, args):
    check_every_mode(fun, *args)


def read_after_the_write(x):
    w = np.array([x, 1.0, 2.0])
    a = [w, x]
    w[0] = x * x
    return np.sum(a[0]) * x


def read_on_the_next_trip(x):
    w = np.array([x, 1.0, 2.0])
    t = np.zeros(3)
    s = 0.0
    for i in range(2):
        s = s + np.sum(t * x)
        t = (w if x > 0.0 else w)
        w[i] = x * i
    return s


@pytest.mark.parametrize("fun, alias, use", [(read_after_the_write, "a", "np.sum(a[0])"),
                                             (read_on_the_next_trip, "t6", "s = s + np.sum(t * x)")])
def test_an_alias_read_after_the_write_is_still_refused(fun, alias, use):
    pattern = f"'{alias}' holds 'w' itself .* before '{alias}' is read \\(line {line_of(fun, use)}\\)"
    with pytest.raises(s2sad.UnsupportedSyntax, match=pattern):
        s2sad.grad(fun)(0.7)
    with pytest.raises(s2sad.UnsupportedSyntax, match=pattern):
        s2sad.jvp(fun, (0.7,), (1.0,))


def writes_into_the_alias(x):
    w = np.array([x, 1.0, 2.0])
    t = (w if x > 0.0 else w * 2.0)
    t[0] = x
    w[1] = x * x
    return np.sum(w * w)


def test_an_alias_written_into_is_still_refused():
    with pytest.raises(s2sad.UnsupportedSyntax, match="holds 'w' itself .* is written into") as caught:
        s2sad.value_and_grad(writes_into_the_alias)(0.7)
    assert caught.value.where.line == line_of(writes_into_the_alias, "t = (w if")


def chooses_the_parameter_then_writes(x):
    v = x if np.mean(x) <= 0.38 else x * 2.0
    v[:] += v
    return x.sum()


def chooses_the_parameter_then_writes_items(x):
    v = x if np.sum(x) > 0.0 else np.zeros(3)
    for i in range(2):
        v[i] += 0.72
    return np.sum(x * x)


@pytest.mark.parametrize("fun", [chooses_the_parameter_then_writes, chooses_the_parameter_then_writes_items])
def test_a_branch_that_chooses_a_parameter_and_is_written_is_refused_in_every_mode(fun):
    """`v = x if c else ...` holds the caller's `x` when `c` holds: a write into `v` is a write into
    `x`, which Python's caller sees (found by tests/fuzz)."""
    x = np.array([0.1, 0.2, 0.3])
    for run in (lambda: s2sad.grad(fun)(x), lambda: s2sad.value_and_grad(fun)(x),
                lambda: s2sad.jvp(fun, (x,), (np.ones(3),)), lambda: s2sad.vjp(fun, x)):
        with pytest.raises(s2sad.UnsupportedSyntax, match="may share memory"):
            run()
    np.testing.assert_array_equal(x, [0.1, 0.2, 0.3])


# ------------------------------------------- a shared binding after the last write


def rebinds_to_a_view_after_the_writes(x):
    v = np.array([[x, 0.5, -0.3], [0.1, x * x, 0.4]])
    w = np.zeros(3)
    w[1:] += v[0, :2]
    w = v[-1, :]
    return np.sum(np.sin(w)) * x


def rebinds_to_itself_in_a_branch(x, y):
    y = y + x
    if x > 0.0:
        y = y
    y[0] = x * y[1]
    return np.sum(y * y)


def chooses_between_new_arrays(x, y):
    v = (np.array([q * q for q in y]) if x > 0.0 else np.array([x for q in y]))
    v[2] = x * y[0]
    return np.sum(v * y)


def chooses_between_itself_and_a_new_array(x, y):
    y = np.sin(y)
    y = (y * x if x < 0.0 else y)
    y[1] = x
    return np.sum(np.sin(y))


@pytest.mark.parametrize("fun, args", [(rebinds_to_a_view_after_the_writes, (0.8,)),
                                       (rebinds_to_itself_in_a_branch, (0.6, X3)),
                                       (chooses_between_new_arrays, (0.5, X3)),
                                       (chooses_between_itself_and_a_new_array, (0.5, X3))],
                         ids=["view_after_writes", "self_binding", "choice_of_new_arrays", "choice_of_itself"])
def test_a_binding_no_write_follows_is_accepted(fun, args):
    check_every_mode(fun, *args)


def rebinds_to_a_view_inside_the_loop(x):
    v = np.array([[x, 0.5, -0.3], [0.1, x * x, 0.4]])
    w = np.zeros(3)
    for i in range(2):
        w[i] = x
        w = v[i, :]
    return np.sum(np.sin(w)) * x


def test_a_binding_a_later_trip_writes_through_is_still_refused():
    fun = rebinds_to_a_view_inside_the_loop
    bound = line_of(fun, "w = v[i, :]")
    with pytest.raises(s2sad.UnsupportedSyntax, match=f"'w' may share memory .* bound at line {bound}") as caught:
        s2sad.grad(fun)(0.7)
    assert caught.value.where.line == line_of(fun, "w[i] = x")
    assert caught.value.where.filename == __file__
    with pytest.raises(s2sad.UnsupportedSyntax, match="'w' may share memory"):
        s2sad.jvp(rebinds_to_a_view_inside_the_loop, (0.7,), (1.0,))


def _same(a):
    return a


def returned_by_a_helper_after_the_write(x):
    w = np.array([x, 1.0, 2.0])
    t = (w if x > 0.0 else w * 2.0)
    u = _same(t)
    w[0] = x * x
    return np.sum(u)


def read_inside_a_branch_that_rebinds_it(x):
    w = np.array([x, 1.0, 2.0])
    t = w * 1.0
    s = 0.0
    for i in range(2):
        if x > 0.0:
            s = s + np.sum(t)
            t = w
        else:
            t = w
        w[i] = x * i
    return s


@pytest.mark.parametrize("fun, alias, use", [(returned_by_a_helper_after_the_write, "u", "return np.sum(u)"),
                                             (read_inside_a_branch_that_rebinds_it, "t", "s = s + np.sum(t)")])
def test_a_read_through_a_call_or_before_a_rebinding_in_a_branch_is_still_refused(fun, alias, use):
    with pytest.raises(s2sad.UnsupportedSyntax, match=f"holds 'w' itself .* \\(line {line_of(fun, use)}\\)"):
        s2sad.grad(fun)(0.7)
    with pytest.raises(s2sad.UnsupportedSyntax, match="holds 'w' itself"):
        s2sad.jvp(fun, (0.7,), (1.0,))


# ------------------------------------------------------------- an early return


def returns_a_row_early(x, y):
    x = x * y
    if y < 0.0:
        return x[0]
    x[0] = np.sin(x[1])
    return x[1] * x[0]


def returns_a_choice_early(x, y):
    x = x * y
    if y < 0.0:
        return (x if y < -1.0 else x * 2.0)[1]
    x[0] = np.sin(x[1])
    return x[1] * x[0]


@pytest.mark.parametrize("fun", [returns_a_row_early, returns_a_choice_early], ids=["row", "choice"])
@pytest.mark.parametrize("y", [-0.5, 0.5])
def test_a_view_or_alias_returned_early_is_accepted(fun, y):
    x = np.array([[0.3, -0.4, 0.8], [0.1, 0.5, -0.2]])
    check_grads(fun, [x.copy(), y], order=2)
    np.testing.assert_allclose(s2sad.jacobian(fun, argnums=(0, 1))(x.copy(), y)[0],
                               s2sad.jacfwd(fun, argnums=(0, 1))(x.copy(), y)[0], rtol=1e-12)
    cotangent = np.array([0.2, -0.7, 1.1])
    expected = central_gradient(lambda a, b: float(np.sum(fun(a, b) * cotangent)), [x, y])
    got = s2sad.vjp(fun, x.copy(), y)[1](cotangent)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-6, atol=1e-8)
