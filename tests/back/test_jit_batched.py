"""Products added up over a loop's trips made one product a `CHUNK` of trips (the Numba
backend, s2sad/back/jit_batched.py): the same derivatives as the default backend for every
number of trips (none, fewer than a chunk, a whole number of chunks, chunks and a remainder),
in every mode; products it must leave alone left alone; the generated code and the helpers."""

import re

import numpy as np
import pytest

import s2sad
from benchmarks import workloads
from s2sad.back import jit_batched, jit_helpers
from tests.back.test_jit import same

numba = pytest.importorskip("numba", reason="the numba extra is not installed")

CHUNK = jit_batched.CHUNK


def gram(xs, w):
    """A product added up in the function's own loop: `g = g + x.T @ (x @ w)` a trip."""
    g = np.zeros((w.shape[0], w.shape[1]))
    for t in range(xs.shape[0]):
        x = xs[t]
        g = g + x.T @ (x @ w)
    return np.sum(g * w)


def read_inside(xs, w):
    """The accumulator read inside the loop (`g * 0.5`): each trip's product must be added
    before the next trip reads it, so nothing is batched."""
    g = np.zeros((w.shape[0], w.shape[1]))
    for t in range(xs.shape[0]):
        x = xs[t]
        g = 0.5 * g + x.T @ (x @ w)
    return np.sum(g * w)


def nested(xs, w):
    """A loop in the loop: a trip's statements are not assignments only, so nothing is batched."""
    g = np.zeros((w.shape[0], w.shape[1]))
    c = 1.0
    for t in range(xs.shape[0]):
        x = xs[t]
        for _ in range(2):
            c = c * 0.5
        g = g + x.T @ (x @ w)
    return np.sum(g * w) * c


def self_product(xs, w):
    """`g = g + x.T @ x`: one array of rows for both sides of the product."""
    g = np.zeros((xs.shape[2], xs.shape[2]))
    for t in range(xs.shape[0]):
        x = np.tanh(xs[t])
        g = g + x.T @ x
    return np.sum(g * g) + np.sum(w * w)


def kept_start(xs, w):
    """The accumulator's first array held by another name, read after the loop."""
    g = np.ones((w.shape[0], w.shape[1]))
    start = g
    for t in range(xs.shape[0]):
        x = xs[t]
        g = g + x.T @ (x @ w)
    return np.sum(g * w) + np.sum(start * w)


def epochs(xs, w):
    """The loop that adds up inside another loop."""
    total = 0.0
    for e in range(2):
        g = np.zeros((w.shape[0], w.shape[1]))
        for t in range(xs.shape[0]):
            x = xs[t] * (e + 1.0)
            g = g + x.T @ (x @ w)
        total = total + np.sum(g * w)
    return total


def _rnn_args(steps: int):
    rng = np.random.default_rng(11 + steps)
    wx, wh = rng.normal(size=(3, 4)) / 2, rng.normal(size=(4, 4)) / 3
    return wx, wh, 0.1 * rng.normal(size=4), rng.normal(size=(steps, 5, 3))


def _gram_args(steps: int):
    rng = np.random.default_rng(5 + steps)
    return rng.normal(size=(steps, 6, 3)), rng.normal(size=(3, 2))


@pytest.mark.parametrize("steps", [0, 3, CHUNK, 2 * CHUNK + 5])
def test_the_rnns_gradient_is_the_default_backends_for_any_number_of_trips(steps):
    args = _rnn_args(steps)
    derivative = s2sad.grad(workloads.rnn_loss, argnums=(0, 1, 2, 3), backend="numba")
    same(derivative(*args), s2sad.grad(workloads.rnn_loss, argnums=(0, 1, 2, 3))(*args))
    if steps:
        assert "store_rows(" in derivative.built_for(args, {}).source


@pytest.mark.parametrize("steps", [0, 1, 3, CHUNK, CHUNK + 1, 2 * CHUNK + 5])
@pytest.mark.parametrize("fun", [gram, read_inside, nested, self_product, kept_start],
                         ids=lambda f: f.__name__)
def test_a_loops_products_give_the_default_backends_results_in_every_mode(fun, steps):
    xs, w = _gram_args(steps)
    rng = np.random.default_rng(steps)
    value, grads = s2sad.value_and_grad(fun, argnums=(0, 1), backend="numba")(xs, w)
    assert value == pytest.approx(fun(xs, w), rel=1e-12, abs=1e-14)
    same(grads, s2sad.grad(fun, argnums=(0, 1))(xs, w))
    tangents = (rng.normal(size=xs.shape), rng.normal(size=w.shape))
    same(s2sad.jvp(fun, (xs, w), tangents, backend="numba"), s2sad.jvp(fun, (xs, w), tangents))


@pytest.mark.parametrize("steps", [0, 3, 2 * CHUNK + 5])
def test_a_loop_that_adds_up_inside_another_loop(steps):
    """`epochs`' forward mode, its inner loop batched on each outer trip (its reverse mode is
    refused: the inner loop's kept shapes are not known)."""
    xs, w = _gram_args(steps)
    tangents = tuple(np.random.default_rng(steps).normal(size=a.shape) for a in (xs, w))
    same(s2sad.jvp(epochs, (xs, w), tangents, backend="numba"), s2sad.jvp(epochs, (xs, w), tangents))
    if steps:
        assert "store_rows(" in s2sad.show(epochs, args=(xs, w), mode="forward", backend="numba")


def _batched_products(source: str) -> tuple[int, int]:
    """(products whose `x` rows are read where they are, products whose rows are copied)."""
    return source.count(".T @ first_rows("), source.count(f" == {CHUNK}:")


def test_the_products_batched_are_those_added_up_and_read_nowhere_else():
    """`gram`: its own loop's `g` and its adjoint's `bw`; `read_inside`: only the adjoint's `bw`
    (the loop reads `g`); `nested`: neither (a loop in each trip). Each `x` is `xs[t]`, so only
    `g`'s rows are copied, into the slot of the trip (`t % CHUNK`); `self_product`'s `x` is
    `np.tanh(xs[t])`, copied into the next rows (once: it is both sides of its product), and
    its adjoint adds no product up."""
    args = _gram_args(CHUNK + 1)
    found = {}
    for fun in (gram, read_inside, nested, self_product):
        source = s2sad.show(fun, args=args, argnums=(0, 1), backend="numba")
        found[fun.__name__] = viewed, copied = _batched_products(source)
        assert len(re.findall(r"trip_rows\(xs, [^)]*\)\.T @ first_rows\(", source)) == viewed, source
        if fun is not self_product:
            assert source.count("store_rows(") == viewed + 2 * copied, source
            assert source.count("clear_rows(") == 2 * copied, source
    assert found == {"gram": (2, 0), "read_inside": (1, 0), "nested": (0, 0), "self_product": (0, 1)}


def test_the_rnns_weight_gradients_are_one_product_a_chunk():
    """`bwh = bwh + h.T @ t34` and `bwx = bwx + t9.T @ t34`: `h` is a trip's row of the hidden
    states kept, `t9` a trip's matrix of `xs`, both read where they are; the rows of `t34`, read
    by both, are kept once, in the slot of their trip; a product of each run of trips down to a
    multiple of the chunk, nothing after the loop; the bias added up in place."""
    source = s2sad.show(workloads.rnn_loss, args=workloads.rnn_args(False), argnums=(0, 1, 2), backend="numba")
    lines = [line.strip() for line in source.splitlines()]
    made = [line for line in lines if "_rows" in line.split(" = ")[0] and "fused_empty(" in line]
    assert made == [f"t34_rows1 = fused_empty(({CHUNK * 16}, 32), bwh)"], source
    assert "batch_slot1 = t % 16" in lines and "if batch_slot1 == 0:" in lines, source
    assert "batch_count1 = min(100 - t, 16)" in lines, source
    assert "batch_sum1 = trip_rows(h_trips, batch_low1, batch_count1, t34_rows1).T @ " \
        "first_rows(t34_rows1, batch_count1, 16)" in lines, source
    assert "clear_rows(" not in source and source.count(".T @ first_rows(") == 2, source
    reused = [line.split("(")[1].split(",")[0] for line in lines if "fused_reuse(" in line]
    assert reused[0] == "bb", source


@pytest.mark.parametrize("steps", [1, CHUNK - 1, CHUNK + 1, 3 * CHUNK])
@pytest.mark.parametrize("order", ["C", "F"])
def test_rows_read_where_they_are_for_any_trips_and_layout(steps, order):
    """Runs aligned on multiples of the chunk: down, the first run short; up, the last one;
    an `xs` not C-contiguous is copied a run at a time."""
    xs, w = _gram_args(steps)
    xs = np.asarray(xs, order=order)
    value, grads = s2sad.value_and_grad(gram, argnums=(0, 1), backend="numba")(xs, w)
    assert value == pytest.approx(gram(xs, w), rel=1e-12)
    same(grads, s2sad.grad(gram, argnums=(0, 1))(xs, w))
    tangents = tuple(np.random.default_rng(steps).normal(size=a.shape) for a in (xs, w))
    same(s2sad.jvp(gram, (xs, w), tangents, backend="numba"), s2sad.jvp(gram, (xs, w), tangents))


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_trip_rows_and_first_rows_in_python_and_compiled(layout):
    from s2sad.back import jit

    jit.numba_module()
    compiled_trips = numba.njit(lambda xs, low, count, like: jit_helpers.trip_rows(xs, low, count, like))
    compiled_first = numba.njit(lambda rows, count, k: jit_helpers.first_rows(rows, count, k))
    xs = np.arange(5 * 3 * 8.0).reshape(5, 3, 8)
    xs = {"C": xs[:, :, :4].copy(), "F": np.asfortranarray(xs[:, :, :4]), "strided": xs[:, :, ::2]}[layout]
    rows = np.arange(12.0).reshape(6, 2)
    for trips, first in ((jit_helpers.trip_rows, jit_helpers.first_rows), (compiled_trips, compiled_first)):
        np.testing.assert_array_equal(trips(xs, 1, 3, rows), np.concatenate([xs[1], xs[2], xs[3]]))
        np.testing.assert_array_equal(trips(xs, 4, 1, rows), xs[4])
        single = trips(xs.astype(np.float32), 0, 2, rows)  # rows of `like`'s dtype
        assert single.dtype == np.float64
        np.testing.assert_array_equal(single, np.concatenate([xs[0], xs[1]]))
        np.testing.assert_array_equal(first(rows, 2, 2), rows[:4])


def test_a_product_too_large_to_gain_is_left_in_the_loop():
    rng = np.random.default_rng(2)
    xs, w = rng.normal(size=(3, 64, 40)), rng.normal(size=(40, 40))  # 64 * 40 * 40 > SMALL_PRODUCT
    assert 64 * 40 * 40 > jit_batched.SMALL_PRODUCT
    source = s2sad.show(gram, args=(xs, w), argnums=(0, 1), backend="numba")
    assert "store_rows(" not in source
    same(s2sad.grad(gram, argnums=(0, 1), backend="numba")(xs, w), s2sad.grad(gram, argnums=(0, 1))(xs, w))


def test_rows_are_stored_and_cleared_in_python_and_compiled():
    compiled_store = numba.njit(lambda rows, trip, value: jit_helpers.store_rows(rows, trip, value))
    compiled_clear = numba.njit(lambda rows, trips, k: jit_helpers.clear_rows(rows, trips, k))
    from s2sad.back import jit

    jit.numba_module()
    for store, clear in ((jit_helpers.store_rows, jit_helpers.clear_rows), (compiled_store, compiled_clear)):
        rows = np.full((6, 2), 7.0)
        store(rows, 1, np.array([[1.0, 2.0], [3.0, 4.0]]))
        np.testing.assert_array_equal(rows[2:4], [[1.0, 2.0], [3.0, 4.0]])
        clear(rows, 2, 2)
        np.testing.assert_array_equal(rows, [[7.0, 7.0], [7.0, 7.0], [1.0, 2.0], [3.0, 4.0], [0.0, 0.0], [0.0, 0.0]])


def test_float32_products_into_a_float64_sum_are_computed_in_float64():
    """The rows take the accumulator's dtype: `gram`'s `g` is float64, so its float32 products
    are computed in float64 once batched (NumPy computes each in float32, then adds it): the
    value is the float64 computation's, and within float32's precision of NumPy's. (A `grad`
    of it is refused: the loop's tape holds float64 placeholders and float32 values.)"""
    xs, w = (a.astype(np.float32) for a in _gram_args(CHUNK + 3))
    assert "store_rows(" in s2sad.show(gram, args=(xs, w), mode="forward", backend="numba")
    value, _ = s2sad.jvp(gram, (xs, w), (np.ones_like(xs), np.ones_like(w)), backend="numba")
    products = sum(x.astype(np.float64).T @ (x @ w).astype(np.float64) for x in xs)  # each x @ w in float32
    assert value == pytest.approx(np.sum(products * w), rel=1e-12)
    assert value == pytest.approx(gram(xs, w), rel=1e-5)


# ------------------------------------------------------------------ products of each trip's matrix


def recurrent(xs, w, u):
    """`xs[t] @ w` a trip with `xs` and `w` the same on every trip: one product a run of trips."""
    h = np.zeros((xs.shape[1], u.shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ w + h @ u)
    return np.sum(h * h)


def recurrent_down(xs, w, u):
    """The same, the steps taken last to first: runs aligned on multiples of the chunk, the
    first one (trips n - 1 down to the last multiple) the shorter."""
    h = np.zeros((xs.shape[1], u.shape[0]))
    for t in range(xs.shape[0] - 1, -1, -1):
        h = np.tanh(xs[t] @ w + h @ u)
    return np.sum(h * h)


def changing_weight(xs, w, u):
    """`w` changes in the loop: each trip's product stays in it."""
    h = np.zeros((xs.shape[1], u.shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ w + h @ u)
        w = w * 0.9
    return np.sum(h * h)


def some_trips(xs, w, u):
    """A loop over `range(1, n)`: not every matrix of `xs`, so nothing is made before it."""
    h = np.zeros((xs.shape[1], u.shape[0]))
    for t in range(1, xs.shape[0]):
        h = np.tanh(xs[t] @ w + h @ u)
    return np.sum(h * h)


def rebound_in_a_branch(xs, w, u):
    """The trip's matrix doubled on odd trips before its product: not `xs[t]` itself. (A
    rebinding in a branch between `x = xs[t]` and the product was first missed: the compiled
    value was 8.37 where it is 13.69.)"""
    h = np.zeros((xs.shape[1], u.shape[0]))
    for t in range(xs.shape[0]):
        x = xs[t]
        if t % 2 == 1:
            x = 2.0 * x
        h = np.tanh(x @ w + h @ u)
    return np.sum(h * h)


def _recurrent_args(steps: int, order: str = "C"):
    rng = np.random.default_rng(21 + steps)
    xs = np.asarray(rng.normal(size=(steps, 4, 3)), order=order)
    return xs, rng.normal(size=(3, 5)) / 2, rng.normal(size=(5, 5)) / 3


@pytest.mark.parametrize("steps,order", [(1, "C"), (6, "C"), (6, "F"), (CHUNK, "C"), (CHUNK + 3, "C"),
                                         (2 * CHUNK + 1, "F")])
@pytest.mark.parametrize("fun", [recurrent, recurrent_down, changing_weight, some_trips, rebound_in_a_branch],
                         ids=lambda f: f.__name__)
def test_products_of_each_trips_matrix_give_the_default_backends_results(fun, steps, order):
    args = _recurrent_args(steps, order)
    rng = np.random.default_rng(steps)
    value, grads = s2sad.value_and_grad(fun, argnums=(0, 1, 2), backend="numba")(*args)
    assert value == pytest.approx(fun(*args), rel=1e-12)
    same(grads, s2sad.grad(fun, argnums=(0, 1, 2))(*args))
    tangents = tuple(rng.normal(size=a.shape) for a in args)
    same(s2sad.jvp(fun, args, tangents, backend="numba"), s2sad.jvp(fun, args, tangents))


def test_the_products_made_a_run_at_a_time_are_those_the_same_on_every_trip():
    args = _recurrent_args(6)
    made = {fun.__name__: s2sad.show(fun, args=args, argnums=(0, 1, 2), backend="numba").count(") @ w\n")
            for fun in (recurrent, recurrent_down, changing_weight, some_trips, rebound_in_a_branch)}
    assert made == {"recurrent": 1, "recurrent_down": 1, "changing_weight": 0, "some_trips": 0,
                    "rebound_in_a_branch": 0}
    source = s2sad.show(workloads.rnn_loss, args=workloads.rnn_args(False), argnums=(0, 1, 2), backend="numba")
    lines = [line.strip() for line in source.splitlines()]
    assert "xs_wx1 = fused_empty((256, 32), xs, wx)" in lines, source  # (before the loop: bound on every path)
    assert "stack_slot1 = t % 16" in lines and "if stack_slot1 == 0:" in lines, source
    assert "xs_wx1 = trip_rows(xs, t, min(100 - t, 16), xs) @ wx" in lines, source
    assert "t10 = run_rows(xs_wx1, stack_slot1, 16)" in lines, source
    down = s2sad.show(recurrent_down, args=_recurrent_args(2 * CHUNK + 1), argnums=(0, 1, 2), backend="numba")
    assert f"if (stack_slot1 == {CHUNK - 1}) | (t == {2 * CHUNK}):" in down, down


def test_a_runs_rows_in_python_and_compiled():
    from s2sad.back import jit

    jit.numba_module()
    compiled = numba.njit(lambda products, slot, k: jit_helpers.run_rows(products, slot, k))
    products = np.arange(24.0).reshape(12, 2)
    for rows in (jit_helpers.run_rows, compiled):
        np.testing.assert_array_equal(rows(products, 0, 3), products[:3])
        np.testing.assert_array_equal(rows(products, 3, 3), products[9:])
