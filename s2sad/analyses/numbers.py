"""Python numbers: which names hold a Python `bool`, `int`, `float` or `complex`, never a NumPy
scalar, wherever they are bound.

A derivative built for Python float arguments (`Request.shapes` entry `shapes.NUMBER`) knows
this of the values computed from them by arithmetic and the `math` module, so `optimize` can
write the zero of such a value as `0.0` and the cotangent seed of such an output as `1.0`,
which is what the helpers `zeros_like` and `seed` return for it: a NumPy scalar would get its
own dtype from them, so the rewrite needs the type, not only the shape.
"""

from __future__ import annotations

import builtins
import operator

from s2sad.analyses.shapes import restores
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Var

_NUMBER_TYPES = (bool, int, float, complex)

_OF_NUMBERS = frozenset(map(id, (
    operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod, operator.pow,
    operator.neg, operator.pos, operator.not_, operator.eq, operator.ne, operator.lt, operator.le, operator.gt,
    operator.ge, operator.and_, operator.or_, operator.xor, operator.invert, builtins.abs, builtins.min,
    builtins.max, builtins.round)))
"""Ops whose result is a Python number when every argument is one."""

_ALWAYS = frozenset(map(id, (builtins.float, builtins.int, builtins.bool)))
"""Ops whose result is a Python number whatever their arguments."""


def python_numbers(fn: ir.Function, params: frozenset[str]) -> frozenset[str]:
    """The names of `fn` that hold a Python number wherever they are bound, given the parameters
    that do (`params`).

    Two greatest fixed points over every name's bindings. A name "may be a number" when each of
    its values is a number constant or `None` (the placeholder a loop keeps before its first
    trip), a name that may be one, a restore of an earlier value of the same name (`tape_pop`,
    `trip_value`), or arithmetic or a `math` function of names that may be numbers (which is a
    number or raises). It "is a number" when, besides, no value is `None` and every name it
    copies is one. A copy `a = b` of a name bound earlier in the same straight-line block (not
    a loop's body inherited) counts as that binding's value: `t6 = math.exp(u); s = t6` makes
    `s` a number although `t6` also holds a placeholder elsewhere. Names a loop, a restore
    marker or an in-place write binds are in neither set."""
    if not params:
        return frozenset()
    bindings: dict[str, list[ir.Expr]] = {}
    excluded = set(fn.params) - params
    _collect(fn.body, {}, bindings, excluded)
    maybe = _fixed_point((set(bindings) | params) - excluded, bindings, lambda v, names: _value(v, names, names, True))
    strict = _fixed_point(set(maybe), bindings, lambda v, names: _value(v, names, maybe, False))
    return frozenset(strict)


def _collect(body: list[ir.Stmt], local: dict[str, ir.Expr], bindings: dict[str, list[ir.Expr]],
             excluded: set[str]) -> None:
    """Every name's bindings, a copy of a name bound before it in the block as that value."""
    for stmt in body:
        if type(stmt) is Assign and not ir.is_inplace(stmt.value):
            value = stmt.value
            if type(value) is Var:
                value = local.get(value.name, value)
            bindings.setdefault(stmt.target.name, []).append(value)
            local[stmt.target.name] = value
            continue
        excluded |= ir.writes(stmt)
        loop = type(stmt) in (ir.For, ir.While)
        for child in ir.children(stmt):
            _collect(child, {} if loop else dict(local), bindings, excluded)
        for name in ir.writes(stmt) | ir.assigned([stmt]):
            local.pop(name, None)


def _fixed_point(names: set[str], bindings: dict[str, list[ir.Expr]], holds) -> set[str]:
    """The largest subset of `names` each of whose bindings `holds` given the subset."""
    changed = True
    while changed:
        changed = False
        for name in sorted(names):
            if not all(holds(value, names) for value in bindings.get(name, ())):
                names.discard(name)
                changed = True
    return names


def _value(value: ir.Expr, names: set[str], operands: set[str], none: bool) -> bool:
    """`value` is a number (or, `none`, may be None) when the names in `names` are, and the
    names in `operands` are numbers or None."""
    if type(value) is Const:
        return type(value.value) in _NUMBER_TYPES or none and value.value is None
    if type(value) is Var:
        return value.name in names
    if type(value) is not Call or value.kwargs:
        return False
    if restores(value):
        return True  # an earlier value of the name it is bound to
    op = value.op.value
    if id(op) in _ALWAYS:
        return True
    if id(op) in _OF_NUMBERS or getattr(op, "__module__", None) == "math":
        return all(type(a) is Var and a.name in operands or type(a) is Const and _value(a, names, operands, True)
                   for a in value.args)
    return False
