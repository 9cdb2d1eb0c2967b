"""The `math` an adjoint's trip does on a kept number, done by the forward trip (the Numba
backend, s2sad/back/jit_ahead.py): the same derivatives as the default backend, in every mode
that compiles, for programs where the calls move and for those where they must stay; the
generated code of the scalar loop reads like the hand-written gradient with its partials kept."""

import math

import numpy as np
import pytest

import s2sad
from benchmarks import workloads
from tests.back.test_jit import same

numba = pytest.importorskip("numba", reason="the numba extra is not installed")


def two_calls(x, steps):
    """`cos` and `exp` of the kept `s`, each a partial of the adjoint."""
    s = x
    for _ in range(steps):
        s = s * math.cos(s) + math.exp(-s * s) * x
    return s


def with_a_parameter(x, y, steps):
    """`atan2(s, y)`: its partials are quotients, no call to move."""
    s = x
    for _ in range(steps):
        s = s + 0.5 * math.atan2(s, y) * x
    return s


def changed_in_the_loop(x, y, steps):
    """`atan2(s, y)` with `y` changed every trip: two kept numbers."""
    s = x
    for _ in range(steps):
        s = s + 0.5 * math.atan2(s, y) * x
        y = y * 0.9 + 0.1
    return s


def still_read(x, steps):
    """`s * s`: the adjoint reads `s` itself too, so `s` stays kept beside the moved calls."""
    s = x
    for _ in range(steps):
        s = 0.3 * s * s + math.sin(s) * x
    return s


def in_a_branch(x, steps):
    """Calls in a branch of the trip run on some trips only: they stay."""
    s = x
    for _ in range(steps):
        if s > 0.0:
            s = math.sin(s) * x + 0.5
        else:
            s = math.cos(s) * x - 0.5
    return s


def inner_loop(x, steps):
    """A loop in a loop keeps its numbers on a list tape (a trip's index is not the outer
    loop's): the calls stay."""
    s = x
    for _ in range(steps):
        for _ in range(3):
            s = s * 0.9 + math.sin(s) * x
        s = s * 0.5
    return s


def ufunc_of_a_number(x, steps):
    """NumPy's `np.tanh` of a Python number, a ufunc."""
    s = x
    for _ in range(steps):
        s = s * 0.8 + np.tanh(s) * x
    return s


def _args(fun, steps):
    return (0.7, 1.3, steps) if fun in (with_a_parameter, changed_in_the_loop) else (0.7, steps)


PROGRAMS = [two_calls, with_a_parameter, changed_in_the_loop, still_read, in_a_branch, inner_loop, ufunc_of_a_number]


@pytest.mark.parametrize("fun", PROGRAMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("steps", [0, 1, 7])
def test_the_default_backends_derivatives(fun, steps):
    args = _args(fun, steps)
    wrt = tuple(range(len(args) - 1))
    value, grads = s2sad.value_and_grad(fun, argnums=wrt, backend="numba")(*args)
    assert value == pytest.approx(fun(*args), rel=1e-12)
    same(grads, s2sad.grad(fun, argnums=wrt)(*args))
    h = 1e-6
    for i in wrt:
        up, down = list(args), list(args)
        up[i], down[i] = args[i] + h, args[i] - h
        assert grads[i] == pytest.approx((fun(*up) - fun(*down)) / (2 * h), rel=1e-6, abs=1e-9)
    tangents = (*(0.3 + 0.1 * i for i in wrt), 0)
    same(s2sad.jvp(fun, args, tangents, backend="numba"), s2sad.jvp(fun, args, tangents))
    same(s2sad.vjp(fun, *args, backend="numba")[1](1.0)[:-1], s2sad.vjp(fun, *args)[1](1.0)[:-1])


def _adjoint_loop(source: str) -> str:
    """The code after the last `range(..., -1, -1)`: the adjoint's loop and what follows, less
    the comments (which quote the user's lines)."""
    lines = source.split(", -1, -1):")[-1].splitlines()
    return "\n".join(line for line in lines if not line.strip().startswith("#"))


def test_the_scalar_loops_partials_are_kept_by_the_forward_trip():
    source = s2sad.show(workloads.scalar_loop, args=(0.3, 10), backend="numba")
    assert "t23_trips[_] = math.cos(s)" in source.split("bs = 1.0")[0]  # made by the forward trip
    assert "math." not in _adjoint_loop(source) and "s_trips" not in source, source
    assert "t3 = math.sin(s)" in source and "t3_trips[_] = t3" in source  # the forward's own call, kept
    dloop = s2sad.grad(workloads.scalar_loop, backend="numba")
    same(dloop(0.3, 1000), workloads.scalar_loop_grad(0.3, 1000))


@pytest.mark.parametrize(("fun", "moved", "kept"), [
    (two_calls, True, True),  # the adjoint multiplies by `s` too
    (still_read, True, True),
    (ufunc_of_a_number, True, False),
    (in_a_branch, False, True),
    (inner_loop, False, False),  # (on a list tape)
])
def test_what_moves_and_what_stays(fun, moved, kept):
    source = s2sad.show(fun, args=_args(fun, 4), backend="numba")
    assert ("math." not in _adjoint_loop(source) and "np.tanh" not in _adjoint_loop(source)) == moved, source
    assert ("s_trips" in source) == kept, source
