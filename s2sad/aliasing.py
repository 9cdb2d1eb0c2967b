"""In-place writes must not go through an alias: part of the lowering's fence.

The transforms treat every name as its own value, so `y = x; y[0] = 0.0` (which changes `x`
too) would give a silently wrong derivative. So a variable written in place (`y[i] = v`,
`y.append(v)`) must hold a value the function made itself: an array or list it created, or a
computed result. A parameter written in place is copied on entry (so derivative code never
modifies the caller's arrays); anything else that may share memory is an error with a fix.
"""

from __future__ import annotations

import builtins
import operator

import numpy as np

from s2sad import ir, runtime
from s2sad.errors import Location, UnsupportedSyntax
from s2sad.ir import Assign, Call, Var
from s2sad.naming import Namer, runtime_ref

VIEWS = {id(f) for f in (
    operator.getitem, builtins.getattr, runtime.as_sequence, np.reshape, np.transpose, np.ravel, np.squeeze,
    np.expand_dims, np.swapaxes, np.moveaxis, np.broadcast_to, np.asarray, np.diagonal, np.real, np.atleast_1d,
    np.atleast_2d, runtime.list_pop, runtime.tape_pop,
)}
"""Operations whose result may share memory with an argument (or be an item of a container)."""


def written_in_place(body: list[ir.Stmt]) -> dict[str, int]:
    """Each name mutated in place, with the first line that does it."""
    out: dict[str, int] = {}
    for stmt in ir.walk(body):
        if isinstance(stmt, Assign) and ir.is_inplace(stmt.value) and isinstance(stmt.value.args[0], Var):
            out.setdefault(stmt.value.args[0].name, stmt.line)
    return out


def shared(stmt: Assign) -> bool:
    """Whether the value this statement binds may share memory with another value."""
    value = stmt.value
    if isinstance(value, (Var, ir.Ref)):
        return True
    return isinstance(value, Call) and id(value.op.value) in VIEWS


def _view_index(index: ir.Atom, slices: set[str]) -> bool:
    """Whether `x[index]` may be a view of `x` (basic slicing), not a copy."""
    if isinstance(index, Var):
        return index.name in slices
    value = index.value if isinstance(index, ir.Const) else None
    parts = value if isinstance(value, tuple) else (value,)
    return any(isinstance(p, slice) or p is Ellipsis or p is None for p in parts)


def copy_views(body: list[ir.Stmt], mutated: set[str], slices: set[str], namer: Namer) -> list[ir.Stmt]:
    """`t = x[a:b]` of an array later written in place reads a copy: a view would change with x."""
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.If):
            body, orelse = (copy_views(b, mutated, slices, namer) for b in (stmt.body, stmt.orelse))
            stmt = ir.If(stmt.test, body, orelse, stmt.line)
        elif isinstance(stmt, ir.For):
            stmt = ir.For(stmt.target, stmt.iter, copy_views(stmt.body, mutated, slices, namer), stmt.line)
        elif isinstance(stmt, ir.While):
            stmt = ir.While(copy_views(stmt.test_body, mutated, slices, namer), stmt.test,
                            copy_views(stmt.body, mutated, slices, namer), stmt.line)
        elif _reads_view(stmt, mutated, slices):
            view = Var(namer.temp())
            out.append(Assign(view, stmt.value, stmt.line))
            stmt = Assign(stmt.target, Call(runtime_ref("copy_value"), (view,)), stmt.line)
        out.append(stmt)
    return out


def _reads_view(stmt: ir.Stmt, mutated: set[str], slices: set[str]) -> bool:
    if not (isinstance(stmt, Assign) and isinstance(stmt.value, Call) and stmt.value.op.value is operator.getitem):
        return False
    owner, index = stmt.value.args[0], stmt.value.args[1]
    return isinstance(owner, Var) and owner.name in mutated and _view_index(index, slices)


def check(fn: ir.Function, namer: Namer) -> ir.Function:
    """Copy parameters written in place on entry; reject writes through possible aliases; read
    slices of arrays that are written in place as copies."""
    mutated = written_in_place(fn.body)
    slices = {s.target.name for s in ir.walk(fn.body) if isinstance(s, Assign) and
              (isinstance(s.value, Call) and s.value.op.value is builtins.slice or isinstance(s.value, ir.Pack))}
    fn.body = copy_views(fn.body, set(mutated), slices, namer)
    fn.temps |= namer.temps
    for stmt in ir.walk(fn.body):
        if isinstance(stmt, Assign) and stmt.target.name in mutated and not ir.is_inplace(stmt.value):
            if shared(stmt):
                _reject(fn, stmt, mutated[stmt.target.name])
        if isinstance(stmt, ir.For) and stmt.target.name in mutated:
            _reject(fn, stmt, mutated[stmt.target.name])
    copies: list[ir.Stmt] = []
    for param in (p for p in fn.params if p in mutated):
        private = Var(f"{param}_copy")
        copies += [Assign(private, Call(runtime_ref("copy_value"), (Var(param),)), fn.firstline),
                   Assign(Var(param), private, fn.firstline)]
        fn.temps.add(private.name)
    fn.body = copies + fn.body
    return fn


def _reject(fn: ir.Function, stmt: ir.Stmt, line: int) -> None:
    name = stmt.target.name
    raise UnsupportedSyntax(
        f"writing into {name!r} in place, but {name!r} may share memory with another value "
        f"(it is bound at line {stmt.line}); the derivative would not see the change",
        Location(fn.filename, line, 0, fn.lines.get(line, "")),
        hint=f"write into a copy: {name} = {name}.copy() (or build it with np.zeros / np.array)",
    )
