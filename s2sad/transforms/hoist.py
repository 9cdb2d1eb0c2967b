"""Loop-invariant values computed once, before the loop.

`s = s * (-k) + x * s` in a loop computes `-k` on every trip, and reverse mode would record it
on every trip too. A temporary bound in a loop's body, once in the whole function, by an
operation that cannot raise (`-`, `+`, `*` on numbers, `range` of constant integers) on values
the loop never rebinds, is computed before the loop instead: the same value, once, and recorded
once. Only temporaries the lowering made are moved, so the user's names stay where they were
written.

Arrays too, where their shapes are known (`acc = acc + np.sin(x) * y`: `np.sin(x)` and its
product with `y` once): `-`, `+`, `*` and the ufuncs `sin`, `cos`, `tanh`, `exp` (none raises
on an array) of arrays of known shapes that broadcast together, and numbers. The array is then
one object for every trip, where each trip made a new one: only where nothing could write into
it, every statement reading the temporary being one of those operations or a matrix product
(each makes a new array), none taking a view of it or passing it on.
"""

from __future__ import annotations

import operator
from collections import Counter
from dataclasses import dataclass

import numpy as np

from s2sad.analyses import shapes
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Var

_SAFE = (operator.neg, operator.pos, operator.add, operator.sub, operator.mul)
"""Operations that raise on no numbers (no division: a zero trip loop must not raise)."""
_ARRAY_SAFE = _SAFE + (np.negative, np.add, np.subtract, np.multiply, np.sin, np.cos, np.tanh, np.exp)
"""Operations that raise on no arrays of shapes that broadcast, and make a new array."""
_FRESH_READERS = _ARRAY_SAFE + (operator.matmul, np.matmul, np.dot)
"""Operations that read an array and make a new one (no view of it, no write into it)."""


@dataclass
class _Facts:
    """What deciding a statement is invariant asks of the whole function."""

    table: dict
    writes: Counter
    temps: set[str]
    readers: dict[str, list[ir.Expr | None]]
    """Per name, the value of each statement reading it (None: a statement not an assignment)."""


def hoist_invariants(fn: ir.Function, start: dict) -> ir.Function:
    """`fn` with loop-invariant temporaries moved before their loops (see the module docstring);
    `start`, the shape classes of the parameters (numbers are known by them)."""
    if not any(isinstance(s, (ir.For, ir.While)) for s in ir.walk(fn.body)):
        return fn
    readers: dict[str, list[ir.Expr | None]] = {}
    for stmt in ir.walk(fn.body):
        for name in ir.reads(stmt):
            readers.setdefault(name, []).append(stmt.value if type(stmt) is Assign else None)
    facts = _Facts(shapes.classes(fn, start), Counter(n for s in ir.walk(fn.body) for n in ir.writes(s)),
                   fn.temps, readers)
    body = _hoist_block(fn.body, facts)
    if body is fn.body:
        return fn
    return ir.Function(fn.name, fn.params, body, fn.filename, fn.firstline, fn.lines, fn.temps, fn.defaults)


def _hoist_block(body: list[ir.Stmt], facts: _Facts) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    changed = False
    for stmt in body:
        new = ir.rebuild(stmt, lambda block: _hoist_block(block, facts))
        if isinstance(new, (ir.For, ir.While)):
            moved, new = _from_loop(new, facts)
            out += moved
            changed = changed or bool(moved)
        changed = changed or new is not stmt
        out.append(new)
    return out if changed else body


def _from_loop(loop: ir.For | ir.While, facts: _Facts) -> tuple[list, ir.Stmt]:
    inside = {n for s in ir.walk([loop]) for n in ir.writes(s)}
    arrays = _writes_into_nothing(loop)
    moved: list[ir.Stmt] = []
    kept: list[ir.Stmt] = []
    for stmt in loop.body:
        if _invariant(stmt, inside - {s.target.name for s in moved}, facts, arrays):
            moved.append(stmt)
        else:
            kept.append(stmt)
    if not moved:
        return [], loop
    if isinstance(loop, ir.For):
        return moved, ir.For(loop.target, loop.iter, kept, loop.line)
    return moved, ir.While(loop.test_body, loop.test, kept, loop.line)


def _invariant(stmt: ir.Stmt, inside: set[str], facts: _Facts, arrays: bool) -> bool:
    if not (isinstance(stmt, Assign) and isinstance(stmt.value, Call) and stmt.target.name in facts.temps):
        return False
    call = stmt.value
    if facts.writes[stmt.target.name] != 1 or call.kwargs:
        return False
    if call.op.value is range:  # `range(3)` of constant integers (an inner loop's, its length folded)
        return all(isinstance(a, Const) and type(a.value) is int for a in call.args)
    if any(call.op.value is op for op in _SAFE) and all(
            isinstance(a, Const) and type(a.value) in (int, float) or
            isinstance(a, Var) and a.name not in inside and facts.table.get(a.name) == shapes.SCALAR
            for a in call.args):
        return True
    return arrays and _invariant_array(stmt, inside, facts)


_MUTATING = (np.copyto, np.put, np.put_along_axis, np.place, np.putmask, np.fill_diagonal)


def _writes_into_nothing(loop: ir.For | ir.While) -> bool:
    """No statement of the loop can write into an array, through any name: each calls NumPy,
    `math` or an operator, none in place, none with `out=`, none of NumPy's writing functions
    (a user's helper or a view written into would change an array the loop reads)."""
    for stmt in ir.walk(loop.body):
        if isinstance(stmt, ir.COMPOUND):
            continue
        value = stmt.value if type(stmt) is Assign else None
        if type(value) is Call and (ir.is_inplace(value) or any(k == "out" for k, _ in value.kwargs)
                                    or getattr(value.op.value, "__module__", None) not in _PURE_MODULES
                                    or any(value.op.value is op for op in _MUTATING)):
            return False
        if type(stmt) is not Assign:
            return False
    return True


_PURE_MODULES = ("numpy", "math", "_operator", "operator")


def _invariant_array(stmt: Assign, inside: set[str], facts: _Facts) -> bool:
    """An array of known shape made by an operation of `_ARRAY_SAFE` from arrays that broadcast
    and numbers the loop never rebinds, read only by operations that make new arrays."""
    call = stmt.value
    if not any(call.op.value is op for op in _ARRAY_SAFE):
        return False
    arrays = []
    for a in call.args:
        cls = facts.table.get(a.name) if isinstance(a, Var) and a.name not in inside else None
        if isinstance(cls, tuple) and all(type(n) is int for n in cls):
            arrays.append(cls)
        elif not (cls == shapes.SCALAR or isinstance(a, Const) and type(a.value) in (int, float)):
            return False
    if not arrays or facts.table.get(stmt.target.name) != _broadcast(arrays):
        return False
    return all(isinstance(v, Call) and not v.kwargs and any(v.op.value is op for op in _FRESH_READERS)
               for v in facts.readers.get(stmt.target.name, [None]))


def _broadcast(arrays: list[tuple[int, ...]]) -> tuple[int, ...] | None:
    try:
        return tuple(np.broadcast_shapes(*arrays))
    except ValueError:
        return None
