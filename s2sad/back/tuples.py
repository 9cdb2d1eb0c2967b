"""Items of a tuple the code just built, read as the items (part of stage 5, optimize).

An adjoint takes apart the tuple an adjoint before it built: `bpair = (bacc, bother * y)`,
then `t55 = bpair[0]`, `t56 = bpair[1]` (the adjoint of `pair = (a, b)` followed by reads of
`pair[0]` and `pair[1]`; an inlined helper that returns `(h, c)`). Where the item is read in
the same block as the tuple was built, and neither the tuple's name nor the item's name has
been bound again in between, `t55 = bpair[0]` is `t55 = bacc`: the same object. The copies
then go (`_forward_copies`), and so does the tuple once nothing reads it.
"""

from __future__ import annotations

import operator

from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Pack, Var


def read_items(body: list[ir.Stmt]) -> list[ir.Stmt]:
    """`body` with each `t = p[k]` of a tuple `p = (...)` built before it in the same block read as
    the item, where no name involved was bound again in between (nested blocks each on their own)."""
    out: list[ir.Stmt] = []
    built: dict[str, tuple[ir.Atom, ...]] = {}
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            out.append(ir.rebuild(stmt, read_items))
            built.clear()  # (a nested block may bind anything)
            continue
        if built:  # (most code builds no tuple: nothing to look up or forget)
            stmt = _read(stmt, built)
            for name in ir.writes(stmt):
                built.pop(name, None)
                for p in [p for p, items in built.items() if Var(name) in items]:
                    del built[p]
        if type(stmt) is Assign and type(stmt.value) is Pack and stmt.target not in stmt.value.items:
            built[stmt.target.name] = stmt.value.items
        out.append(stmt)
    return out


def _read(stmt: ir.Stmt, built: dict[str, tuple[ir.Atom, ...]]) -> ir.Stmt:
    value = stmt.value if type(stmt) is Assign else None
    if not (type(value) is Call and value.op.value is operator.getitem and len(value.args) == 2 and not value.kwargs):
        return stmt
    tup, index = value.args
    items = built.get(tup.name) if type(tup) is Var else None
    if items is None or type(index) is not Const or type(index.value) is not int:
        return stmt
    if not -len(items) <= index.value < len(items):
        return stmt  # an IndexError, raised as before
    return Assign(stmt.target, items[index.value], stmt.line)


__all__ = ["read_items"]
