"""Fresh arrays and rebinding are not aliases. A name bound to a new array or list (`np.zeros_like(u)`,
`y + 1.0`, a comprehension) holds an object no other name holds, and `u = u_new` moves a binding:
where no other name can see the object afterwards, a write into it is a write into the name's
own value. These programs were refused as aliases (most by the random-program tester,
tests/fuzz/); each is checked now in every mode against central differences: grad,
value_and_grad, jvp, vjp, jacobian and hessian. The real aliases next to them (the old name is
read after the write, the buffer is a parameter, a container holds it) stay refused at the
user's line."""

import inspect

import numpy as np
import pytest

import s2sad

# ------------------------------------------------------------------ checking every mode


def central_gradient(fun, x, eps=1e-6):
    """The gradient of scalar `fun` at the float or array `x` by central differences."""
    x = np.asarray(x, dtype=float)
    g = np.zeros(x.shape)
    for j in np.ndindex(x.shape):
        step = np.zeros(x.shape)
        step[j] = eps
        g[j] = (fun(_like(x + step)) - fun(_like(x - step))) / (2 * eps)
    return g


def _like(x):
    return float(x) if np.ndim(x) == 0 else x.copy()


def check_every_mode(fun, x):
    """grad, value_and_grad, jvp, vjp and jacobian against differences; hessian against
    differences of the gradient (and symmetric)."""
    expected = central_gradient(fun, x)
    np.testing.assert_allclose(s2sad.grad(fun)(_like(x)), expected, rtol=1e-6, atol=1e-8)
    value, gradient = s2sad.value_and_grad(fun)(_like(x))
    np.testing.assert_allclose(value, fun(_like(x)), rtol=1e-12)
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-8)
    tangent = _like(np.linspace(0.3, -0.7, np.size(x)).reshape(np.shape(x)))
    primal_out, tangent_out = s2sad.jvp(fun, (_like(x),), (tangent,))
    np.testing.assert_allclose(primal_out, value, rtol=1e-12)
    np.testing.assert_allclose(tangent_out, np.sum(expected * tangent), rtol=1e-6, atol=1e-8)
    out, pullback = s2sad.vjp(fun, _like(x))
    np.testing.assert_allclose(pullback(1.0)[0], expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(s2sad.jacobian(fun)(_like(x)), expected, rtol=1e-6, atol=1e-8)
    hess = np.asarray(s2sad.hessian(fun)(_like(x)))
    derivative = s2sad.grad(fun)
    columns = central_gradient(lambda z: np.asarray(derivative(z)).ravel() @ _unit(x, 0), x) if np.ndim(x) == 0 \
        else np.stack([central_gradient(lambda z, k=k: np.asarray(derivative(z)).ravel()[k], x).ravel()
                       for k in range(np.size(x))])
    np.testing.assert_allclose(hess.reshape(np.shape(columns)), columns, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hess.reshape(np.shape(columns)), np.transpose(columns), rtol=1e-5, atol=1e-6)


def _unit(x, k):
    e = np.zeros(np.size(x))
    e[k] = 1.0
    return e


def line_of(fun, text):
    lines, first = inspect.getsourcelines(fun)
    return first + next(k for k, line in enumerate(lines) if text in line)


# ------------------------------------------------------------------ the programs


def fresh_buffer_per_step(u):
    for _ in range(3):
        u_new = np.zeros_like(u)
        for i in range(1, u.shape[0] - 1):
            u_new[i] = u[i] + 0.2 * (u[i - 1] - 2.0 * u[i] + u[i + 1])
        u = u_new
    return np.sum(u ** 2)


def writes_the_moved_buffer(u):
    """`u = u_new` then a write into `u`: the write goes into `u_new`'s object, but `u_new` is
    made anew before it is read again."""
    for _ in range(3):
        u_new = np.zeros_like(u)
        u_new[1:-1] = u[1:-1] + 0.2 * (u[:-2] - 2.0 * u[1:-1] + u[2:])
        u = u_new
        u[0] = u[1]
        u[-1] = u[-2] * u[1]
    return np.sum(u ** 2)


def copies_then_moves(u):
    for _ in range(2):
        u_new = u.copy()
        u_new[1] = u[0] * u[2]
        u = u_new
        u[2] = u[1] + 1.0
    return np.sum(np.sin(u))


def rebinds_after_a_write(x):
    y = np.zeros(3)
    y[0] = x
    y = y + 1.0
    return np.sum(y ** 2)


def rebinds_after_a_write_then_writes(x):
    y = np.zeros(3)
    y[0] = x
    y = y + 1.0
    y[1] = x * y[0]
    return np.sum(y ** 2)


def pops_a_comprehension(x):
    xs = [x * j for j in range(3)]
    xs.pop()
    return xs[0] + xs[1] ** 2


def sets_an_item_of_a_comprehension(x):
    xs = [x * j for j in range(3)]
    xs[0] = x * x
    return xs[0] * xs[2] + xs[1]


def pops_and_keeps_the_item(x):
    xs = [np.sin(x * j) for j in range(3)]
    last = xs.pop()
    return xs[1] * last


def adds_into_a_slice_in_a_loop(x):
    y = np.zeros(3)
    for k in range(3):
        y[0:2] += x * k
        y[1:] += y[0:2] * 0.5
    return np.sum(y ** 2)


def reads_a_slice_after_adding_into_it(x):
    y = np.zeros(3)
    for _ in range(3):
        y[0:2] += x
        t = y[1:]
    return np.sum(y ** 2) + np.sum(t * t)


def moves_a_local_alias(x):
    """`w = v` where `v` is never read again: `w` may take `v`'s object."""
    v = np.sin(x)
    w = v
    w[0] = v[1] * 2.0
    return np.sum(w * w)


def takes_a_row_of_a_dead_matrix(x):
    m = np.outer(x, x)
    r = m[1]
    r[0] = x[0]
    return np.sum(r ** 2)


def augments_after_a_view_is_used(y):
    y = y * 1.0
    for _ in range(2):
        s = np.sum(y[1] * y)
        y -= 0.1 * s * y
    return np.sum(y ** 2)


ACCEPTED = [fresh_buffer_per_step, writes_the_moved_buffer, copies_then_moves, rebinds_after_a_write,
            rebinds_after_a_write_then_writes, pops_a_comprehension, sets_an_item_of_a_comprehension,
            pops_and_keeps_the_item, adds_into_a_slice_in_a_loop, reads_a_slice_after_adding_into_it,
            moves_a_local_alias, takes_a_row_of_a_dead_matrix,
            augments_after_a_view_is_used]
SCALAR = {rebinds_after_a_write, rebinds_after_a_write_then_writes, pops_a_comprehension,
          sets_an_item_of_a_comprehension, pops_and_keeps_the_item}


@pytest.mark.parametrize("fun", ACCEPTED, ids=lambda f: f.__name__)
def test_fresh_arrays_and_rebinding_are_exact_in_every_mode(fun):
    x = 0.7 if fun in SCALAR else np.array([0.3, -0.5, 0.9, 0.4])
    if fun in (adds_into_a_slice_in_a_loop, reads_a_slice_after_adding_into_it):
        x = np.array([0.3, -0.5])
    if fun is takes_a_row_of_a_dead_matrix or fun is augments_after_a_view_is_used:
        x = np.array([0.3, -0.5, 0.9])
    check_every_mode(fun, x)


def test_the_caller_arrays_are_left_alone():
    u = np.array([0.3, -0.5, 0.9, 0.4])
    s2sad.grad(writes_the_moved_buffer)(u)
    s2sad.jvp(copies_then_moves, (u,), (np.ones(4),))
    np.testing.assert_array_equal(u, [0.3, -0.5, 0.9, 0.4])


# ------------------------------------------------------------------ a heat equation


def heat(u0, alpha):
    """Explicit Euler on a 1-D rod, 20 steps, a fresh buffer per step, insulated ends written
    into the moved buffer; the thermal energy at the end."""
    n = u0.shape[0]
    dx = 1.0 / (n - 1)
    dt = 0.2 * dx * dx
    u = u0
    for _ in range(20):
        u_new = np.zeros_like(u)
        for i in range(1, n - 1):
            u_new[i] = u[i] + alpha * dt / (dx * dx) * (u[i - 1] - 2.0 * u[i] + u[i + 1])
        u = u_new
        u[0] = u[1]
        u[-1] = u[-2]
    return np.sum(u ** 2) * dx


def test_a_heat_equation_time_stepper_is_differentiated_exactly():
    u0 = np.sin(np.linspace(0.0, np.pi, 8)) + 0.1 * np.linspace(0.0, 1.0, 8)
    alpha = 1.3
    d_u0, d_alpha = s2sad.grad(heat, argnums=(0, 1))(u0, alpha)
    np.testing.assert_allclose(d_u0, central_gradient(lambda u: heat(u, alpha), u0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(d_alpha, central_gradient(lambda a: heat(u0, a), alpha), rtol=1e-6, atol=1e-9)
    value, (r_u0, r_alpha) = s2sad.value_and_grad(heat, argnums=(0, 1))(u0, alpha)
    np.testing.assert_allclose(value, heat(u0, alpha), rtol=1e-13)
    direction = np.cos(np.arange(8.0))
    forward_value, forward = s2sad.jvp(heat, (u0, alpha), (direction, 0.5))
    np.testing.assert_allclose(forward_value, value, rtol=1e-13)
    np.testing.assert_allclose(forward, r_u0 @ direction + 0.5 * r_alpha, rtol=1e-10)
    np.testing.assert_allclose(s2sad.jacfwd(heat)(u0, alpha), s2sad.jacrev(heat)(u0, alpha), rtol=1e-10)
    np.testing.assert_allclose(s2sad.jacfwd(heat, 1)(u0, alpha), d_alpha, rtol=1e-10)
    assert np.all(u0 >= 0.0)  # the caller's initial temperature is not written into


# ------------------------------------------------------------------ the real aliases next to them


def writes_through_an_alias_of_the_parameter(u):
    u_new = u
    u_new[1] = u[0] * 2.0
    return np.sum(u_new)


def writes_through_an_alias_read_afterwards(x):
    u = np.sin(x)
    u_new = u
    u_new[1] = 0.0
    return np.sum(u * u_new)


def writes_through_an_alias_in_a_stencil(x):
    u = np.sin(x)
    for _ in range(2):
        u_new = u
        for i in range(1, 3):
            u_new[i] = u[i - 1] + u[i]
        u = u_new
    return np.sum(u)


def moves_a_buffer_another_name_reads(x):
    u = np.sin(x)
    for _ in range(2):
        u_new = np.zeros_like(u)
        u_new[1] = u[0]
        old = u_new
        u = u_new
        u[0] = 1.0
    return np.sum(old)


def moves_a_buffer_a_list_holds(x):
    buffers = []
    u = np.sin(x)
    for _ in range(2):
        u_new = u * 2.0
        buffers.append(u_new)
        u = u_new
        u[0] = 1.0
    return np.sum(buffers[0])


def writes_a_row_of_a_matrix_read_afterwards(x):
    m = np.outer(x, x)
    r = m[1]
    r[0] = x[0]
    return np.sum(m)


def writes_an_item_taken_before_a_comprehension_is_read(x):
    xs = [np.sin(x * j) for j in range(3)]
    first = xs[0]
    first[0] = 1.0
    return np.sum(xs[0])


@pytest.mark.parametrize("fun, bound", [
    (writes_through_an_alias_of_the_parameter, "u_new = u"),
    (writes_through_an_alias_read_afterwards, "u_new = u"),
    (writes_through_an_alias_in_a_stencil, "u_new = u"),
    (moves_a_buffer_another_name_reads, "u = u_new"),
    (moves_a_buffer_a_list_holds, "u = u_new"),
    (writes_a_row_of_a_matrix_read_afterwards, "r = m[1]"),
    (writes_an_item_taken_before_a_comprehension_is_read, "first = xs[0]"),
], ids=lambda p: p if isinstance(p, str) else p.__name__)
def test_a_write_another_name_sees_is_still_refused_in_every_mode(fun, bound):
    x = np.array([0.3, -0.5, 0.9])
    runs = [lambda: s2sad.grad(fun)(x.copy()), lambda: s2sad.value_and_grad(fun)(x.copy()),
            lambda: s2sad.jvp(fun, (x.copy(),), (np.ones(3),)), lambda: s2sad.vjp(fun, x.copy()),
            lambda: s2sad.jacobian(fun)(x.copy()), lambda: s2sad.hessian(fun)(x.copy())]
    for run in runs:
        with pytest.raises(s2sad.UnsupportedSyntax, match="may share memory") as caught:
            run()
        assert f"bound at line {line_of(fun, bound)}" in str(caught.value)


# ------------------------------------------------------------------ the other arm of a branch


def _fill_first(a, v):
    a[0] = v
    return np.sum(a * a)


def calls_a_writer_in_one_arm(x):
    """The call writes into `w`; only the other arm reads it, which never runs after the call."""
    w = np.sin(x)
    return _fill_first(w, x[1]) if x[0] > 0.0 else np.sum(w)


def calls_a_writer_in_one_arm_of_a_loop(x):
    w = np.sin(x)
    total = 0.0
    for k in range(2):
        total = total + (_fill_first(w, x[1]) if x[0] > 0.1 * k else np.sum(w))
    return total


def test_a_read_in_the_other_arm_is_not_a_read_after_the_call():
    check_every_mode(calls_a_writer_in_one_arm, np.array([0.3, -0.5, 0.9]))
    check_every_mode(calls_a_writer_in_one_arm, np.array([-0.3, -0.5, 0.9]))


def test_a_read_in_the_other_arm_on_a_later_trip_is_still_refused():
    with pytest.raises(s2sad.UnsupportedSyntax, match="'w' is read afterwards") as caught:
        s2sad.grad(calls_a_writer_in_one_arm_of_a_loop)(np.array([0.3, -0.5, 0.9]))
    assert caught.value.where.line == line_of(calls_a_writer_in_one_arm_of_a_loop, "total = total +")


# ------------------------------------------------------------------ values copied into an array


def augments_after_copying_into_a_row(x):
    """`w[0, 1:] = y[1:]` copies values into the array `w` (no list or dict takes that index):
    `w` holds nothing of `y`, and `y -= v` changes only `y`."""
    y = np.sin(x)
    w = np.zeros((2, 3))
    w[0, 1:] = y[1:]
    y -= 0.5 * x
    return np.sum(w * w) + np.sum(y * y)


def augments_after_storing_a_view_in_a_list(x):
    y = np.sin(x)
    w = [0.0, 0.0]
    w[0] = y[1:]
    y -= 0.5 * x
    return np.sum(w[0] * w[0]) + np.sum(y * y)


def test_an_array_written_from_a_view_holds_no_view():
    check_every_mode(augments_after_copying_into_a_row, np.array([0.3, -0.5, 0.9]))


def test_a_list_holding_a_view_is_still_refused_when_it_runs():
    with pytest.raises(s2sad.UnsupportedSyntax, match="another name may hold too") as caught:
        s2sad.grad(augments_after_storing_a_view_in_a_list)(np.array([0.3, -0.5, 0.9]))
    assert caught.value.where.line == line_of(augments_after_storing_a_view_in_a_list, "y -= 0.5 * x")
