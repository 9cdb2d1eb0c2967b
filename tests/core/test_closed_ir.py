"""The closed IR (`s2sad.core.ir` docstring): reverse mode's `Save`/`Restore` are statements the
printer, `verify` and the traversal helpers know; every stage refuses, with an internal error
naming it, a statement kind it does not handle."""

from dataclasses import dataclass

import numpy as np
import pytest

from s2sad.analyses import shapes
from s2sad.analyses.activity import Activity, analyse
from s2sad.analyses.recording import Recorder
from s2sad.back.emit import Emitter, emit
from s2sad.back.optimize import optimize
from s2sad.core import ir, printer
from s2sad.core.ir import Assign, Call, Const, Function, Ref, Restore, Return, Save, Var
from s2sad.core.modes import GRAD, JVP
from s2sad.core.naming import Namer
from s2sad.errors import InternalError
from s2sad.transforms import forward, reverse
from s2sad.transforms.base import Request, TransformContext

SIN = Ref(np.sin, ("np", "sin"), np)


def function(*body: ir.Stmt, params=("x",)) -> Function:
    return Function("f", list(params), list(body))


def sin_of_x(line: int = 2) -> Assign:
    return Assign(Var("y"), Call(SIN, (Var("x"),)), line)


# ------------------------------------------------------------------ statement ids


def test_each_statement_gets_its_own_sid_and_equality_ignores_it():
    a, b = sin_of_x(), sin_of_x()
    assert a.sid != b.sid
    assert a == b
    assert ir.rebuild(ir.If(Var("x"), [a], []), list).sid != a.sid


# ------------------------------------------------------------------ Save and Restore


def test_verify_accepts_a_save_and_its_restore():
    save = Save("y", "value", False, 3)
    ir.verify(function(sin_of_x(), save, Assign(Var("y"), Const(1.0), 3), Restore(save, 3), Return(Var("y"), 4)))


def test_verify_accepts_a_maybe_unbound_save_before_the_name_is_bound():
    save = Save("y", "value", True, 2, maybe_unbound=True)
    ir.verify(function(save, sin_of_x(), Restore(save, 2), Return(Var("y"), 4)))


def test_a_slice_save_and_its_restore_read_the_index():
    write = Assign(Var("y"), Call(Ref(np.add, ("np", "add"), np), (Var("y"), Var("i"), Var("x"))), 3)
    save = Save("y", "slice", False, 3, write)
    assert ir.reads(save) == {"y"}
    assert ir.reads(Restore(save)) == {"i"}
    assert ir.writes(Restore(save)) == {"y"}
    assert ir.children(save) == [] and ir.rebuild(save, list) is save


@pytest.mark.parametrize("body, message", [
    (lambda s: (sin_of_x(), Restore(s, 3), s, Return(Var("y"))), "restore of y before its save"),
    (lambda s: (sin_of_x(), Restore(s, 3), Return(Var("y"))), "restore of y before its save"),
    (lambda s: (sin_of_x(), Restore("y", 3), Return(Var("y"))), "is not a Save"),
    (lambda s: (s, sin_of_x(), Return(Var("y"))), "'y' read before assignment"),
    (lambda s: (sin_of_x(), Save("y", "shuffle", False, 3), Return(Var("y"))), "unknown kind 'shuffle'"),
    (lambda s: (sin_of_x(), Save("y", "slice", False, 3), Return(Var("y"))), "without the statement"),
    (lambda s: (sin_of_x(), Save("y", "pop", True, 3), Return(Var("y"))), "without the statement"),
])
def test_verify_rejects_broken_saves_and_restores(body, message):
    with pytest.raises(ir.IRError, match=message):
        ir.verify(function(*body(Save("y", "value", False, 3))))


def test_verify_finds_a_restore_inside_a_loop_after_its_save():
    save = Save("y", "value", True, 3)
    loop = ir.For(Var("i"), Var("x"), [save, sin_of_x(3), Restore(save, 3)], 3)
    ir.verify(function(sin_of_x(), loop, Return(Var("y"))))


def test_the_printer_shows_saves_and_restores():
    save = Save("y", "slice", True, 3, sin_of_x())
    text = printer.format_function(function(sin_of_x(), ir.If(Var("x"), [save], [Restore(save)]), Return(Var("y"))))
    assert text == ("def f(x):\n    y = np.sin(x)\n    if x:\n        save y (slice in loop)\n"
                    "    else:\n        restore y (slice)\n    return y\n")


def test_the_recorder_leaves_no_marker_behind():
    """`finish` turns the kept saves into plain statements and drops the rest."""
    namer = Namer({"x", "y"})
    recorder = Recorder(namer, {"x"})
    primal = recorder.primal([sin_of_x(2), Assign(Var("y"), Call(SIN, (Var("x"),)), 3)])
    saves = [s for s in primal if isinstance(s, Save)]
    assert len(saves) == 1 and saves[0].name == "y"
    body = recorder.finish(primal, [Restore(saves[0]), Return(Var("y"))])
    assert not [s for s in ir.walk(body) if isinstance(s, (Save, Restore))]
    ir.verify(function(*body))


# ------------------------------------------------------------------ unknown statement kinds


@dataclass
class Strange:
    """A statement kind no stage knows."""

    line: int = 2
    sid: int = 0


def strange_function() -> Function:
    return function(sin_of_x(), Strange(), Return(Var("y"), 3))


ACTIVE = Activity(frozenset({"x", "y"}), frozenset({"x", "y"}))

def _context(mode: str) -> TransformContext:
    """What the pipeline hands a transform, for `f(x, y)` differentiated in `x`."""
    return TransformContext(Request(mode, ("x",)), ACTIVE, Namer({"x", "y"}), frozenset(), _no_callees)


def _no_callees(fun, mode, wrt, part):
    raise AssertionError("no callee here")


STAGES = {
    "verify": lambda fn: ir.verify(fn),
    "printer": lambda fn: printer.format_function(fn),
    "walk": lambda fn: list(ir.walk(fn.body)),
    "activity": lambda fn: analyse(fn, ["x"]),
    "recording": lambda fn: Recorder(Namer({"x", "y"}), {"x"}).primal(fn.body),
    "forward": lambda fn: forward.transform(fn, _context(JVP)),
    "reverse": lambda fn: reverse.transform(fn, _context(GRAD)),
    "shapes": lambda fn: shapes.simplify(fn, {}),
    "shapes_only": lambda fn: shapes.shapes_only(fn.body, {}),
    "optimize": lambda fn: optimize(fn),
    "emit": lambda fn: emit(fn, set()),
}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_a_stage_refuses_a_statement_kind_it_does_not_know(stage):
    with pytest.raises(InternalError, match=r"statement kind Strange \(this is a bug in s2sad"):
        STAGES[stage](strange_function())


def test_the_forward_transform_does_not_take_an_unknown_statement_for_a_loop():
    with pytest.raises(InternalError, match="the forward transform does not handle the statement kind Strange"):
        forward.transform(strange_function(), _context(JVP))


def test_emission_does_not_take_an_unknown_statement_for_a_while():
    emitter = Emitter(function(Return(Const(1.0))), set(), set())
    with pytest.raises(InternalError, match="emission does not handle the statement kind Strange"):
        emitter.stmt(Strange(), "    ")


def test_the_recorder_does_not_pass_an_unknown_statement_through():
    with pytest.raises(InternalError, match="recording does not handle the statement kind Strange"):
        Recorder(Namer({"x"}), {"x"}).stmt(Strange(), {"x"}, in_loop=False)


def test_an_ir_error_is_an_internal_error():
    assert issubclass(ir.IRError, InternalError)
