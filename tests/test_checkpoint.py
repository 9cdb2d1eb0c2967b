"""`s2sad.checkpoint(fun)`: reverse mode keeps only the arguments of a call to `fun` and runs
`fun`'s forward sweep again in the adjoint sweep, instead of keeping its residuals.

What reverse mode keeps is read with `s2sad.testing.recorded` and counted in numbers (the sizes
of the arrays it holds); the gradients must be identical to those without checkpointing, at
first and second order, and forward mode must be unaffected.
"""

import numpy as np
import pytest

import s2sad
from s2sad.testing import check_grads, recorded


def cell(h, w, u):
    return np.tanh(w @ h + u) * 0.9 + 0.1 * np.sin(h)


checkpointed_cell = s2sad.checkpoint(cell)


def recurrent(w, h, us):
    for t in range(us.shape[0]):
        h = cell(h, w, us[t])
    return np.sum(h ** 2)


def recurrent_checkpointed(w, h, us):
    for t in range(us.shape[0]):
        h = checkpointed_cell(h, w, us[t])
    return np.sum(h ** 2)


def numbers(kept) -> int:
    """How many numbers reverse mode keeps: the sizes of the arrays and floats in `kept`."""
    if isinstance(kept, dict):
        return sum(numbers(v) for v in kept.values())
    if isinstance(kept, (list, tuple)):
        return sum(numbers(v) for v in kept)
    if kept is None or isinstance(kept, range):
        return 0
    return int(np.size(kept))


def problem(steps: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((3, 3)) * 0.5, rng.standard_normal(3), rng.standard_normal((steps, 3))


def per_step(fun, argnums) -> float:
    """Numbers kept per loop step: recorded at 4 and at 12 steps."""
    short, long = recorded(fun, *problem(4), argnums=argnums), recorded(fun, *problem(12), argnums=argnums)
    return (numbers(long) - numbers(short)) / 8


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_a_checkpointed_call_keeps_only_its_arguments(argnums):
    kept = per_step(recurrent_checkpointed, argnums)
    assert kept == 6  # h and u_t, 3 numbers each
    assert per_step(recurrent, argnums) > kept


def test_the_tape_of_a_checkpointed_loop_holds_the_states_it_recomputes_from():
    w, h, us = problem(5)
    tape = recorded(recurrent_checkpointed, w, h, us)["tape"]
    states = [h]
    for u in us[:-1]:
        states.append(cell(states[-1], w, u))
    arrays = [entry for entry in tape if isinstance(entry, np.ndarray)]
    assert len(arrays) <= 2 * len(us)  # per step: the state and the input row, nothing of cell's inside
    for kept in states + list(us[:-1]):
        assert any(np.array_equal(kept, a) for a in arrays)


@pytest.mark.parametrize("steps", [1, 6])
def test_gradients_with_and_without_checkpoint_are_identical(steps):
    w, h, us = problem(steps, seed=steps)
    plain = s2sad.grad(recurrent, argnums=(0, 1))(w, h, us)
    checkpointed = s2sad.grad(recurrent_checkpointed, argnums=(0, 1))(w, h, us)
    for a, b in zip(plain, checkpointed):
        np.testing.assert_array_equal(a, b)
    check_grads(recurrent_checkpointed, [w, h, us])


def test_forward_mode_is_unchanged():
    w, h, us = problem(6)
    tangents = problem(6, seed=1)
    np.testing.assert_array_equal(s2sad.jvp(recurrent_checkpointed, (w, h, us), tangents),
                                  s2sad.jvp(recurrent, (w, h, us), tangents))


def second_cell(h, w, u):
    """`cell` again: the tests above built cell's derivatives for several sets of active arguments,
    which share one pseudo-filename (see test_higher.py, known bugs), so second order uses its own."""
    return np.tanh(w @ h + u) * 0.9 + 0.1 * np.sin(h)


checkpointed_second_cell = s2sad.checkpoint(second_cell)


def second_recurrent(w, h, us):
    for t in range(us.shape[0]):
        h = second_cell(h, w, us[t])
    return np.sum(h ** 2)


def second_recurrent_checkpointed(w, h, us):
    for t in range(us.shape[0]):
        h = checkpointed_second_cell(h, w, us[t])
    return np.sum(h ** 2)


def test_second_order_through_a_checkpoint():
    w, h, us = problem(6)
    check_grads(second_recurrent_checkpointed, [w, h, us], order=2)
    expected = s2sad.hessian(second_recurrent, argnums=1)(w, h, us)
    np.testing.assert_allclose(s2sad.hessian(second_recurrent_checkpointed, argnums=1)(w, h, us), expected,
                               rtol=1e-13)
    reverse_over_reverse = s2sad.jacrev(s2sad.grad(second_recurrent_checkpointed, argnums=1), argnums=1)(w, h, us)
    np.testing.assert_allclose(reverse_over_reverse, expected, rtol=1e-12, atol=1e-14)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(s2sad.hvp(second_recurrent_checkpointed, argnums=1)(w, h, us, v), expected @ v,
                               rtol=1e-12)


@s2sad.checkpoint
def squared_sine(x):
    return np.sin(x) ** 2


@s2sad.checkpoint
def twice_squared_sine(x):
    return squared_sine(squared_sine(x))


def damped(x):
    n = 0
    while n < 4:
        x = twice_squared_sine(x) + 0.5 * x
        n = n + 1
    return x


def test_decorator_nested_checkpoints_and_a_while_loop():
    plain = s2sad.grad(s2sad.grad(damped))  # compared with the same program without checkpoints
    undecorated = s2sad.testing.make_function(
        "def damped(x):\n    n = 0\n    while n < 4:\n"
        "        x = np.sin(np.sin(x) ** 2) ** 2 + 0.5 * x\n        n = n + 1\n    return x\n")
    for x in (0.3, 1.1):
        assert s2sad.grad(damped)(x) == pytest.approx(s2sad.grad(undecorated)(x), rel=1e-14)
        assert plain(x) == pytest.approx(s2sad.grad(s2sad.grad(undecorated))(x), rel=1e-13)
    check_grads(damped, [0.7], order=2)


def test_checkpoint_keeps_the_function_callable():
    assert checkpointed_cell.fun is cell
    assert checkpointed_cell.__name__ == "cell"
    w, h, us = problem(1)
    np.testing.assert_array_equal(checkpointed_cell(h, w, us[0]), cell(h, w, us[0]))
