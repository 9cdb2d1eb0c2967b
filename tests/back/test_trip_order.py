"""Stage back/trip_order: numbers a loop keeps by trip, saved once computed and read back at the
start of the adjoint sweep's trip, where that is exact; left saved before the overwrite where a
trip reads the previous trip's value, a branch binds the name, or code outside the loops
reads it. Each case against the code built without optimization and against differences.
"""

import pytest

import s2sad
from s2sad.testing import check_grads
from tests import stages

CHAIN = stages.SNIPPETS["scalar_chain"]

CARRIED = """
    def f(x, n):
        a = x
        b = x
        for i in range(n):
            c = math.sin(a) * b
            a = math.cos(c) + b
            b = c * a
        return a + b
"""

BRANCH = """
    def f(x, n):
        s = x
        for i in range(n):
            if s > 0.5:
                t = math.sin(s)
            else:
                t = math.cos(s)
            s = t * s + 0.1
        return s
"""

READ_AFTER = """
    def f(x, n):
        s = x
        t = x
        for i in range(n):
            t = math.exp(s * 0.5)
            s = t * math.sin(s)
        return s * t
"""

def _code(src: str, *args) -> str:
    """The gradient's code for `args`, without its comments (which quote the source)."""
    code = s2sad.grad(stages.function(src)).source_for(*args)
    return "\n".join(line for line in code.splitlines() if not line.strip().startswith("#"))


PROGRAMS = {"chain": (CHAIN, (0.7, 8)), "carried": (CARRIED, (0.3, 6)), "branch": (BRANCH, (0.9, 7)),
            "read_after": (READ_AFTER, (0.4, 5))}


def test_a_value_computed_in_the_trip_is_saved_after_it_and_read_back_first():
    code = _code(CHAIN, 0.7, 8)
    forward, _, backward = code.partition("for _ in reversed(t1):")
    assert "t4 = None" not in code and "t6 = None" not in code, code
    assert forward.index("t4 = math.tanh(") < forward.index("t4_trips[_] = t4"), code
    assert forward.index("t6 = math.exp(") < forward.index("t6_trips[_] = t6"), code
    first = [line.strip() for line in backward.splitlines() if line.strip()]
    assert first[0].endswith(" = t4_trips[_]") and "t6_trips[_]" in first[1], code  # read back first
    assert forward.index("s_trips[_] = s") < forward.index("math.sin(s)")  # read before it is bound: as it was


def test_a_value_a_trip_reads_before_binding_stays_saved_before():
    code = _code(CARRIED, 0.3, 6)
    forward = code.partition("reversed(")[0]
    for name in ("a", "b"):
        assert forward.index(f"{name}_trips[") < forward.index(f"\n        {name} = "), code


def test_a_name_bound_in_a_branch_is_not_moved():
    code = _code(BRANCH, 0.9, 7)
    assert "t = None" in code or "t_trips" not in code, code


def test_a_name_read_after_the_loop_is_not_moved():
    code = _code(READ_AFTER, 0.4, 5)
    forward = code.partition("reversed(")[0]
    assert forward.index("t_trips[i] = t") < forward.index("t = math.exp("), code
    assert forward.index("t3 = math.sin(") < forward.index("t3_trips[i] = t3"), code  # not read after: moved


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@pytest.mark.parametrize("mode", ["grad", "value_and_grad"])
def test_moved_saves_give_the_unoptimized_derivative(name, mode):
    src, args = PROGRAMS[name]
    fun = stages.function(src)
    optimized = getattr(s2sad, mode)(fun)(*args)
    plain = getattr(s2sad, mode)(fun, optimize=False)(*args)
    assert optimized == pytest.approx(plain, rel=1e-13)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_moved_saves_agree_with_differences_in_every_mode(name):
    src, args = PROGRAMS[name]
    check_grads(stages.function(src), args, order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_a_pullback_runs_twice_on_the_same_residuals(name):
    src, args = PROGRAMS[name]
    out, pullback = s2sad.vjp(stages.function(src), *args)
    first = pullback(1.0)
    assert pullback(1.0) == first
    assert first[0] == pytest.approx(s2sad.grad(stages.function(src))(*args), rel=1e-13)
