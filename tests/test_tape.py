"""What reverse mode keeps for the adjoint sweep (`s2sad.testing.recorded`): in a loop of T
steps, only values the adjoint reads and the loop overwrites are saved, one tape entry per step
for each of them; a branch saves its decision and a while loop its trip count. The generated
code does not grow with T. The tape belongs to one call: interleaved pullbacks and threads
calling the same derivative at once get their own.
"""

import math
import threading

import numpy as np
import pytest

import s2sad
from s2sad import pipeline
from s2sad.testing import check_grads, recorded


def tape_length(kept: dict) -> int:
    return sum(len(value) for value in kept.values() if isinstance(value, list))


def per_step(fun, *args) -> float:
    """Tape entries per loop step: `fun(*args, T)` recorded at T = 4 and T = 12."""
    short, long = recorded(fun, *args, 4), recorded(fun, *args, 12)
    assert short.keys() == long.keys()
    return (tape_length(long) - tape_length(short)) / 8


def linear_accumulation(x, steps):
    s = 0.0
    for i in range(steps):
        s = s + x * i
    return s


def linear_in_arrays(x, steps):
    s = x
    for i in range(steps):
        s = s + np.sin(x) * i
    return np.sum(s)


def repeated_product(x, steps):
    s = 1.0
    for _ in range(steps):
        s = s * x
    return s


def repeated_sine(x, steps):
    s = x
    for _ in range(steps):
        s = np.sin(s)
    return s


def product_then_sine(x, steps):
    s = x
    for _ in range(steps):
        s = s * x
        s = np.sin(s)
    return s


def branch_in_loop(x, steps):
    s = x
    for _ in range(steps):
        if s > 0.5:
            s = s - 0.1 * x
        else:
            s = s + 0.2
    return s


@pytest.mark.parametrize(("fun", "x", "expected"), [
    (linear_accumulation, 0.9, 0),  # the adjoint reads only x and the loop index
    (linear_in_arrays, np.array([0.5, 1.5]), 0),
    (repeated_product, 0.9, 1),  # s before each product
    (repeated_sine, 0.9, 1),  # s before each sine
    (product_then_sine, 0.9, 2),
    (branch_in_loop, 0.9, 1),  # the decision
])
def test_tape_entries_per_loop_step(fun, x, expected):
    assert per_step(fun, x) == expected


def test_the_tape_holds_what_the_adjoint_reads():
    """A loop over `range(n)` keeps each number in a list of its own, one slot a trip."""
    kept = recorded(repeated_product, 0.9, 4)
    assert kept["s_trips"] == pytest.approx([1.0, 0.9, 0.81, 0.729])
    decisions = recorded(branch_in_loop, 0.9, 6)["t2_trips"]
    assert decisions[1:] == [True] * 5  # s = 0.9 0.81 0.72 0.63 0.54; the last (0.45: else) is read first, not taped
    assert decisions[0] is None  # the value before the first step


def grow(x, limit):
    s = x
    while s < limit:
        s = s * 1.5
    return s * x


def test_a_while_loop_records_its_trip_count():
    short, long = recorded(grow, 0.9, 3.0), recorded(grow, 0.9, 300.0)
    assert (short["trips"], long["trips"]) == (3, 15)
    assert tape_length(short) == tape_length(long) == 0
    assert s2sad.grad(grow)(0.9, 300.0) == pytest.approx(2 * 0.9 * 1.5 ** 15)


def fill(x, steps):
    z = np.zeros(steps)
    for i in range(steps):
        z[i] = x * i
    return np.sum(z * z)


def test_item_writes_record_nothing_the_adjoint_does_not_need():
    assert per_step(fill, 0.5) == 0


def test_generated_code_does_not_grow_with_the_trip_count():
    derivative = s2sad.grad(product_then_sine)
    assert derivative(0.9, 3) == pytest.approx(_product_then_sine_slope(0.9, 3))
    source, builds = derivative.source, pipeline.STATS["builds"]
    assert derivative(0.9, 300) == pytest.approx(_product_then_sine_slope(0.9, 300))
    assert pipeline.STATS["builds"] == builds
    assert derivative.source == source and len(source.splitlines()) < 40
    assert tape_length(recorded(product_then_sine, 0.9, 300)) == 600


def _product_then_sine_slope(x: float, steps: int) -> float:
    s, ds = x, 1.0
    for _ in range(steps):
        s, ds = s * x, ds * x + s
        s, ds = np.sin(s), np.cos(s) * ds
    return ds


def test_interleaved_pullbacks_have_their_own_tapes():
    out1, pullback1 = s2sad.vjp(repeated_sine, 0.9, 5)
    out2, pullback2 = s2sad.vjp(repeated_sine, -0.4, 7)
    second = pullback2(1.0)[0]
    first = pullback1(1.0)[0]
    assert first == pytest.approx(_sine_slope(0.9, 5)) and second == pytest.approx(_sine_slope(-0.4, 7))
    assert pullback1(2.0)[0] == pytest.approx(2 * first)  # a pullback can be called again


def _sine_slope(x: float, steps: int) -> float:
    s, ds = x, 1.0
    for _ in range(steps):
        s, ds = np.sin(s), np.cos(s) * ds
    return ds


def test_the_tape_is_local_to_a_call_across_threads():
    derivative = s2sad.grad(branch_in_loop)
    derivative(0.9, 2)  # built before the threads start
    cases = [(0.3 + 0.1 * k, 5 + 3 * k) for k in range(8)]
    expected = [_branch_slope(x, n) for x, n in cases]
    start = threading.Barrier(len(cases))
    wrong: list = []

    def work(k: int) -> None:
        start.wait()
        for _ in range(200):
            got = derivative(*cases[k])
            if got != pytest.approx(expected[k], rel=1e-12):
                wrong.append((cases[k], got))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(cases))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not wrong


def _branch_slope(x: float, steps: int) -> float:
    s, ds = x, 1.0
    for _ in range(steps):
        s, ds = (s - 0.1 * x, ds - 0.1) if s > 0.5 else (s + 0.2, ds)
    return ds


# ------------------------------------------------------------------ several numbers a trip


def three_numbers(s, steps):
    for _ in range(steps):
        s = math.sin(s) * 1.5
        t = math.tanh(s)
        s = math.exp(t + 0.25) * s
    return s


def rebound_between(a, steps):
    b = 0.5
    for _ in range(steps):
        b = math.sin(a) * b  # saves b ...
        a = math.cos(b) + a  # ... then a
        b = a * b  # b again: its value is not the one saved first
        a = math.tanh(b) * a
    return a + b


def with_an_array(x, steps):
    s, v = 0.3, x
    for _ in range(steps):
        s = math.sin(s) + 0.1
        v = np.tanh(v * s)  # an array in between: its own tape entry
        s = s * math.exp(-s)
    return s * np.sum(v)


def in_a_branch(s, steps):
    for i in range(steps):
        u = math.sin(s)
        if i % 2:
            s = u * math.cos(s)
            u = s * u
        else:
            u = math.exp(u)
        s = u * s + math.tanh(u)
    return s


SEVERAL = [three_numbers, rebound_between, with_an_array, in_a_branch]


def _args(fun):
    return (np.array([0.4, -0.8]), 5) if fun is with_an_array else (0.7, 5)


@pytest.mark.parametrize("fun", SEVERAL, ids=lambda f: f.__name__)
def test_several_numbers_a_trip_give_exact_gradients_in_every_mode(fun):
    args = _args(fun)
    check_grads(fun, args)
    value, grad = s2sad.value_and_grad(fun)(*args)
    assert value == fun(*args)
    np.testing.assert_allclose(grad, s2sad.grad(fun)(*args), rtol=0)
    out, pullback = s2sad.vjp(fun, *args)
    first, again = pullback(1.0), pullback(1.0)  # the residuals (the tape among them) are reusable
    np.testing.assert_allclose(first[0], grad, rtol=1e-15)
    np.testing.assert_allclose(again[0], grad, rtol=1e-15)


def while_numbers(s, limit):
    while s < limit:
        s = math.sin(s) + s * 1.5
    return s


def nested_numbers(s, steps):
    for i in range(steps):
        for _ in range(2):
            s = math.sin(s) * 1.1 + 0.05 * i
    return s


def test_a_loop_over_a_range_keeps_numbers_by_trip():
    """`for i in range(n)`: the numbers a trip saves go in lists made before the loop,
    `s_trips[i] = s`, read back as `s = s_trips[i]` (no tape); a loop over anything else, a
    `while` loop and a loop inside another loop keep the tape."""
    code = s2sad.grad(three_numbers).source_for(0.7, 5)
    assert "tape" not in code and "s_trips = [None] * trips" in code and "s_trips[_] = s" in code, code
    assert "s = s_trips[_]" in code, code
    assert "tape.append(" in s2sad.grad(while_numbers).source_for(0.7, 30.0)
    nested = s2sad.grad(nested_numbers).source_for(0.7, 3)
    assert "tape.append(s)" in nested, nested
    for fun, args in ((while_numbers, (0.7, 30.0)), (nested_numbers, (0.7, 3))):
        check_grads(fun, args)


def bound_target(s, steps):
    for i in range(steps):
        s = math.sin(s) * 1.1
        i = i + 1  # the target rebound: it no longer counts the trips
        s = s + 0.01 * i
    return s


def offset_range(s, steps):
    for i in range(1, steps):
        s = math.sin(s) * i
    return s


@pytest.mark.parametrize("fun", [bound_target, offset_range], ids=lambda f: f.__name__)
def test_a_loop_whose_target_does_not_count_trips_from_zero_keeps_the_tape(fun):
    assert "tape.append(" in s2sad.grad(fun).source_for(0.7, 5)
    check_grads(fun, (0.7, 5))
    out, pullback = s2sad.vjp(fun, 0.7, 5)
    assert pullback(1.0) == pullback(1.0)
