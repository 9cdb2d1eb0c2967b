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
from s2sad.naming import runtime_ref

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


def check(fn: ir.Function) -> ir.Function:
    """Copy parameters written in place on entry; reject writes through possible aliases."""
    mutated = written_in_place(fn.body)
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
