"""Item and slice writes the adjoint sweep undoes.

The adjoint sweep writes each overwritten slot back (`x[t] = saved`) right after the write's
adjoint. That restore reads the index `t`: in a loop, `t` is the one of the trip being undone,
so the to-be-recorded analysis counts the restore's reads like any other adjoint read (an index
tuple, slice bounds, a value the index was computed from, the item a pop re-appends).

And the adjoint of `x[i] = v` zeroes the slot of x's adjoint before adding it to v's adjoint,
because v may be x itself (`x[:] = x`).

Each program is checked in every mode by `agree` (finite differences in a random direction,
the dot-product identity between jvp and vjp, a pullback called twice, jacrev against jacfwd,
value_and_grad, hessian and hvp).
"""

import numpy as np
import pytest

import s2sad
from tests.test_purity import agree

# ------------------------------------------------------------------ the restore reads the trip's index


def tuple_index_in_a_loop(y):
    v2 = np.outer(y, y)
    v7 = np.sum(v2 * v2)
    for i in range(2):
        v2[i, 0] = 1.0
    return v7


def tuple_index_read_after(y):
    v2 = np.outer(y, y)
    s = 0.0
    for i in range(2):
        s = s + np.sum(np.sin(v2))
        v2[i, 1] = y[i] * 2.0
    return s + np.sum(v2 * v2)


def slice_in_a_loop(y):
    v = y * 1.0
    s = np.sum(v * v)
    for i in range(2):
        v[i:i + 2] = np.cos(v[i:i + 2])
        s = s + np.sum(v * y)
    return s


def aug_item_in_a_loop(y):
    v = y * y
    s = 0.0
    for i in range(3):
        v[i] += np.sin(v[i - 1])
        s = s + v[i] * v[0]
    return s


def nested_loops(y):
    m = np.outer(y, y)
    s = 0.0
    for i in range(2):
        for j in range(2):
            s = s + np.sum(m * m)
            m[i, j + 1] = np.tanh(m[j, i])
    return s + np.sum(m)


def while_loop(y):
    v = y * 1.0
    s = 0.0
    k = 0
    while k < 3:
        s = s + np.sum(np.exp(v) * y)
        v[k] = v[2 - k] * 0.5
        k = k + 1
    return s


def index_from_overwritten_value(y):
    v = y * 1.0
    s = 0.0
    for i in range(3):
        j = (i * 2) % 3
        s = s + np.sum(v * v * y)
        v[j] = np.sin(v[i])
        j = 0
        s = s + v[j]
    return s


def index_rebound_outside_loops(y):
    v = y * 1.0
    j = 1
    s = np.sum(v * v)
    v[j] = 0.5
    s = s + np.sum(np.sin(v) * y)
    j = 2
    v[j] = y[0] * y[1]
    return s + np.sum(v * v)


def popped_in_a_loop(y):
    items = [y * 0.5]
    s = 0.0
    for i in range(3):
        items.append(np.sin(y) * (i + 1.0))
        t = items.pop()
        s = s + np.sum(t * items[0])
        t = y * 2.0
    return s + np.sum(items[0])


# the array's adjoint is not live in the loop: the restores alone read the index


def constant_slice_in_a_loop(y):
    v = y * 1.0
    s = np.sum(v * v * y)
    for i in range(2):
        v[i:i + 2] = 0.5
    return s


def constant_in_nested_loops(y):
    m = np.outer(y, y)
    s = np.sum(np.sin(m) * m)
    for i in range(2):
        for j in range(2):
            m[i, j + 1] = 2.0
    return s


def constant_in_a_while_loop(y):
    v = y * 1.0
    s = np.sum(np.exp(v) * y)
    k = 0
    while k < 3:
        v[k] = 0.5
        k = k + 1
    return s


def constant_at_an_overwritten_index(y):
    v = y * 1.0
    s = np.sum(v * v * y)
    for i in range(3):
        j = (i * 2) % 3
        v[j] = 1.0
        j = 0
    return s


def aug_item_after_the_read(y):
    v = y * y
    s = np.sum(np.cos(v) * v)
    for i in range(3):
        v[i, ...] += y[i]
    return s


@pytest.mark.parametrize("fun", [
    constant_slice_in_a_loop, constant_in_nested_loops, constant_in_a_while_loop,
    constant_at_an_overwritten_index, aug_item_after_the_read,
    tuple_index_in_a_loop, tuple_index_read_after, slice_in_a_loop, aug_item_in_a_loop, nested_loops,
    while_loop, index_from_overwritten_value, index_rebound_outside_loops, popped_in_a_loop,
], ids=lambda f: f.__name__)
def test_a_restore_reads_the_index_of_its_own_trip(fun):
    agree(fun, np.array([0.3, -0.7, 1.1]))


def test_an_item_write_in_a_loop_after_the_read_leaves_the_gradient_of_the_read():
    y = np.array([0.3, -0.7, 1.1])
    closed = 4.0 * y * np.sum(y * y)  # d/dy sum((y y^T)^2), the writes come after the read
    np.testing.assert_allclose(s2sad.grad(tuple_index_in_a_loop)(y), closed, rtol=1e-12)
    value, gradient = s2sad.value_and_grad(tuple_index_in_a_loop)(y)
    np.testing.assert_allclose(value, np.sum(y * y) ** 2, rtol=1e-12)
    np.testing.assert_allclose(gradient, closed, rtol=1e-12)


# ------------------------------------------------------------------ the written value is the array itself


def whole_self_assignment(x):
    v = x * 1.0
    v[:] = v
    return np.sum(np.tanh(v) * x)


def slice_self_assignment(x):
    v = x * 1.0
    v[0:3] = v
    return np.sin(v) * x


def slice_self_aug_assignment(x):
    v = np.sin(x[0:2]) * x[1:3]
    v[0:2] += v
    return np.sum(np.tanh(v))


def self_assignment_in_a_loop(x):
    v = x * 1.0
    for i in range(2):
        v[:] = v
        v[i] = v[i + 1] * v[i]
    return np.sum(v * v)


def found_by_the_random_tester(x):
    v2 = x[:, 2] - np.array([x[0, 1], 0.8]) / (1.0 + (x[:, 0] - x[:, 1]) ** 2)
    v2[:] = v2
    v2[1] = v2[0]
    v2[0:2] += v2
    return 0.39 * np.sum(np.tanh(v2))


@pytest.mark.parametrize("fun, x", [
    (whole_self_assignment, np.array([0.3, -0.7, 1.1])),
    (slice_self_assignment, np.array([0.3, -0.7, 1.1])),
    (slice_self_aug_assignment, np.array([0.3, -0.7, 1.1])),
    (self_assignment_in_a_loop, np.array([0.3, -0.7, 1.1])),
    (found_by_the_random_tester, np.array([[-1.079, 0.849, -0.957], [-0.775, -0.748, -0.436]])),
], ids=lambda p: getattr(p, "__name__", ""))
def test_an_array_written_into_itself(fun, x):
    agree(fun, x)


def test_a_self_assignment_passes_the_whole_gradient_through():
    x = np.array([0.3, -0.7, 1.1])
    closed = np.tanh(x) + x * (1.0 - np.tanh(x) ** 2)
    np.testing.assert_allclose(s2sad.grad(whole_self_assignment)(x), closed, rtol=1e-12)
