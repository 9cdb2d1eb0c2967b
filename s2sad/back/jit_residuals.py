"""The Numba backend: a `vjp`'s residuals that hold a `range`, handed over as its bounds.

A loop's adjoint runs over the loop's range reversed, so the primal sweep of a `vjp` returns
the range among its residuals (`t1 = range(steps)`) for the adjoint sweep to reverse. Numba
cannot hand a range back to Python, so here the primal sweep returns its start, stop and step
instead (`t1_bounds = (0, steps, 1)`, made beside the range) and the adjoint sweep makes the
range again from them before anything reads it. The same range: the same trips, in the same
order, so the derivative is unchanged. A range made elsewhere than at the primal sweep's top
(in a loop or a branch) is left as it is, and the call refused as before.
"""

from __future__ import annotations

import builtins
from collections import Counter

from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Pack, Var
from s2sad.core.naming import Namer, builtin_ref
from s2sad.front.lower_expr import getitem_ref


def ranges_apart(fwd: ir.Function, bwd: ir.Function) -> tuple[ir.Function, ir.Function]:
    """The two sweeps of a `vjp` with each range among the residuals handed over as its bounds."""
    at = _residuals_at(fwd)
    if at is None:
        return fwd, bwd
    items = fwd.body[at].value.items
    ranges = _top_ranges(fwd)
    indices = [i for i, item in enumerate(items) if type(item) is Var and item.name in ranges]
    if not indices or not bwd.params:
        return fwd, bwd
    names = Namer(set(fwd.params) | set(bwd.params) | {n for f in (fwd, bwd) for s in ir.walk(f.body)
                                                       for n in ir.reads(s) | ir.writes(s)})
    body, items = list(fwd.body), list(items)
    for i in sorted(indices, key=lambda i: -ranges[items[i].name][0]):
        where, made = ranges[items[i].name]
        bounds = Var(names.fresh(f"{items[i].name}_bounds"))
        body.insert(where + 1, Assign(bounds, Pack(_bounds(made.value.args)), made.line))
        items[i] = bounds
    at = _residuals_at(ir.Function(fwd.name, fwd.params, body))
    body[at] = Assign(body[at].target, Pack(tuple(items)), body[at].line)
    fwd = ir.Function(fwd.name, fwd.params, body, fwd.filename, fwd.firstline, fwd.lines, fwd.temps | names.temps,
                      fwd.defaults, fwd.tape)
    return fwd, _remade(bwd, set(indices), names)


def _residuals_at(fwd: ir.Function) -> int | None:
    """Where the primal sweep packs its residuals: the tuple its `return (out, residuals)` returns."""
    ret = fwd.body[-1] if fwd.body else None
    if not (type(ret) is ir.Return and type(ret.value) is Pack and len(ret.value.items) == 2
            and type(ret.value.items[1]) is Var):
        return None
    name = ret.value.items[1].name
    return next((i for i, s in enumerate(fwd.body) if type(s) is Assign and s.target.name == name
                 and type(s.value) is Pack), None)


def _top_ranges(fwd: ir.Function) -> dict[str, tuple[int, Assign]]:
    """Per name bound once in the sweep, at its top, to a `range(...)` of positional
    arguments: where, and the statement."""
    bound = Counter(n for s in ir.walk(fwd.body) for n in ir.writes(s))
    found = {}
    for i, stmt in enumerate(fwd.body):
        value = stmt.value if type(stmt) is Assign else None
        if type(value) is Call and value.op.value is builtins.range and not value.kwargs \
                and 1 <= len(value.args) <= 3 and bound[stmt.target.name] == 1:
            found[stmt.target.name] = (i, stmt)
    return found


def _bounds(args: tuple) -> tuple:
    """(start, stop, step) of `range(*args)`."""
    if len(args) == 1:
        return (Const(0), args[0], Const(1))
    return (args[0], args[1], args[2] if len(args) == 3 else Const(1))


def _remade(bwd: ir.Function, indices: set[int], names: Namer) -> ir.Function:
    """The adjoint sweep making each range again where it unpacks the residual (`t1 =
    residuals[3]`): from the bounds unpacked under a name of their own."""
    residuals = bwd.params[0]
    body: list[ir.Stmt] = []
    for stmt in bwd.body:
        value = stmt.value if type(stmt) is Assign else None
        if not (type(value) is Call and value.op.value is getitem_ref().value and value.args[0] == Var(residuals)
                and type(value.args[1]) is Const and value.args[1].value in indices):
            body.append(stmt)
            continue
        bounds = Var(names.fresh(f"{stmt.target.name}_bounds"))
        body.append(Assign(bounds, value, stmt.line))
        parts = [Var(names.temp()) for _ in range(3)]
        body += [Assign(p, Call(getitem_ref(), (bounds, Const(k))), stmt.line) for k, p in enumerate(parts)]
        body.append(Assign(stmt.target, Call(builtin_ref("range"), tuple(parts)), stmt.line))
    return ir.Function(bwd.name, bwd.params, body, bwd.filename, bwd.firstline, bwd.lines, bwd.temps | names.temps,
                       bwd.defaults, bwd.tape)
