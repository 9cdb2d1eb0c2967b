"""Numbers, and items of arrays nothing writes into, recomputed in the adjoint sweep instead of
recorded (s2sad/transforms/recompute.py).

A number made in a loop by a cheap pure operation (`t = math.sin(s)`) is computed again where
the sweep first reads it, once its operands hold what they held when it was made; the tape
then keeps only what it kept anyway. Each program's gradient is checked against finite
differences and forward mode, and the tape's entries per loop step are counted.
"""

import math

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads
from tests.test_tape import per_step


def decay(x, steps):
    s = x
    for _ in range(steps):
        s = s * 0.99 + math.sin(s) * x
    return s


def two_numbers(x, steps):
    s = x
    for _ in range(steps):
        c = math.cos(s)
        e = math.exp(-s * s)
        s = s * c + e * x
    return s


def read_before_made(x, steps):
    """`t` of the previous step is read before this step makes it again: recorded."""
    s, t = x, 0.0
    for _ in range(steps):
        s = s + t * x
        t = math.sin(s)
    return s + t


def read_after_the_loop(x, steps):
    s = x
    t = 0.0
    for _ in range(steps):
        t = math.sin(s)
        s = s * t
    return s * t


def operand_not_restored(x, steps):
    """`u`, the operand of `t`, is overwritten each step but the sweep never needs it (exp's
    partial is its value): `t` is recorded, not `u` in its place."""
    s = x
    for i in range(steps):
        u = s * 0.1 + i * 0.01
        t = math.exp(u)
        s = s * 0.5 + t * x
    return s


def operand_restored(x, steps):
    """The sweep needs `u` (sin's partial reads it): `t` is computed again from it."""
    s = x
    for i in range(steps):
        u = s * 0.5 + i
        t = math.sin(u)
        s = s + t * x
    return s


def in_a_branch(x, steps):
    s = x
    for _ in range(steps):
        t = math.tanh(s)
        if s > 0.3:
            s = s * t
        else:
            s = s + t * x
    return s


def in_a_while_loop(x, limit):
    s, k = x, 0
    while k < limit:
        t = math.sin(s)
        s = s * 0.9 + t * x
        k = k + 1
    return s


def nested(x, steps):
    s = x
    for _ in range(steps):
        for _ in range(2):
            t = math.sin(s)
            s = s * 0.9 + t * x
    return s


PROGRAMS = [decay, two_numbers, read_before_made, read_after_the_loop, operand_not_restored, operand_restored,
            in_a_branch,
            in_a_while_loop, nested]


@pytest.mark.parametrize("fun", PROGRAMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("x", [0.7, -1.3])
def test_gradients_are_exact(fun, x):
    check_grads(fun, (x, 5))
    value, grad = s2sad.value_and_grad(fun)(x, 5)
    assert value == fun(x, 5)
    h = 1e-6
    assert grad == pytest.approx((fun(x + h, 5) - fun(x - h, 5)) / (2 * h), rel=1e-6)


@pytest.mark.parametrize(("fun", "expected"), [
    (decay, 1),  # s only: sin(s) is computed again
    (two_numbers, 2),  # s, and exp(-s * s) (made from a product, itself not kept); cos(s) is computed again
    (read_before_made, 2),  # t read before it is made again: recorded
    (operand_not_restored, 1),  # t (recording u in its place would save nothing)
    (operand_restored, 1),  # u only
    (nested, 2),  # s before each of the inner loop's two steps (its range(2), constant, is made once)
])
def test_tape_entries_per_loop_step(fun, expected):
    assert per_step(fun, 0.7) == expected


def test_what_is_computed_again():
    def code(fun):
        source = s2sad.grad(fun).source_for(0.7, 5)
        return "\n".join(line for line in source.splitlines() if not line.strip().startswith("#"))

    assert code(operand_not_restored).count("math.exp(") == 1  # recorded, not computed again
    assert code(operand_restored).count("math.sin(") == 2
    assert code(two_numbers).count("math.cos(s)") == 2 and code(two_numbers).count("math.exp(") == 1


def test_arrays_are_recorded_not_recomputed():
    def array_decay(x, steps):
        s = x
        for _ in range(steps):
            s = s * 0.99 + np.sin(s) * x
        return np.sum(s)

    assert per_step(array_decay, np.array([0.5, 1.5])) == 2
    check_grads(array_decay, (np.array([0.5, 1.5]), 4))


def test_recomputed_code_reads_like_the_hand_written_gradient():
    source = s2sad.grad(decay).source_for(0.7, 5)
    code = "\n".join(line for line in source.splitlines() if not line.strip().startswith("#"))
    assert code.count("s_trips[_] = s") == 1 and code.count("math.sin(s)") == 2, source


# ------------------------------------------------------------------ items of arrays nothing writes into


def steps_of_inputs(w, xs, steps):
    """A step's input `xs[t]`, an array: read again by the sweep, not recorded."""
    h = np.zeros(xs.shape[1])
    for t in range(steps):
        h = np.tanh(xs[t] * w + h * 0.5)
    return np.sum(h * h)


def written_in_place(w, xs, steps):
    """`xs` changes in place in the loop: its item is recorded, not read again."""
    h = np.zeros(xs.shape[1])
    xs = xs.copy()
    for t in range(steps):
        x = xs[t]
        h = np.tanh(x * w + h * 0.5)
        xs[(t + 1) % steps] = xs[(t + 1) % steps] * 0.5
    return np.sum(h * h)


def rebound_in_the_loop(w, xs, steps):
    """`xs` rebound every step: the item is recorded (read again, it would need every step's
    `xs` recorded instead)."""
    h = np.zeros(xs.shape[1])
    for t in range(steps):
        x = xs[t]
        h = np.tanh(x * w + h * 0.5)
        xs = xs * 0.5 + h
    return np.sum(h * h)


ITEM_PROGRAMS = [steps_of_inputs, written_in_place, rebound_in_the_loop]


def _item_args():
    rng = np.random.default_rng(11)
    return rng.standard_normal(2), rng.standard_normal((4, 2)), 4


@pytest.mark.parametrize("fun", ITEM_PROGRAMS, ids=lambda f: f.__name__)
def test_items_read_again_give_exact_gradients(fun):
    w, xs, steps = _item_args()
    check_grads(fun, (w, xs, steps))  # every mode: finite differences, forward against reverse
    _, bwd = s2sad.vjp(fun, w, xs, steps)
    first = bwd(1.0)
    np.testing.assert_allclose(bwd(1.0)[1], first[1], rtol=0.0)  # a pullback called twice
    value, grads = s2sad.value_and_grad(fun, argnums=(0, 1))(w, xs, steps)
    assert value == fun(w, xs, steps)
    np.testing.assert_allclose(grads[0], s2sad.grad(fun)(w, xs, steps), rtol=1e-12)


def test_an_item_of_an_unwritten_array_is_read_again():
    w, xs, steps = _item_args()
    source = s2sad.grad(steps_of_inputs, argnums=(0, 1)).source_for(w, xs, steps)
    assert "xs[t] *" in source.split("reversed")[1] and source.count("tape.append(") == 1, source


@pytest.mark.parametrize("fun", [written_in_place, rebound_in_the_loop], ids=lambda f: f.__name__)
def test_an_item_of_an_array_written_into_or_rebound_is_recorded(fun):
    """(Writing through a view of `xs` is refused: see test_views_and_loops.py.)"""
    w, xs, steps = _item_args()
    source = s2sad.grad(fun).source_for(w, xs, steps)
    assert "tape.append(x)" in source or "x_trips" in source, source
