"""A derivative is a pure function of its inputs: a pullback called twice gives the same result
twice, `jacobian` (which calls one pullback per output) agrees with `jacfwd`, and no call writes
into the caller's arrays (the arguments, the tangents, the cotangents).

Each program below writes into an array in place in one of the ways that used to leak: an item
write the adjoint sweep undoes in the saved array, a list it pops, an argument of a user
function written after the call, a view (`Y.T`, a reshape...) read before its base is written,
and a copy `x * 1.0` the optimizer folded into an alias of the caller's `x`. `agree` checks each
one in every mode against central finite differences in a random direction and against the
other modes, with copies of every input compared after every call.
"""

import numpy as np
import pytest

import s2sad

EPS = 1e-6


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def _like(value, rng):
    return rng.normal(size=np.shape(value)) if np.ndim(value) else float(rng.normal())


def _untouched(value, original, what: str) -> None:
    np.testing.assert_array_equal(value, original, err_msg=f"the {what} was written into")


def _fd(fun, x, v):
    """Central finite difference of `fun` at `x` in direction `v`."""
    return (np.asarray(fun(_copy(x) + EPS * v)) - np.asarray(fun(_copy(x) - EPS * v))) / (2 * EPS)


def _inner(a, b) -> float:
    return float(np.sum(np.asarray(a) * np.asarray(b)))


def agree(fun, x, seed: int = 0, second_order: bool = True) -> None:
    """Every mode of `fun` at `x`: against finite differences, against each other, called twice,
    and never writing into what it was given."""
    rng = np.random.default_rng(seed)
    x0, v, out = _copy(x), _like(x, rng), fun(_copy(x))
    v0, w = _copy(v), _like(out, rng)
    w0 = _copy(w)

    value, tangent = s2sad.jvp(fun, (x,), (v,))
    _untouched(x, x0, "argument (jvp)")
    _untouched(v, v0, "tangent (jvp)")
    np.testing.assert_allclose(value, out, rtol=1e-12)
    np.testing.assert_allclose(tangent, _fd(fun, x, v), rtol=1e-5, atol=1e-7)

    value, pullback = s2sad.vjp(fun, x)
    _untouched(x, x0, "argument (vjp)")
    first, = pullback(w)
    second, = pullback(w)
    _untouched(w, w0, "cotangent (pullback)")
    _untouched(x, x0, "argument (pullback)")
    np.testing.assert_allclose(value, out, rtol=1e-12)
    np.testing.assert_array_equal(second, first, err_msg="the pullback gave another result the second time")
    np.testing.assert_allclose(_inner(first, v), _inner(w, tangent), rtol=1e-9, atol=1e-12)

    if np.ndim(out):
        jac_rev, jac_fwd = s2sad.jacrev(fun)(x), s2sad.jacfwd(fun)(x)
        _untouched(x, x0, "argument (jacobians)")
        np.testing.assert_allclose(jac_rev, jac_fwd, rtol=1e-9, atol=1e-12)
        return

    gradient = s2sad.grad(fun)(x)
    _untouched(x, x0, "argument (grad)")
    np.testing.assert_allclose(_inner(gradient, v), _fd(fun, x, v), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.asarray(gradient) * w, first, rtol=1e-12)  # the pullback is linear in w
    value, again = s2sad.value_and_grad(fun)(x)
    _untouched(x, x0, "argument (value_and_grad)")
    np.testing.assert_allclose(value, out, rtol=1e-12)
    np.testing.assert_allclose(again, gradient, rtol=1e-12)
    np.testing.assert_allclose(s2sad.grad(fun)(x), gradient, rtol=1e-12)  # the cached second call
    _untouched(x, x0, "argument (second grad)")
    if second_order:
        gradient_of = s2sad.grad(fun)
        hess = s2sad.hessian(fun)(x)
        _untouched(x, x0, "argument (hessian)")
        np.testing.assert_allclose(np.reshape(hess, (np.size(x), np.size(x))) @ np.ravel(v),
                                   np.ravel(_fd(gradient_of, x, v)), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(s2sad.hvp(fun)(x, v), np.reshape(np.reshape(hess, (np.size(x), -1)) @ np.ravel(v),
                                                                     np.shape(x)), rtol=1e-9, atol=1e-12)
        _untouched(x, x0, "argument (hvp)")
        _untouched(v, v0, "vector (hvp)")


# ------------------------------------------------------------------ item writes undone in the saved array


def written_then_read(y):
    Y = np.zeros(3)
    Y[1] = np.sum(Y + y)
    return np.sin(Y)


def written_then_read_scalar(y):
    Y = np.zeros(3)
    Y[1] = np.sum(Y + y)
    Y[2] = Y[1] * y[0]
    return np.sum(np.sin(Y) * Y)


def written_in_a_loop(x):
    Y = np.ones(3)
    for i in range(3):
        Y[i] = np.sin(Y[i - 1] * x) + Y[i]
    return Y * x


def written_in_a_loop_scalar(x):
    Y = np.ones(3)
    for i in range(3):
        Y[i] = np.sin(Y[i - 1] * x) + Y[i]
    return np.sum(Y * Y)


def returned_after_writes(x):
    Y = np.zeros(3)
    Y[0] = x * x
    Y[1] = Y[0] * x
    Y[0] = np.cos(Y[1])
    return Y


def rebound_then_written(x):
    Y = np.zeros(2)
    Y[0] = x
    a = np.sum(Y * Y * x)
    Y = np.ones(2)
    Y[1] = a * x
    return np.sum(np.sin(Y)) + a


# ------------------------------------------------------------------ lists popped by the adjoint sweep


def list_read_while_built(x):
    items = []
    s = 0.0
    for i in range(3):
        items.append(np.sin(x) * (i + 1))
        s = s + items[-1] * items[0]
    return s


def list_summed_while_built(x):
    items = []
    s = 0.0
    for i in range(3):
        items.append(np.sin(x) * (i + 1))
        s = s + sum(items) * x
    return s


def comprehension_then_written(x):
    items = [x * (i + 1.0) for i in range(3)]
    Y = np.zeros(3)
    for i in range(3):
        Y[i] = items[i] * Y[i - 1] + items[2 - i]
    return np.sum(Y * Y)


def dict_written(x):
    d = {"a": x, "b": x * x}
    d["a"] = d["b"] * x
    return d["a"] * d["b"]


def chosen_then_written(x):
    """The branch's result `t` and the name `v` it is joined into are one array; the adjoint of
    the division reads it under `t`, the sweep restores it under `v` (found by tests/fuzz)."""
    v = np.mean(x, axis=1) if x[0, 2] >= 0.2 else x[0, 1] / x[:, 0]
    r = v[0]
    v[0:2] = 1.0
    return r * np.ones(3)


def chosen_then_written_scalar(x):
    v = np.mean(x, axis=1) if x[0, 2] >= 0.2 else x[0, 1] / x[:, 0]
    r = v[0] * v[1]
    v[0:2] = 1.0
    return r + np.sum(v)


def exp_then_written(x):
    """`y = np.exp(y)` binds `y` to the exp's output, which its adjoint reads: the write into `y`
    must not reach it."""
    y = x * 1.0
    y = np.exp(y)
    r = y[0] * 2.0
    y[0] = 0.0
    return r + np.sum(y)


def chosen_exp_then_written(x):
    y = np.exp(x) if x[0] > 0 else np.exp(2.0 * x)
    r = y[0] * y[1]
    y[0:2] = 0.0
    return r + np.sum(y)


def dict_key_added_in_a_loop(y):
    """Each trip builds a dict and adds a key: the save before the write finds no item, and the
    restore removes the key again (found by tests/fuzz: KeyError in the adjoint sweep)."""
    for _ in range(2):
        d = {"c": y * 2.0}
        d["a"] = y * d["c"]
        y = np.sin(d["a"])
    return np.sum(y)


@pytest.mark.parametrize("fun, x", [
    (dict_key_added_in_a_loop, np.array([0.3, -0.5])),
    (dict_key_added_in_a_loop, 0.4),
    (exp_then_written, np.array([0.3, 0.5])),
    (chosen_exp_then_written, np.array([0.3, 0.5, -0.2])),
    (chosen_exp_then_written, np.array([-0.3, 0.5, -0.2])),
    (chosen_then_written, np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])),
    (chosen_then_written, -np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])),
    (chosen_then_written_scalar, np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])),
    (chosen_then_written_scalar, -np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])),
    (written_then_read, np.array([0.3, 0.5, 0.7])),
    (written_then_read_scalar, np.array([0.3, -0.5, 0.7])),
    (written_in_a_loop, 0.7),
    (written_in_a_loop_scalar, 0.7),
    (returned_after_writes, 0.6),
    (rebound_then_written, 0.4),
    (list_read_while_built, 0.8),
    (list_summed_while_built, 0.8),
    (comprehension_then_written, 0.3),
    (dict_written, 0.9),
], ids=lambda p: getattr(p, "__name__", ""))
def test_the_adjoint_sweep_leaves_its_residuals_as_they_were(fun, x):
    agree(fun, x)


def test_a_pullback_called_many_times_gives_one_answer():
    x = np.array([0.3, 0.5, 0.7])
    _, pullback = s2sad.vjp(written_then_read, x)
    rows = [pullback(e)[0] for e in np.eye(3)] + [pullback(e)[0] for e in np.eye(3)]
    np.testing.assert_array_equal(rows[:3], rows[3:])
    np.testing.assert_allclose(np.array(rows[:3]), s2sad.jacfwd(written_then_read)(x), rtol=1e-12)
    closed = np.zeros((3, 3))
    closed[1] = np.cos(np.sum(x))
    np.testing.assert_allclose(s2sad.jacobian(written_then_read)(x), closed, rtol=1e-12)


def test_interleaved_pullbacks_of_one_program_stay_apart():
    _, first = s2sad.vjp(written_in_a_loop, 0.7)
    _, second = s2sad.vjp(written_in_a_loop, -0.4)
    w = np.array([1.0, -2.0, 0.5])
    a, b = first(w), second(w)
    assert first(w) == a and second(w) == b
    assert a != b


# ------------------------------------------------------------------ a user function's argument written after the call


def sine_sum(p):
    return np.sum(np.sin(p))


def scaled(p, c):
    return np.sum(p * c)


def argument_written_after_call(x):
    y = np.zeros(3)
    y[0] = x
    v = sine_sum(y)
    y[0] = 2.0
    return v


def argument_written_after_call_and_used(x):
    y = np.zeros(3)
    y[0] = x
    v = sine_sum(y)
    y[0] = 2.0 * x
    y[1] = v
    return v + np.sum(y * y)


def constant_argument_written_after_call(x):
    c = np.ones(2)
    v = scaled(x, c)
    c[0] = 3.0
    return v * np.sum(c * x)


def argument_written_in_a_loop(x):
    y = np.zeros(2)
    s = 0.0
    for i in range(3):
        y[i % 2] = x * (i + 1)
        s = s + sine_sum(y)
    return s


@s2sad.checkpoint
def checkpointed(p):
    return np.sum(np.sin(p) * p)


@s2sad.custom_vjp
def with_vjp(p):
    return np.sum(np.sin(p))


def with_vjp_fwd(p):
    return np.sum(np.sin(p)), p


def with_vjp_bwd(p, g):
    return (g * np.cos(p),)


with_vjp.defvjp(with_vjp_fwd, with_vjp_bwd)


@s2sad.custom_jvp
def with_jvp(p):
    return np.sum(np.sin(p))


@with_jvp.defjvp
def with_jvp_rule(primals, tangents):
    (p,), (dp,) = primals, tangents
    return np.sum(np.sin(p)), np.sum(np.cos(p) * dp)


def checkpoint_argument_written(x):
    y = np.zeros(3)
    y[0] = x[0]
    y[1] = x[1] * x[0]
    v = checkpointed(y)
    y[0] = 2.0
    y[1] = v
    return v * np.sum(y * x)


def custom_vjp_argument_written(x):
    y = np.zeros(3)
    y[0] = x[0]
    y[1] = x[1] * x[0]
    v = with_vjp(y)
    y[0] = 2.0
    y[1] = v
    return v * np.sum(y * x)


def custom_jvp_argument_written(x):
    y = np.zeros(3)
    y[0] = x[0]
    y[1] = x[1] * x[0]
    v = with_jvp(y)
    y[0] = 2.0
    y[1] = v
    return v * np.sum(y * x)


@pytest.mark.parametrize("fun", [checkpoint_argument_written, custom_vjp_argument_written,
                                 custom_jvp_argument_written], ids=lambda p: p.__name__)
def test_checkpoints_and_custom_rules_see_their_arguments_as_called(fun):
    agree(fun, np.array([0.3, 0.5, -0.4]))


def test_argument_written_after_a_call_keeps_its_value_at_the_call():
    assert s2sad.grad(argument_written_after_call)(0.4) == pytest.approx(np.cos(0.4), rel=1e-12)
    assert s2sad.jvp(argument_written_after_call, (0.4,), (1.0,))[1] == pytest.approx(np.cos(0.4), rel=1e-12)


@pytest.mark.parametrize("fun, x", [
    (argument_written_after_call, 0.4),
    (argument_written_after_call_and_used, 0.4),
    (constant_argument_written_after_call, np.array([0.2, -0.7])),
    (argument_written_in_a_loop, 0.3),
], ids=lambda p: getattr(p, "__name__", ""))
def test_a_call_sees_its_arguments_as_they_were_when_called(fun, x):
    agree(fun, x)


# ------------------------------------------------------------------ views read before their base is written


def transpose_read_then_written(x):
    Y = np.outer(x, x)
    s = np.sum(np.sin(Y.T))
    Y[0, 0] = 0.0
    return s + np.sum(Y)


def transpose_in_augmented_write(x):
    Y = np.outer(x, x)
    v = np.sin(x)
    Y[1] += Y.T @ v
    return np.sum(Y * Y)


def reshape_read_then_written(x):
    Y = np.outer(x, x)
    r = np.reshape(Y, (4,))
    s = np.sum(r * r * r)
    Y[1, 1] = 5.0
    return s * np.sum(Y)


def view_ravel(x):
    Y = np.outer(x, x)
    s = np.sum(np.sin(np.ravel(Y)))
    Y[0, 1] = 0.0
    return s + np.sum(Y)


def view_method_reshape(x):
    Y = np.outer(x, x)
    s = np.sum(np.sin(Y.reshape(4)))
    Y[0, 1] = 0.0
    return s + np.sum(Y)


def view_swapaxes(x):
    Y = np.outer(x, x)
    s = np.sum(np.sin(np.swapaxes(Y, 0, 1)))
    Y[0, 1] = 0.0
    return s + np.sum(Y)


def view_moveaxis(x):
    Y = np.outer(x, x)
    s = np.sum(np.sin(np.moveaxis(Y, 0, 1)))
    Y[0, 1] = 0.0
    return s + np.sum(Y)


def view_diagonal(x):
    Y = np.outer(x, x)
    s = np.sum(np.sin(np.diagonal(Y)))
    Y[0, 1] = 0.0
    return s + np.sum(Y)


def view_squeeze(x):
    Y = np.outer(x, x)
    s = np.sum(np.sin(np.squeeze(Y[None])))
    Y[0, 1] = 0.0
    return s + np.sum(Y)


def view_expand_dims(x):
    Y = np.outer(x, x)
    s = np.sum(np.sin(np.expand_dims(Y, 0)))
    Y[0, 1] = 0.0
    return s + np.sum(Y)


def view_flip(x):
    Y = np.outer(x, x)
    s = np.sum(np.sin(np.flip(Y, 0)))
    Y[0, 1] = 0.0
    return s + np.sum(Y)


def view_broadcast_to(x):
    Y = np.outer(x, x)
    s = np.sum(np.sin(np.broadcast_to(Y, (3, 2, 2))))
    Y[0, 1] = 0.0
    return s + np.sum(Y)


def view_transpose_call(x):
    Y = np.outer(x, x)
    s = np.sum(np.sin(np.transpose(Y)))
    Y[0, 1] = 0.0
    return s + np.sum(Y)


def view_slice(x):
    Y = np.outer(x, x)
    s = np.sum(np.sin(Y[:, 1]))
    Y[0, 1] = 0.0
    return s + np.sum(Y)


def view_asarray(x):
    Y = np.outer(x, x)
    s = np.sum(np.sin(np.asarray(Y)))
    Y[0, 1] = 0.0
    return s + np.sum(Y)


def method_views_read_then_written(x):
    Y = np.outer(x, x)
    s = np.sum(np.exp(Y.ravel())) + np.sum(np.swapaxes(Y, 0, 1)[0] ** 3) + np.sum(np.diagonal(Y) ** 2)
    s = s + np.sum(np.cos(np.squeeze(np.expand_dims(Y, 0))))
    Y[0, 1] = -1.0
    Y[1, 0] = 2.0
    return s + np.sum(Y * Y)


def flip_read_then_written(x):
    Y = x * x
    f = np.flip(Y)
    s = np.sum(f * np.arange(2.0))
    Y[0] = 1.0
    return s + np.sum(Y * x)


VIEWS_READ_THEN_WRITTEN = [
    transpose_read_then_written, transpose_in_augmented_write, reshape_read_then_written,
    method_views_read_then_written, flip_read_then_written, view_ravel, view_method_reshape, view_swapaxes,
    view_moveaxis, view_diagonal, view_squeeze, view_expand_dims, view_flip, view_broadcast_to,
    view_transpose_call, view_slice, view_asarray,
]


@pytest.mark.parametrize("fun", VIEWS_READ_THEN_WRITTEN, ids=lambda p: p.__name__)
def test_a_view_read_before_its_base_is_written_keeps_the_old_values(fun):
    agree(fun, np.array([0.3, 0.5]))


def view_used_after_write(x):
    Y = np.outer(x, x)
    t = Y.T
    Y[0, 0] = 0.0
    return np.sum(t * x)


def view_read_each_trip(x):
    Y = np.outer(x, x)
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.cos(Y.T) * x)
        Y[i, 0] += x[1] * s
        for j in range(2):
            s = s + np.sum(np.diagonal(Y) ** 2) * x[j]
            Y[j, 1] = s * 0.1
    return s + np.sum(Y)


def view_used_after_write_in_nested_loop(x):
    Y = np.outer(x, x)
    s = 0.0
    for i in range(2):
        for j in range(2):
            r = Y.T
            Y[i, j] = s
            s = s + np.sum(r * x)
    return s


def view_kept_across_trips(x):
    Y = np.outer(x, x)
    s = 0.0
    r = x * 1.0
    for i in range(2):
        s = s + np.sum(r * x)
        r = Y.T[0]
        Y[i, 0] = s
    return s


def test_a_view_read_and_used_between_writes_in_loops_is_fine():
    agree(view_read_each_trip, np.array([0.3, 0.5]))


@pytest.mark.parametrize("fun", [view_used_after_write, view_used_after_write_in_nested_loop, view_kept_across_trips],
                         ids=lambda p: p.__name__)
def test_a_view_used_after_its_base_is_written_is_an_error(fun):
    with pytest.raises(s2sad.S2SADError, match="is a view of that array"):
        s2sad.grad(fun)(np.array([0.3, 0.5]))


def test_the_rules_declare_which_ops_return_views():
    from s2sad.front.aliasing import returns_view

    for op in (np.transpose, np.reshape, np.ravel, np.squeeze, np.expand_dims, np.swapaxes, np.moveaxis,
               np.broadcast_to, np.flip, np.real, np.diagonal, np.asarray, np.atleast_2d):
        assert returns_view(op), op
    for op in (np.sin, np.copy, np.array, np.conj, np.ndarray.flatten, np.outer, np.concatenate):
        assert not returns_view(op), op


# ------------------------------------------------------------------ folds that would alias the caller's array


def times_one_then_written(x):
    y = x * 1.0
    y[0] = 0.0
    return np.sum(y * y)


def one_times_then_written(x):
    y = 1.0 * x
    y[1] = 2.0
    return np.sum(y * x)


def int_one_then_written(x):
    y = x * 1
    z = x / 1
    w = x ** 1
    y[0] = 3.0
    z[1] = 4.0
    w[0] = 0.5
    return np.sum(y * z * w * x)


def times_one_in_a_loop(x):
    s = 0.0
    for i in range(2):
        y = x * 1.0
        y[i] = 0.0
        s = s + np.sum(np.sin(y) * x)
    return s


@pytest.mark.parametrize("fun", [times_one_then_written, one_times_then_written, int_one_then_written,
                                 times_one_in_a_loop], ids=lambda p: p.__name__)
def test_a_fold_never_makes_a_fresh_array_an_alias(fun):
    x = np.array([0.3, 0.5, -0.2])
    agree(fun, x)
    gradient = s2sad.grad(fun)(x)  # the first call would have written into x
    np.testing.assert_allclose(s2sad.grad(fun)(x), gradient, rtol=1e-12)
    for optimize in (True, False):
        np.testing.assert_allclose(s2sad.grad(fun, optimize=optimize)(x), gradient, rtol=1e-12)


def test_times_one_then_written_closed_form():
    x = np.array([0.3, 0.5, -0.2])
    expected = 2 * x
    expected[0] = 0.0
    np.testing.assert_allclose(s2sad.grad(times_one_then_written)(x), expected, rtol=1e-12)
    np.testing.assert_array_equal(x, [0.3, 0.5, -0.2])


# ------------------------------------------------------------------ returned values the adjoint sweep restores


def aux_written_in_place(x):
    Y = np.zeros(3)
    Y[0] = x
    s = np.sum(Y * Y) * x
    Y[0] = 7.0
    Y[2] = s
    return s, Y


def test_an_aux_array_is_returned_as_the_function_left_it():
    x = 0.5
    s, aux = aux_written_in_place(x)
    gradient, got = s2sad.grad(aux_written_in_place, has_aux=True)(x)
    (value, got_too), again = s2sad.value_and_grad(aux_written_in_place, has_aux=True)(x)
    np.testing.assert_array_equal(got, aux)
    np.testing.assert_array_equal(got_too, aux)
    assert value == s
    assert gradient == pytest.approx(3 * x * x, rel=1e-12) and again == gradient  # d(x^3)/dx


# ------------------------------------------------------------------ rebinding to a new value ends sharing


def scaled_then_written(x):
    Y = np.zeros(3)
    Y = Y * 0.5 + x
    Y[0] = x * x
    return np.sum(np.sin(Y))


def scaled_each_trip_then_written(x):
    Y = np.ones(3)
    for i in range(3):
        Y = Y * 0.5
        Y[i] = np.sin(x) * Y[i - 1] + x
    return np.sum(Y * Y)


def comprehension_rebuilt_each_trip(x):
    s = 0.0
    for i in range(2):
        items = [x * (j + i) for j in range(3)]
        s = s + sum(items) * items[1]
    return s


@pytest.mark.parametrize("fun", [scaled_then_written, scaled_each_trip_then_written, comprehension_rebuilt_each_trip],
                         ids=lambda p: p.__name__)
def test_a_name_bound_to_a_new_value_may_be_written(fun):
    agree(fun, 0.6)


def rebound_only_in_a_branch(x):
    Y = np.zeros(2)
    a = Y
    if x > 0.0:
        Y = np.ones(2)
    Y[0] = x
    return a[0] + Y[0]


def rebound_only_in_an_inner_loop(x, n):
    Y = np.zeros(2)
    s = 0.0
    for i in range(2):
        a = Y
        for _ in range(n):
            Y = np.ones(2)
        Y[i] = x
        s = s + a[0]
    return s + Y[0]


@pytest.mark.parametrize("fun, args", [(rebound_only_in_a_branch, (0.5,)), (rebound_only_in_an_inner_loop, (0.5, 0))],
                         ids=["branch", "inner_loop"])
def test_a_rebinding_that_may_not_run_does_not_end_sharing(fun, args):
    with pytest.raises(s2sad.UnsupportedSyntax, match="'a' holds 'Y' itself"):
        s2sad.grad(fun)(*args)


# ------------------------------------------------------------------ a saved name that may be unbound yet


def sine_weighted(p):
    return np.sum(np.sin(p) * p)


def saved_after_an_untaken_branch(x):
    s = 0.0
    if s > 0.1:
        v = sine_weighted(x)
        s = s + v * x[0]
    v = sine_weighted(x)
    s = s + v * x[0]
    return x * s


def saved_after_an_untaken_branch_scalar(x):
    s = np.sum(x)
    if s > 5.0:
        v = s * s
        s = s + v * x[0]
    v = np.sin(s)
    s = s + v * x[0]
    return s * v


@pytest.mark.parametrize("fun", [saved_after_an_untaken_branch, saved_after_an_untaken_branch_scalar],
                         ids=lambda p: p.__name__)
def test_a_name_saved_before_its_first_sure_binding(fun):
    agree(fun, np.array([0.3, 0.5]))
    agree(fun, np.array([3.0, 2.5]))  # the branch taken
