"""The IR contract (`s2sad.core.ir` docstring): `verify` accepts what lowering and the transforms
produce and rejects each kind of breach; the printer writes the IR as Python."""

import ast
import operator

import numpy as np
import pytest

import s2sad
from s2sad.core import ir, printer
from s2sad.core.ir import Assign, Call, Const, Function, Pack, Ref, Return, Var
from s2sad.core.syntax import operator_ref
from s2sad.front.lower import lower
from s2sad.front.parse import parse

SIN = Ref(np.sin, ("np", "sin"), np)
SUM = Ref(np.sum, ("np", "sum"), np)
MUL = operator_ref(operator.mul)
ADD = operator_ref(operator.add)


def nested(x, y):
    z = np.sin(x * y) + x / (y - 1.0)
    return np.sum(z ** 2, axis=0)


def unpacking(x, y):
    a, b = y, x
    a += b * 2.0
    return a, b


def rebinding(x):
    x = x * x
    x = np.exp(x)
    return x


@pytest.mark.parametrize("fun", [nested, unpacking, rebinding])
def test_verify_accepts_lowered_functions(fun):
    lowered = lower(parse(fun))
    ir.verify(lowered)
    for stmt in lowered.body:
        for atom in ir.atoms_of(stmt.value):
            assert isinstance(atom, (Var, Const, Ref))


@pytest.mark.parametrize("mode", ["grad", "value_and_grad", "vjp", "jvp"])
def test_verify_accepts_derivatives(mode):
    from s2sad.api import Transformed

    built = Transformed(nested, mode, (0, 1)).built(("array", "array"))
    ir.verify(built.derivative)
    ir.verify(built.primal)


def test_rebinding_goes_through_a_temporary():
    """`x = x * x` would read and write x in one statement: the lowering adds a temporary."""
    body = lower(parse(rebinding)).body
    for stmt in body:
        if isinstance(stmt, Assign) and isinstance(stmt.value, Call):
            assert stmt.target not in ir.atoms_of(stmt.value)


def function(*body: ir.Stmt, params=("x",)) -> Function:
    return Function("f", list(params), list(body))


def test_verify_accepts_a_hand_built_function():
    ir.verify(function(Assign(Var("y"), Call(SIN, (Var("x"),)), 2),
                       Assign(Var("z"), Call(SUM, (Var("y"),), (("axis", Const(0)),)), 3),
                       Return(Pack((Var("z"), Const(1.0))), 4)))


@pytest.mark.parametrize("body, message", [
    ((Assign(Var("y"), Call(SIN, (Var("w"),)), 2), Return(Var("y"), 3)), "'w' read before assignment"),
    ((Return(Var("y"), 3),), "'y' read before assignment"),
    ((Assign(Var("y"), Call(SIN, (Call(SIN, (Var("x"),)),)), 2), Return(Var("y"), 3)), "nested expression"),
    ((Assign(Var("y"), Call(SUM, (Var("x"),), (("axis", Call(SIN, (Var("x"),))),)), 2), Return(Var("y"))),
     "nested expression"),
    ((Assign(Var("y"), Pack((Var("x"), Call(SIN, (Var("x"),)))), 2), Return(Var("y"))), "nested expression"),
    ((Assign(Var("x"), Call(MUL, (Var("x"), Const(2.0))), 5), Return(Var("x"))), "x both read and written"),
    ((Return(Var("x"), 2), Assign(Var("y"), Var("x"), 3)), "statements after return"),
    ((Assign("y", Var("x"), 2), Return(Var("x"))), "is not a Var"),
    ((Assign(Var("y"), "x + 1", 2), Return(Var("y"))), "is not an expression"),
])
def test_verify_rejects_broken_functions(body, message):
    with pytest.raises(ir.IRError, match=message):
        ir.verify(function(*body))


def test_verify_names_the_line():
    with pytest.raises(ir.IRError, match="^line 7: "):
        ir.verify(function(Assign(Var("y"), Call(SIN, (Var("nope"),)), 7), Return(Var("y"))))


# ------------------------------------------------------------------ printer


def test_printer_writes_one_operation_per_line():
    expected = (
        "def nested(x, y):\n"
        "    t1 = x * y\n"
        "    t2 = np.sin(t1)\n"
        "    t3 = y - 1.0\n"
        "    t4 = x / t3\n"
        "    z = t2 + t4\n"
        "    t5 = z ** 2\n"
        "    t6 = np.sum(t5, axis=0)\n"
        "    return t6\n"
    )
    assert printer.format_function(lower(parse(nested))) == expected


def test_printer_unpacking_and_augmented_assignment():
    expected = (
        "def unpacking(x, y):\n"
        "    a = y\n"
        "    b = x\n"
        "    t1 = b * 2.0\n"
        "    t2 = a + t1\n"
        "    a = t2\n"
        "    return (a, b)\n"
    )
    assert printer.format_function(lower(parse(unpacking))) == expected


def test_printed_ir_is_python_that_computes_the_same():
    lowered = lower(parse(nested))
    scope = {"np": np}
    exec(printer.format_function(lowered), scope)  # noqa: S102 - our own printed IR
    x, y = np.array([0.5, 1.5]), np.array([2.0, 3.0])
    np.testing.assert_allclose(scope["nested"](x, y), nested(x, y), rtol=1e-15)


@pytest.mark.parametrize("expr, text", [
    (Call(SUM, (Var("x"),), (("axis", Const(-1)), ("keepdims", Const(True)))), "np.sum(x, axis=-1, keepdims=True)"),
    (Call(ADD, (Var("x"), Const(-2.5))), "x + -2.5"),
    (Call(operator_ref(operator.neg), (Var("x"),)), "-x"),
    (Call(operator_ref(operator.matmul), (Var("a"), Var("b"))), "a @ b"),
    (Call(Ref(operator.getitem, ("operator", "getitem"), operator), (Var("x"), Const((slice(1, 3), Ellipsis)))),
     "x[1:3, ...]"),
    (Pack((Var("a"), Const(None), Const("s"))), "(a, None, 's')"),
    (Const(float("inf")), "float('inf')"),
    (Var("x"), "x"),
    (SIN, "np.sin"),
])
def test_printer_expressions(expr, text):
    assert printer.format_expr(expr) == text
    ast.parse(text)


def test_printer_structured_statements():
    fn = function(
        ir.If(Var("n"), [Assign(Var("y"), Call(operator_ref(operator.neg), (Var("x"),)))], []),
        ir.If(Var("n"), [Assign(Var("y"), Var("x"))], [Assign(Var("y"), Const(0.0))]),
        Return(Var("y")),
        params=("x", "n"))
    expected = (
        "def f(x, n):\n"
        "    if n:\n"
        "        y = -x\n"
        "    if n:\n"
        "        y = x\n"
        "    else:\n"
        "        y = 0.0\n"
        "    return y\n"
    )
    assert printer.format_function(fn) == expected


def test_cli_ir_stage_is_the_printer(cli):
    result = cli("show", "tests/core/test_ir.py:nested", "--stage", "ir")
    assert result.returncode == 0, result.stderr
    assert result.stdout == printer.format_function(lower(parse(nested)))
    assert s2sad.grad(nested).built().primal.body == lower(parse(nested)).body
