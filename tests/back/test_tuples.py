"""Stage back/tuples (and `kept_constants.drop_unread_kept`): a tuple the code builds and then
takes apart is read as its items; a value kept for an adjoint that nothing reads is not kept.
Each case against the unoptimized code and differences."""

import numpy as np
import pytest

import s2sad
from s2sad.back.kept_constants import drop_unread_kept
from s2sad.back.tuples import read_items
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Pack, Var
from s2sad.core.naming import runtime_ref
from s2sad.testing import check_grads
from tests.fixtures import specialised as fx

GETITEM = ir.Ref(__import__("operator").getitem, ("operator", "getitem"))
ARGS = tuple(np.random.default_rng(8).normal(size=(2, 6)))


def _item(target: str, tup: str, k: int) -> Assign:
    return Assign(Var(target), Call(GETITEM, (Var(tup), Const(k))), 1)


def test_an_item_of_a_tuple_just_built_is_the_item():
    body = [Assign(Var("p"), Pack((Var("a"), Const(2.0))), 1), _item("u", "p", 0), _item("v", "p", -1)]
    assert [s.value for s in read_items(body)[1:]] == [Var("a"), Const(2.0)]


def test_after_an_item_is_rebound_the_tuple_is_read_as_before():
    body = [Assign(Var("p"), Pack((Var("a"), Var("b"))), 1), Assign(Var("a"), Const(1.0), 1), _item("u", "p", 0),
            _item("v", "p", 1)]
    assert [s.value for s in read_items(body)[2:]] == [body[2].value, body[3].value]


def test_a_tuple_built_in_another_block_or_out_of_range_is_read_as_before():
    inner = ir.For(Var("k"), Var("r"), [_item("u", "p", 0)], 2)
    body = [Assign(Var("p"), Pack((Var("a"),)), 1), inner, _item("v", "p", 3)]
    out = read_items(body)
    assert out[1].body[0].value == inner.body[0].value and out[2].value == body[2].value


def test_a_kept_value_nothing_reads_is_not_kept():
    tape, p = Var("tape"), Var("pair")
    body = [Assign(tape, Call(runtime_ref("make_list"), ()), 1), Assign(p, Const(None), 1),
            ir.For(Var("k"), Var("r"), [Assign(tape, Call(runtime_ref("list_append"), (tape, p)), 2),
                                         Assign(p, Pack((Var("a"), Var("b"))), 2)], 2),
            ir.For(Var("k"), Var("r"), [Assign(p, Call(runtime_ref("tape_pop"), (tape,)), 3)], 3)]
    out = drop_unread_kept(body)
    loops = [s for s in out if isinstance(s, ir.For)]
    assert [type(s.value).__name__ for s in loops[0].body] == ["Pack"] and loops[1].body == []
    assert "tape" not in {s.target.name for s in ir.walk(out) if type(s) is Assign}  # a tape left empty: not made
    read = body + [ir.Return(p, 4)]
    assert drop_unread_kept(read) is read  # read at the end: kept


@pytest.mark.parametrize("mode", ["grad", "value_and_grad"])
def test_the_tuple_in_a_loop_gives_the_unoptimized_derivative(mode):
    optimized = getattr(s2sad, mode)(fx.tuple_in_loop, argnums=(0, 1))(*ARGS)
    plain = getattr(s2sad, mode)(fx.tuple_in_loop, argnums=(0, 1), optimize=False)(*ARGS)
    flat = [np.ravel(v) for v in (optimized[1] if mode == "value_and_grad" else optimized)]
    want = [np.ravel(v) for v in (plain[1] if mode == "value_and_grad" else plain)]
    np.testing.assert_allclose(np.hstack(flat), np.hstack(want), rtol=1e-13)
    check_grads(fx.tuple_in_loop, ARGS, modes=("fwd", "rev"))


def test_the_tuple_in_a_loop_is_neither_built_for_the_adjoint_nor_kept():
    source = s2sad.grad(fx.tuple_in_loop, argnums=(0, 1)).source_for(*ARGS)
    code = "\n".join(line for line in source.splitlines() if not line.strip().startswith("#"))
    assert "pair" not in code and "bpair" not in code and "[0]" not in code, code
