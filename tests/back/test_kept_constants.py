"""Stage back/kept_constants: a shape a loop keeps by trip (`acc_shape = (6,)` once the
arguments' shapes are known) is read as the constant, its saves, restores and placeholder gone,
so that the adjoint's `unbroadcast_to(g, (6,))` specialises away; the user's own names and a
list holding another name's values are left as they were. Each case against the code built
without optimization, differences and, where Numba is installed, the Numba backend.
"""

import numpy as np
import pytest

import s2sad
from s2sad import runtime
from s2sad.back.kept_constants import drop_kept_constants
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Var
from s2sad.core.naming import runtime_ref
from s2sad.testing import check_grads
from tests import stages

ACCUMULATE = """
    def f(x, y):
        acc = np.zeros(6)
        other = np.zeros(6)
        for k in range(3):
            acc = acc + np.sin(x) * y
            other = other - 0.1 * x * acc
            acc = acc + acc[::-1] * 0.25
        return np.sum(acc * acc) + np.sum(other * y)
"""

ARGS = tuple(np.random.default_rng(5).normal(size=(2, 6)))


def _code(src: str, *args) -> str:
    code = s2sad.grad(stages.function(src), argnums=(0, 1)).source_for(*args)
    return "\n".join(line for line in code.splitlines() if not line.strip().startswith("#"))


def test_a_kept_shape_is_read_as_the_constant():
    code = _code(ACCUMULATE, *ARGS)
    assert "_shape" not in code and "unbroadcast" not in code, code


@pytest.mark.parametrize("mode", ["grad", "value_and_grad"])
def test_the_constants_give_the_unoptimized_derivative(mode):
    fun = stages.function(ACCUMULATE)
    optimized = getattr(s2sad, mode)(fun, argnums=(0, 1))(*ARGS)
    plain = getattr(s2sad, mode)(fun, argnums=(0, 1), optimize=False)(*ARGS)
    np.testing.assert_allclose(np.hstack(optimized[1] if mode == "value_and_grad" else optimized),
                               np.hstack(plain[1] if mode == "value_and_grad" else plain), rtol=1e-13)


def test_the_constants_agree_with_differences_in_every_mode():
    check_grads(stages.function(ACCUMULATE), ARGS, order=2, modes=("fwd", "rev"))


def test_the_numba_backend_compiles_the_loop_and_agrees():
    pytest.importorskip("numba", reason="the numba extra is not installed")
    fun = stages.function(ACCUMULATE)
    compiled = s2sad.grad(fun, argnums=(0, 1), backend="numba")(*ARGS)
    for got, want in zip(compiled, s2sad.grad(fun, argnums=(0, 1))(*ARGS)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def _kept(name: str, values: str = "tape") -> list[ir.Stmt]:
    """`name = None`, then a loop saving it, binding it to (6,) and reading it; then the
    adjoint's loop reading it and restoring it."""
    tape, n = Var(values), Var(name)
    save = Assign(tape, Call(runtime_ref("list_append"), (tape, n)), 2)
    restore = Assign(n, Call(runtime_ref("tape_pop"), (tape,)), 4)
    read = Assign(Var("g"), Call(runtime_ref("unbroadcast_to"), (Var("g"), n)), 4)
    return [Assign(tape, Call(runtime_ref("make_list"), ()), 1), Assign(n, Const(None), 1),
            ir.For(Var("k"), Var("r"), [save, Assign(n, Const((6,)), 2)], 2),
            ir.For(Var("k"), Var("r"), [read, restore], 4)]


def test_the_pass_drops_the_saves_and_reads_the_constant():
    body = drop_kept_constants(_kept("t3_shape"), frozenset({"g", "r"}))
    lines = [s for s in ir.walk(body) if type(s) is Assign]
    assert [s.target.name for s in lines] == ["tape", "g"]
    assert lines[1].value.args[1] == Const((6,))


def test_the_users_own_name_is_left_as_it_was():
    """A `None` the user bound may be read (`if n is None`): only s2sad's own names change."""
    body = _kept("n")
    assert drop_kept_constants(body, frozenset({"g", "r", "n"})) is body


def test_a_save_without_its_restore_is_left_as_it_was():
    body = _kept("t3_shape")
    body[3].body.pop()  # the restore
    assert drop_kept_constants(body, frozenset({"g", "r"})) is body


def test_a_name_bound_to_two_constants_is_left_as_it_was():
    body = _kept("t3_shape")
    body[2].body.append(Assign(Var("t3_shape"), Const((5,)), 3))
    assert drop_kept_constants(body, frozenset({"g", "r"})) is body
    assert runtime.tape_pop is body[3].body[1].value.op.value
