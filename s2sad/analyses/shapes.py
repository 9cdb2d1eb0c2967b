"""Shape classes: which values are known to be scalars or to share a shape.

Each name gets a class: `SCALAR`, a symbol shared by every value with the same shape (an array
parameter's own name, propagated through elementwise operations with scalars), or `None`
(unknown). The classes come from the kinds of the arguments the derivative was built for
("scalar" or "array"), so that `optimize` can drop `unbroadcast(g, x)` and
`broadcast_like(g, x)` where `g` and `x` already share a shape: scalar code then runs without
a single helper call.
"""

from __future__ import annotations

import builtins

import numpy as np

from s2sad import runtime
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Pack, Ref, Var
from s2sad.core.naming import runtime_ref
from s2sad.rules.registry import facts, lookup

SCALAR = "()"
_BOTTOM = object()


def initial(params: list[str], kinds: tuple[str | None, ...] | None) -> dict[str, str | None]:
    """Classes of parameters of the given kinds ("scalar", "array" or None for unknown)."""
    kinds = kinds or (None,) * len(params)
    return {p: SCALAR if k == "scalar" else p if k == "array" else None for p, k in zip(params, kinds)}


def classes(fn: ir.Function, start: dict[str, str | None]) -> dict[str, str | None]:
    """The shape class of every name in `fn`, given the classes of its parameters."""
    table: dict[str, object] = {p: start.get(p) for p in fn.params}
    assigns = [s for s in ir.walk(fn.body) if isinstance(s, Assign)]
    counted = {s.target.name for s in assigns if _counts_integers(s.value)}
    for s in ir.walk(fn.body):
        if isinstance(s, ir.For):
            scalar = isinstance(s.iter, Var) and s.iter.name in counted
            table[s.target.name] = _join(table.get(s.target.name, _BOTTOM), SCALAR if scalar else None)
    changed = True
    while changed:
        changed = False
        for stmt in assigns:
            old = table.get(stmt.target.name, _BOTTOM)
            new = _join(old, _class_of(stmt.value, table))
            if new != old:
                table[stmt.target.name] = new
                changed = True
    return {k: (None if v is _BOTTOM else v) for k, v in table.items()}


def _counts_integers(value: ir.Expr) -> bool:
    """`range(...)` or `reversed(range(...))`: a loop over it binds integers."""
    return isinstance(value, Call) and value.op.value in (builtins.range, builtins.reversed)


def _join(old: object, new: object) -> object:
    if old is _BOTTOM:
        return new
    if new is _BOTTOM:
        return old
    return old if old == new else None


def atom_class(atom: ir.Atom, table: dict) -> object:
    if isinstance(atom, Var):
        return table.get(atom.name, _BOTTOM)
    value = atom.value
    if value is None:
        return _BOTTOM  # not yet set (a variable initialised before a loop saves it)
    if type(value) in (int, float, bool) or isinstance(value, np.floating):
        return SCALAR
    return None


def _class_of(value: ir.Expr, table: dict) -> object:
    if isinstance(value, (Var, Const, Ref)):
        return atom_class(value, table)
    if isinstance(value, Pack):
        return None
    op = value.op.value
    known = facts(op)
    if known.same_shape_as is not None:
        return atom_class(value.args[known.same_shape_as], table) if len(value.args) > known.same_shape_as else None
    if op is runtime.seed:
        return SCALAR
    if op is runtime.tape_pop:
        return _BOTTOM  # an earlier value of the same variable: no new information
    if known.reduction and len(value.args) == 1 and not value.kwargs:
        return SCALAR
    if known.broadcasts:
        return _broadcast([atom_class(a, table) for a in value.args])
    if getattr(op, "__module__", None) == "math":
        return SCALAR  # the math module works on Python floats
    rule = lookup(op)
    if rule is not None and rule.shape == "elementwise" and not value.kwargs:
        return _broadcast([atom_class(a, table) for a in value.args])
    return None


def _broadcast(parts: list[object]) -> object:
    if any(p is _BOTTOM for p in parts):
        return _BOTTOM
    arrays = {p for p in parts if p != SCALAR}
    if not arrays:
        return SCALAR
    if len(arrays) == 1 and None not in arrays:
        return arrays.pop()
    return None


def simplify(fn: ir.Function, start: dict[str, str | None]) -> list[ir.Stmt]:
    """Replace `unbroadcast(g, x)` / `broadcast_like(g, x)` by `g` where shapes are known equal,
    and `like_structure(g, x)` by `g` where `x` is known to be a number or an array."""
    return simplify_block(fn.body, classes(fn, start))


def simplify_block(body: list, table: dict) -> list:
    return [_simplify(stmt, table) for stmt in body]


def _simplify(stmt, table: dict):
    if isinstance(stmt, ir.COMPOUND):
        return ir.rebuild(stmt, lambda block: simplify_block(block, table))
    if not isinstance(stmt, ir.SIMPLE):
        raise ir.unknown(stmt, "shape simplification")
    if not (isinstance(stmt, Assign) and isinstance(stmt.value, Call)):
        return stmt
    call = stmt.value
    if call.op.value is runtime.like_structure and atom_class(call.args[1], table) not in (None, _BOTTOM):
        return Assign(stmt.target, call.args[0], stmt.line)  # a number or an array: no structure to give
    if call.op.value in (runtime.unbroadcast, runtime.broadcast_like, runtime.unreduce) and len(call.args) >= 2:
        g, like = call.args[0], call.args[1]
        cls = atom_class(g, table)
        if cls is not None and cls is not _BOTTOM and cls == atom_class(like, table):
            return Assign(stmt.target, g, stmt.line)
        if call.op.value is runtime.unbroadcast and isinstance(like, Var) and atom_class(like, table) == SCALAR:
            # only the shape of `like` matters, and it is (): the variable need not be kept for it
            return Assign(stmt.target, Call(call.op, (g, Const(0.0))), stmt.line)
    return stmt


def shapes_only(body: list, shape_of: dict[str, str]) -> list:
    """`unbroadcast(g, t)` -> `unbroadcast_to(g, t_shape)` where `t_shape` was recorded and the
    adjoint reads `t` for nothing else (else keeping `t` costs nothing more)."""
    other = _read_otherwise(body)
    return _shapes_only(body, {t: s for t, s in shape_of.items() if t not in other})


def _read_otherwise(body: list) -> set[str]:
    """Names the statements read other than as the `like` of an `unbroadcast`."""
    names: set[str] = set()
    for stmt in ir.walk(body):
        value = stmt.value if isinstance(stmt, Assign) else None
        if isinstance(value, Call) and value.op.value is runtime.unbroadcast:
            names |= {a.name for a in value.args[:1] if isinstance(a, Var)}
        elif not isinstance(stmt, (ir.Save, ir.Restore)):  # what a kept restore reads is never a shape
            names |= ir.reads(stmt)
    return names


def _shapes_only(body: list, shape_of: dict[str, str]) -> list:
    out = []
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            stmt = ir.rebuild(stmt, lambda b: _shapes_only(b, shape_of))
        elif isinstance(stmt, Assign) and isinstance(stmt.value, Call) and stmt.value.op.value is runtime.unbroadcast:
            g, like = stmt.value.args
            if isinstance(like, Var) and like.name in shape_of:
                shape = Var(shape_of[like.name])
                stmt = Assign(stmt.target, Call(runtime_ref("unbroadcast_to"), (g, shape)), stmt.line)
        elif not isinstance(stmt, ir.SIMPLE):
            raise ir.unknown(stmt, "shape simplification")
        out.append(stmt)
    return out
