"""Stage back/loop_names: a temporary two loops each compute for themselves (the primal loop's
`t3 = math.sin(s)` and the adjoint loop's recomputation) is named apart in the second loop, so
each folds into its one read; left alone where a loop reads the previous trip's value, code
outside the loops reads it, or it is bound twice in one loop.
"""

import math
import operator

import pytest

import s2sad
from s2sad.back.loop_names import name_loop_temps_apart
from s2sad.core import ir, printer
from s2sad.core.ir import Assign, Call, Const, Var
from s2sad.core.naming import Namer, builtin_ref
from s2sad.core.syntax import operator_ref
from tests import stages


def _sin(target: str, arg: str) -> Assign:
    return Assign(Var(target), Call(ir.Ref(math.sin, ("math", "sin"), math), (Var(arg),)), 1)


def _add(target: str, a: str, b: str) -> Assign:
    return Assign(Var(target), Call(operator_ref(operator.add), (Var(a), Var(b))), 1)


def _loop(body: list, over: str = "r") -> ir.For:
    return ir.For(Var("i"), Var(over), body, 1)


def _function(body: list) -> ir.Function:
    start = [Assign(Var("r"), Call(builtin_ref("range"), (Var("n"),)), 1)]
    return ir.Function("f", ["s", "n"], start + body + [ir.Return(Var("s"), 1)], temps={"t3"})


def _renamed(fn: ir.Function) -> str:
    return printer.format_function(name_loop_temps_apart(fn, Namer({"s", "n", "r", "i", "t3"}), {"t3"}))


def test_the_second_loops_temporary_gets_a_name_of_its_own():
    fn = _function([_loop([_sin("t3", "s"), _add("s", "s", "t3")]), _loop([_sin("t3", "s"), _add("s", "t3", "s")])])
    text = _renamed(fn)
    _, first, second = text.split("for i in r:")
    assert "t3 = math.sin(s)" in first and "s = s + t3" in first, text
    assert "t3" not in second and "t1 = math.sin(s)" in second and "s = t1 + s" in second, text


@pytest.mark.parametrize("case", ["read_before", "read_outside", "bound_twice"])
def test_left_alone(case):
    second = {"read_before": [_add("s", "t3", "s"), _sin("t3", "s")],
              "read_outside": [_sin("t3", "s"), _add("s", "t3", "s")],
              "bound_twice": [_sin("t3", "s"), _sin("t3", "t3"), _add("s", "t3", "s")]}[case]
    body = [_loop([_sin("t3", "s"), _add("s", "s", "t3")]), _loop(second)]
    if case == "read_outside":
        body.append(_add("s", "s", "t3"))
    fn = _function(body)
    assert _renamed(fn) == printer.format_function(fn)


def test_the_scalar_loops_code_reads_as_the_hand_written_gradient():
    src = """
        def f(x, n):
            s = x
            for _ in range(n):
                s = s * 0.99 + math.sin(s) * x
            return s
    """
    code = s2sad.grad(stages.function(src)).source_for(0.3, 10)
    lines = [line.strip() for line in code.splitlines()]
    assert "s = s * 0.99 + math.sin(s) * x" in lines, code
    assert "bx = bx + math.sin(s) * bs" in lines, code
    fun = stages.function(src)
    assert s2sad.grad(fun)(0.3, 10) == s2sad.grad(fun, optimize=False)(0.3, 10)
    assert s2sad.value_and_grad(fun)(0.3, 10) == s2sad.value_and_grad(fun, optimize=False)(0.3, 10)


def test_a_constant_free_of_names_is_unchanged():
    fn = _function([_loop([Assign(Var("t3"), Const(1.0), 1), _add("s", "s", "t3")]),
                    _loop([Assign(Var("t3"), Const(2.0), 1), _add("s", "t3", "s")])])
    text = _renamed(fn)
    assert text.count("t3") == 2, text  # the first loop's; the second's renamed
