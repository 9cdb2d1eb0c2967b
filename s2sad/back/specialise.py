"""Rewrites that the shapes of the arguments allow (part of stage 5, optimize).

A derivative built for known argument shapes (`Request.shapes`: float64 arrays) knows the
shape of most of its values (`analyses.shapes`). Where it does, helpers that ask about shapes
when the code runs become what a person writes by hand:

- `unbroadcast(g, x)` between known, different shapes is `np.sum(g, axis=...)`;
- `seed(out)` of an output known to be one number (a NumPy reduction of an array, arithmetic
  on such) is `1.0`, so a gradient need not compute the output's value;
- `zeros_like(x)` of such an argument is `np.zeros_like(x)`, and the adjoint accumulated into
  it by slices (`add_at(bx, slice, g)`) is written into it in place: the first contribution to
  a slot is an assignment `bx[:-1] = g`, a later one `bx[1:] = bx[1:] + g`.

Each rewrite is an identity on the values the code computes (only the helper's shape question
is answered early); code built for unknown shapes is left as it is.
"""

from __future__ import annotations

import operator

import numpy as np

from s2sad import runtime
from s2sad.analyses import shapes
from s2sad.analyses.complexes import may_be_complex
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Var
from s2sad.core.naming import Namer, numpy_ref, runtime_ref
from s2sad.core.syntax import operator_ref
from s2sad.front.lower_expr import getitem_ref
from s2sad.rules.registry import facts

_ARITHMETIC = (operator.neg, operator.pos, operator.add, operator.sub, operator.mul, operator.truediv)


def specialise(fn: ir.Function, table: dict, namer: Namer | None) -> list[ir.Stmt]:
    """`fn`'s body with the rewrites above, given the shape class of each name (`table`)."""
    if not any(isinstance(c, tuple) for c in table.values()):
        return fn.body  # no known shapes: code for any shape
    facts_ = _Facts(fn, table)
    body = _rewrite_block(fn.body, facts_, namer)
    if not facts_.complexes and namer is not None:
        body = _accumulate_in_place(body, facts_, namer)
    return body


class _Facts:
    """What the rewrites ask about `fn`: shape classes, single definitions, fixed parameters."""

    def __init__(self, fn: ir.Function, table: dict) -> None:
        self.table = table
        assigns = [s for s in ir.walk(fn.body) if isinstance(s, Assign)]
        counts: dict[str, int] = {}
        for stmt in assigns:
            counts[stmt.target.name] = counts.get(stmt.target.name, 0) + 1
        loops = {s.target.name for s in ir.walk(fn.body) if isinstance(s, ir.For)}
        once = {name for name, n in counts.items() if n == 1} - loops
        self.defs = {s.target.name: s.value for s in assigns if s.target.name in once}
        self.fixed_arrays = {p for p in fn.params if isinstance(table.get(p), tuple) and p not in counts
                             and p not in loops}
        """Parameters of known shape (float64 arrays) that no statement rebinds."""
        self.complexes = may_be_complex(fn)

    def shape(self, atom: ir.Atom) -> object:
        return shapes.atom_class(atom, self.table)

    def filled(self, atom: ir.Atom) -> tuple[ir.Atom, ir.Atom] | None:
        """`(g, x)` where `atom` is `unreduce(g, x)` of a number `g` over an `x` of known shape."""
        value = self.defs.get(atom.name) if isinstance(atom, Var) else None
        if not (isinstance(value, Call) and value.op.value is runtime.unreduce and not value.kwargs):
            return None
        g, like, *options = value.args
        if not all(isinstance(o, Const) and o.value is d for o, d in zip(options, (None, False))):
            return None  # over some axes only
        return (g, like) if self.one_number(g) and isinstance(self.shape(like), tuple) else None

    def one_number(self, atom: ir.Atom, depth: int = 0) -> bool:
        """Known to be one number: a NumPy reduction of an array of known shape, or arithmetic on
        numbers known so."""
        if isinstance(atom, Const):
            return type(atom.value) in (int, float)
        value = self.defs.get(atom.name) if isinstance(atom, Var) else None
        if not isinstance(value, Call) or depth > 20 or value.kwargs and not _no_axis(value):
            return False
        op = value.op.value
        if op in _ARITHMETIC:
            return all(self.one_number(a, depth + 1) for a in value.args)
        return (facts(op).reduction and len(value.args) == 1 and getattr(op, "__module__", "") == "numpy"
                and isinstance(self.shape(value.args[0]), tuple))


def _no_axis(value: Call) -> bool:
    return all(k == "axis" and v == Const(None) for k, v in value.kwargs)


def _rewrite_block(body: list[ir.Stmt], facts_: _Facts, namer: Namer | None) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, Assign) and isinstance(stmt.value, Call):
            out += _rewrite(stmt, facts_, namer)
        else:
            out.append(ir.rebuild(stmt, lambda block: _rewrite_block(block, facts_, namer)))
    return out


def _rewrite(stmt: Assign, facts_: _Facts, namer: Namer | None) -> list[ir.Stmt]:
    call, line = stmt.value, stmt.line
    op = call.op.value
    if op is runtime.seed and facts_.one_number(call.args[0]):
        return [Assign(stmt.target, Const(1.0), line)]
    if op in _ARITHMETIC and namer is not None:
        spread = _spread(stmt, facts_, namer)
        if spread is not None:
            return spread
    if op is runtime.zeros_like and isinstance(call.args[0], Var) and call.args[0].name in facts_.fixed_arrays:
        return [Assign(stmt.target, Call(numpy_ref("zeros_like"), call.args), line)]
    if op is runtime.unbroadcast and len(call.args) == 2 and namer is not None:
        summed = _sum_to(call.args[0], facts_.shape(call.args[0]), facts_.shape(call.args[1]), namer, line)
        if summed is not None:
            *before, last = summed
            return before + [Assign(stmt.target, last, line)]
    return [stmt]


def _spread(stmt: Assign, facts_: _Facts, namer: Namer) -> list[ir.Stmt] | None:
    """Arithmetic on `unreduce(g, x)`, the adjoint of a full reduction: an array of `x`'s shape
    filled with one number `g`. With an operand of `x`'s shape, `g` itself broadcasts to the
    same values; with numbers only, the arithmetic is done on `g` and the result filled in."""
    call, line = stmt.value, stmt.line
    filled = [facts_.filled(a) for a in call.args]
    if not any(filled):
        return None
    if all(f is not None or facts_.one_number(a) for f, a in zip(filled, call.args)):
        like = next(f for f in filled if f is not None)[1]
        number = Var(namer.temp())
        args = tuple(a if f is None else f[0] for f, a in zip(filled, call.args))
        return [Assign(number, Call(call.op, args), line),
                Assign(stmt.target, Call(runtime_ref("unreduce"), (number, like)), line)]
    shape = facts_.shape(stmt.target)
    for i, f in enumerate(filled):
        others = call.args[:i] + call.args[i + 1:]
        if f is not None and any(facts_.shape(a) == shape == facts_.shape(f[1]) for a in others):
            args = call.args[:i] + (f[0],) + call.args[i + 1:]
            return [Assign(stmt.target, Call(call.op, args), line)]
    return None


def _sum_to(g: ir.Atom, have: object, want: object, namer: Namer, line: int) -> list | None:
    """Statements (the last one an expression) summing `g` of shape `have` down to `want`, the
    shape it was broadcast from; None where the shapes are not both known, or equal."""
    if not (isinstance(have, tuple) and isinstance(want, tuple)) or have == want or not want:
        return None
    try:
        if np.broadcast_shapes(have, want) != have:
            return None
    except ValueError:
        return None
    lead = len(have) - len(want)
    kept = tuple(i for i, n in enumerate(want) if n == 1 and have[lead + i] != 1)
    out: list = []
    if lead:
        leading = _sum(g, tuple(range(lead)), False)
        if not kept:
            return [leading]
        g = Var(namer.temp())
        out.append(Assign(g, leading, line))
    return out + [_sum(g, kept, True)]


def _sum(g: ir.Atom, axes: tuple[int, ...], keepdims: bool) -> Call:
    axis = Const(axes[0] if len(axes) == 1 else axes)
    kwargs = (("axis", axis),) + ((("keepdims", Const(True)),) if keepdims else ())
    return Call(numpy_ref("sum"), (g,), kwargs)


def _accumulate_in_place(body: list[ir.Stmt], facts_: _Facts, namer: Namer) -> list[ir.Stmt]:
    """`bx = add_at(bx, index, g)` on an array made by `np.zeros_like` of a known array, with a
    constant basic index: `bx[index] = g` while no earlier write in the block reached those
    elements, `bx[index] = bx[index] + g` after one did (a name rebound, or read otherwise, or
    touched in a nested block, is no longer fresh)."""
    out: list[ir.Stmt] = []
    fresh: dict[str, list | None] = {}
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            stmt = ir.rebuild(stmt, lambda block: _accumulate_in_place(block, facts_, namer))
            for name in _touched_inside(stmt) & set(fresh):
                del fresh[name]
            out.append(stmt)
        elif isinstance(stmt, Assign):
            out += _in_place(stmt, fresh, facts_, namer)
        else:
            for name in ir.reads(stmt) & set(fresh):
                del fresh[name]
            out.append(stmt)
    return out


def _in_place(stmt: Assign, fresh: dict[str, list | None], facts_: _Facts, namer: Namer) -> list[ir.Stmt]:
    name, value, line = stmt.target.name, stmt.value, stmt.line
    op = value.op.value if isinstance(value, Call) else None
    if op is runtime.add_at and name in fresh and value.args[0] == Var(name) and _basic_const(value.args[1]):
        index, g = value.args[1], value.args[2]
        shape = facts_.shape(Var(name))
        if fresh[name] is not None and isinstance(shape, tuple):
            chosen = _elements(shape, index.value)
            if chosen is not None and not any(chosen & earlier for earlier in fresh[name]):
                fresh[name].append(chosen)
                return [Assign(stmt.target, Call(runtime_ref("setitem"), (Var(name), index, g)), line)]
        fresh[name] = None
        part, total = Var(namer.temp()), Var(namer.temp())
        return [Assign(part, Call(getitem_ref(), (Var(name), index)), line),
                Assign(total, Call(operator_ref(operator.add), (part, g)), line),
                Assign(stmt.target, Call(runtime_ref("setitem"), (Var(name), index, total)), line)]
    for read in ir.reads(stmt) & set(fresh):
        del fresh[read]
    fresh.pop(name, None)
    if op is np.zeros_like and isinstance(value.args[0], Var) and value.args[0].name in facts_.fixed_arrays:
        fresh[name] = []
    return [stmt]


_MAX_ELEMENTS = 1 << 20


def _elements(shape: tuple[int, ...], index: object) -> set[int] | None:
    """The flat positions `index` selects in an array of `shape` (None for large arrays)."""
    size = int(np.prod(shape))
    if size > _MAX_ELEMENTS:
        return None
    try:
        return set(np.arange(size).reshape(shape)[index].ravel().tolist())
    except (IndexError, TypeError, ValueError):
        return None


def _touched_inside(stmt: ir.Stmt) -> set[str]:
    names = ir.reads(stmt) | ir.writes(stmt)
    for child in ir.children(stmt):
        for inner in ir.walk(child):
            names |= ir.reads(inner) | ir.writes(inner)
    return names


def _basic_const(index: ir.Atom) -> bool:
    return isinstance(index, Const) and shapes.basic_index(index.value)
