"""Loop-invariant values computed once, before the loop.

`s = s * (-k) + x * s` in a loop computes `-k` on every trip, and reverse mode would record it
on every trip too. A temporary bound in a loop's body, once in the whole function, by an
operation that cannot raise (`-`, `+`, `*` on numbers, `range` of constant integers) on values
the loop never rebinds, is computed before the loop instead: the same value, once, and recorded
once. Only temporaries the lowering made are moved, so the user's names stay where they were
written.
"""

from __future__ import annotations

import operator
from collections import Counter

from s2sad.analyses import shapes
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Var

_SAFE = (operator.neg, operator.pos, operator.add, operator.sub, operator.mul)
"""Operations that raise on no numbers (no division: a zero trip loop must not raise)."""


def hoist_invariants(fn: ir.Function, start: dict) -> ir.Function:
    """`fn` with loop-invariant temporaries moved before their loops (see the module docstring);
    `start`, the shape classes of the parameters (numbers are known by them)."""
    if not any(isinstance(s, (ir.For, ir.While)) for s in ir.walk(fn.body)):
        return fn
    table = shapes.classes(fn, start)
    writes: Counter = Counter(n for s in ir.walk(fn.body) for n in ir.writes(s))
    body = _hoist_block(fn.body, table, writes, fn.temps)
    if body is fn.body:
        return fn
    return ir.Function(fn.name, fn.params, body, fn.filename, fn.firstline, fn.lines, fn.temps, fn.defaults)


def _hoist_block(body: list[ir.Stmt], table: dict, writes: Counter, temps: set[str]) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    changed = False
    for stmt in body:
        new = ir.rebuild(stmt, lambda block: _hoist_block(block, table, writes, temps))
        if isinstance(new, (ir.For, ir.While)):
            moved, new = _from_loop(new, table, writes, temps)
            out += moved
            changed = changed or bool(moved)
        changed = changed or new is not stmt
        out.append(new)
    return out if changed else body


def _from_loop(loop: ir.For | ir.While, table: dict, writes: Counter, temps: set[str]) -> tuple[list, ir.Stmt]:
    inside = {n for s in ir.walk([loop]) for n in ir.writes(s)}
    moved: list[ir.Stmt] = []
    kept: list[ir.Stmt] = []
    for stmt in loop.body:
        if _invariant(stmt, inside - {s.target.name for s in moved}, table, writes, temps):
            moved.append(stmt)
        else:
            kept.append(stmt)
    if not moved:
        return [], loop
    if isinstance(loop, ir.For):
        return moved, ir.For(loop.target, loop.iter, kept, loop.line)
    return moved, ir.While(loop.test_body, loop.test, kept, loop.line)


def _invariant(stmt: ir.Stmt, inside: set[str], table: dict, writes: Counter, temps: set[str]) -> bool:
    if not (isinstance(stmt, Assign) and isinstance(stmt.value, Call) and stmt.target.name in temps):
        return False
    call = stmt.value
    if writes[stmt.target.name] != 1 or call.kwargs:
        return False
    if call.op.value is range:  # `range(3)` of constant integers (an inner loop's, its length folded)
        return all(isinstance(a, Const) and type(a.value) is int for a in call.args)
    if not any(call.op.value is op for op in _SAFE):
        return False
    return all(isinstance(a, Const) and type(a.value) in (int, float) or
               isinstance(a, Var) and a.name not in inside and table.get(a.name) == shapes.SCALAR
               for a in call.args)
