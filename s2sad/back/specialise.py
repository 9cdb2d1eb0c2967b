"""Rewrites that the shapes of the arguments allow (part of stage 5, optimize).

A derivative built for known argument shapes (`Request.shapes`: float arrays) knows the
shape of most of its values (`analyses.shapes`). Where it does, helpers that ask about shapes
when the code runs become what a person writes by hand:

- `unbroadcast(g, x)` between known, different shapes is `np.sum(g, axis=...)`;
- `seed(out)` of an output known to be one number (a NumPy reduction of an array, arithmetic
  on such) is `1.0`, so a gradient need not compute the output's value;
- `zeros_like(x)` of such an argument is `np.zeros_like(x)`, and the adjoint accumulated into
  it by slices (`add_at(bx, slice, g)`) is written into it in place: the first contribution to
  a slot is an assignment `bx[:-1] = g`, a later one `bx[1:] = bx[1:] + g`;
- `zeros_like(v)` and `seed(v)` of a Python number (in code built for Python float arguments,
  `shapes.NUMBER`: see `analyses.numbers`) are `0.0` and `1.0`.

Each rewrite is an identity on the values the code computes (only the helper's shape question
is answered early); code built for unknown shapes is left as it is.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np

from s2sad import runtime
from s2sad.analyses import shapes
from s2sad.analyses.numbers import python_numbers
from s2sad.core import ir, printer
from s2sad.core.ir import Assign, Call, Const, Var
from s2sad.core.naming import Namer, builtin_ref, numpy_ref, runtime_ref
from s2sad.core.syntax import operator_ref
from s2sad.front.lower_expr import getattr_ref, getitem_ref
from s2sad.rules.registry import facts, lookup

_ARITHMETIC = (operator.neg, operator.pos, operator.add, operator.sub, operator.mul, operator.truediv)


def specialise(fn: ir.Function, table: dict, namer: Namer | None, complexes: bool = True,
               numbers: frozenset[str] = frozenset()) -> list[ir.Stmt]:
    """`fn`'s body with the rewrites above, given the shape class of each name (`table`);
    `complexes`, whether `fn` may compute complex values (`analyses.complexes`); `numbers`, the
    parameters that are Python floats or ints."""
    if numbers:
        fn = ir.Function(fn.name, fn.params, _number_helpers(fn.body, python_numbers(fn, numbers)), fn.filename,
                         fn.firstline, fn.lines, fn.temps, fn.defaults)
    if not any(isinstance(c, tuple) for c in table.values()):
        return fn.body  # no known shapes: code for any shape
    facts_ = _Facts(fn, table, complexes)
    body = _rewrite_block(fn.body, facts_, namer)
    if not facts_.complexes and namer is not None:
        body = _accumulate_in_place(body, facts_, namer)
    if namer is not None:
        body = _build_dicts(body, facts_, namer)
    return body


def _number_helpers(body: list[ir.Stmt], numbers: frozenset[str]) -> list[ir.Stmt]:
    """`zeros_like(v)` and `seed(v)` of a Python number `v` (see `analyses.numbers`) as the
    constants they return for it, `0.0` and `1.0`."""
    out = []
    for stmt in body:
        if type(stmt) is not Assign:
            stmt = ir.rebuild(stmt, lambda block: _number_helpers(block, numbers))
        elif type(stmt.value) is Call and len(stmt.value.args) == 1 and not stmt.value.kwargs:
            op, arg = stmt.value.op.value, stmt.value.args[0]
            if (op is runtime.zeros_like or op is runtime.seed) and type(arg) is Var and arg.name in numbers:
                stmt = Assign(stmt.target, Const(0.0 if op is runtime.zeros_like else 1.0), stmt.line)
        out.append(stmt)
    return out


_AS_METHODS = {np.sum: np.ndarray.sum, np.max: np.ndarray.max, np.amax: np.ndarray.max, np.min: np.ndarray.min,
               np.amin: np.ndarray.min, np.mean: np.ndarray.mean, np.prod: np.ndarray.prod}
"""NumPy reductions whose array method takes the same arguments after the array."""
_METHOD_OPS = frozenset(map(id, (*_AS_METHODS, np.reshape, np.transpose)))
"""The functions `as_methods` writes as methods."""


def as_methods(body: list[ir.Stmt], table: dict) -> list[ir.Stmt]:
    """NumPy functions of arrays of known shape written as the arrays' methods, as a person
    would (`g.sum(axis=0)`, `g.reshape(shape)`, `g.T`): the same computation, without the
    dispatch of NumPy's function layer (about a microsecond a call, most of a small array's
    reduction). Run last: the optimizer's passes know the functions, not the methods."""
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, Assign) and isinstance(stmt.value, Call):
            value = _as_method(stmt.value, table)
            stmt = stmt if value is stmt.value else Assign(stmt.target, value, stmt.line)
        elif not isinstance(stmt, Assign):
            stmt = ir.rebuild(stmt, lambda block: as_methods(block, table))
        out.append(stmt)
    return out


def _as_method(call: Call, table: dict) -> Call:
    op, args = call.op.value, call.args
    if id(op) not in _METHOD_OPS:
        return call
    if not args or not _an_array(args[0], table) or not all(k in ("axis", "keepdims") for k, _ in call.kwargs):
        return call
    if op in _AS_METHODS and len(args) <= 2:
        method = _AS_METHODS[op]
    elif op is np.reshape and len(args) == 2 and not call.kwargs:
        method = np.ndarray.reshape
    elif op is np.transpose and len(args) == 1 and not call.kwargs:
        return Call(getattr_ref(), (args[0], Const("T")))
    else:
        return call
    return Call(ir.Ref(method, ("np", "ndarray", method.__name__), np), args, call.kwargs)


def _an_array(atom: ir.Atom, table: dict) -> bool:
    """Known to be a NumPy array (a name of known, non-empty shape; never a Python number)."""
    cls = shapes.atom_class(atom, table)
    return isinstance(atom, Var) and isinstance(cls, tuple) and len(cls) > 0


def fold_known_shapes(fn: ir.Function, start: dict) -> ir.Function:
    """The primal with what the argument shapes decide written as constants: `np.shape(x)`,
    `x.shape` and `len(x)` of an array of known shape, items of constant tuples, tuples of
    constants, sums, differences, products, floor quotients and remainders of constant integers
    (`n - m + 1` of two lengths), and names bound once to a constant at the top of the function,
    read after it.
    Repeated until nothing changes (a shape made constant may decide another)."""
    while True:
        table = shapes.classes(fn, start)
        body = _fold_block(fn.body, table)
        body = _constants_forward(body)
        if printer.same_block(fn.body, body):
            return fn
        fn = ir.Function(fn.name, fn.params, body, fn.filename, fn.firstline, fn.lines, fn.temps, fn.defaults)


def _fold_block(body: list[ir.Stmt], table: dict) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, Assign):
            folded = _fold_shape(stmt.value, table)
            stmt = stmt if folded is None else Assign(stmt.target, folded, stmt.line)
        out.append(ir.rebuild(stmt, lambda block: _fold_block(block, table)))
    return out


def _fold_shape(value: ir.Expr, table: dict) -> Const | None:
    if isinstance(value, ir.Pack):
        return Const(tuple(a.value for a in value.items)) if all(isinstance(a, Const) for a in value.items) else None
    if not isinstance(value, Call) or value.kwargs:
        return None
    op, args = value.op.value, value.args
    shape = shapes.atom_class(args[0], table) if args else None
    if isinstance(shape, tuple):
        if op is np.shape and len(args) == 1 or op is getattr and args[1:] == (Const("shape"),):
            return Const(shape)
        if op is len and len(args) == 1 and shape:
            return Const(shape[0])
        if op in (np.size, runtime.size) and len(args) == 1:  # (`x.size`)
            return Const(math.prod(shape))
        if op is np.ndim and len(args) == 1:
            return Const(len(shape))
    if op in shapes.INTEGER_OPS and len(args) == 2 and all(isinstance(a, Const) and type(a.value) is int for a in args):
        if op not in (operator.floordiv, operator.mod) or args[1].value != 0:  # sizes computed from sizes
            return Const(op(args[0].value, args[1].value))
    if op is operator.getitem and all(isinstance(a, Const) for a in args) and isinstance(args[0].value, tuple) and (
            type(args[1].value) is int and -len(args[0].value) <= args[1].value < len(args[0].value)):
        return Const(args[0].value[args[1].value])
    return None


def _constants_forward(body: list[ir.Stmt]) -> list[ir.Stmt]:
    """Names bound once, by a top-level statement, to a constant: read as the constant in the
    statements after it."""
    counts: dict[str, int] = {}
    for stmt in ir.walk(body):
        for name in ir.writes(stmt):
            counts[name] = counts.get(name, 0) + 1
    out: list[ir.Stmt] = []
    known: dict[str, ir.Atom] = {}
    for stmt in body:
        stmt = _substitute_deep(stmt, known) if known else stmt
        if isinstance(stmt, Assign) and isinstance(stmt.value, Const) and counts[stmt.target.name] == 1:
            known[stmt.target.name] = stmt.value
        out.append(stmt)
    return out


def _substitute_deep(stmt: ir.Stmt, known: dict[str, ir.Atom]) -> ir.Stmt:
    if isinstance(stmt, ir.COMPOUND):
        test = {k: _swap(getattr(stmt, k), known) for k in ("test", "iter") if hasattr(stmt, k)}
        stmt = ir.rebuild(stmt, lambda block: [_substitute_deep(s, known) for s in block])
        for k, v in test.items():
            setattr(stmt, k, v)
        return stmt
    if isinstance(stmt, Assign) and isinstance(stmt.value, Call):
        call = stmt.value
        return Assign(stmt.target, Call(call.op, tuple(_swap(a, known) for a in call.args),
                                        tuple((k, _swap(a, known)) for k, a in call.kwargs)), stmt.line)
    if isinstance(stmt, Assign) and isinstance(stmt.value, ir.Pack):
        return Assign(stmt.target, ir.Pack(tuple(_swap(a, known) for a in stmt.value.items)), stmt.line)
    if isinstance(stmt, Assign) and isinstance(stmt.value, Var) and stmt.value.name in known:
        return Assign(stmt.target, known[stmt.value.name], stmt.line)  # a copy of a constant
    return stmt


def _swap(atom: object, known: dict[str, ir.Atom]) -> object:
    return known.get(atom.name, atom) if isinstance(atom, Var) else atom


class _Facts:
    """What the rewrites ask about `fn`: shape classes, single definitions, fixed parameters."""

    def __init__(self, fn: ir.Function, table: dict, complexes: bool) -> None:
        self.table = table
        values: dict[str, list[ir.Expr]] = {}  # every value each name is bound to
        loops: set[str] = set()
        for stmt in ir.walk(fn.body):
            if type(stmt) is Assign:
                values.setdefault(stmt.target.name, []).append(stmt.value)
            elif type(stmt) is ir.For:
                loops.add(stmt.target.name)
        self.bindings = {name: bound for name, bound in values.items() if name not in loops}
        """Every value each name no loop binds is bound to (a number carried through a loop)."""
        self.defs = {name: bound[0] for name, bound in self.bindings.items() if len(bound) == 1}
        self.maybe_filled = {name for name, value in self.defs.items() if type(value) is Var or (
            type(value) is Call and value.op.value is runtime.unreduce)}
        """The names `filled` may find `unreduce(...)` behind: those bound to it, or to a copy."""
        self.fixed_arrays = {p for p in fn.params if isinstance(table.get(p), tuple) and p not in values
                             and p not in loops}
        """Parameters of known shape (float64 arrays) that no statement rebinds."""
        self.all_known = all(table.get(p) is not None for p in fn.params)
        """Every parameter's class is known: the code is built for NumPy arrays and numbers (an
        argument of another array library, Dask or CuPy, is given no shape)."""
        self.complexes = complexes
        self.integers = shapes.integer_names(fn)
        self._elementwise: dict[int, bool] = {}

    def definition(self, atom: ir.Atom) -> ir.Expr | None:
        """The value `atom` is bound to, through copies (`a = b`), where each name on the way is
        bound once."""
        value = self.defs.get(atom.name) if isinstance(atom, Var) else None
        for _ in range(20):
            if not isinstance(value, Var):
                break
            value = self.defs.get(value.name)
        return value

    def shape(self, atom: ir.Atom) -> object:
        return shapes.atom_class(atom, self.table)

    def filled(self, atom: ir.Atom) -> _Filled | None:
        """Where `atom` is `unreduce(g, x, ...)`, the adjoint of a reduction, over an `x` of known
        shape, and broadcasting `g` itself gives it: `g` a number, or `g` with the reduced axes
        kept (`keepdims=True`) or leading."""
        value = self.definition(atom)
        if not (isinstance(value, Call) and value.op.value is runtime.unreduce and not value.kwargs):
            return None
        g, like, *options = value.args
        want = self.shape(like)
        if not isinstance(want, tuple) or not all(isinstance(o, Const) for o in options):
            return None
        inner = self.filled(g)
        if inner is not None and self.one_number(inner.g):
            return _Filled(inner.g, like, ())  # a number spread over an array, then over a larger one
        if self.one_number(g):
            return _Filled(g, like, ())
        axis, keepdims = (tuple(o.value for o in options) + (None, False))[:2]
        if not keepdims and axis is not None and _leading(axis, len(want)) is None:
            return None  # the reduced axes are not leading: `g` needs them put back first
        return _Filled(g, like, tuple(options)) if _broadcasts_to(self.shape(g), want) else None

    def elementwise(self, op: object) -> bool:
        found = self._elementwise.get(id(op))  # (the ops are the IR's: alive, their ids their own)
        if found is None:
            rule = lookup(op)
            found = self._elementwise[id(op)] = (
                op in _ARITHMETIC or rule is not None and rule.shape == "elementwise" and not rule.nondiff)
        return found

    def one_number(self, atom: ir.Atom, depth: int = 0, carried: frozenset = frozenset()) -> bool:
        """Known to be one number: a NumPy reduction of an array of known shape, an element of
        one, or arithmetic on numbers known so; a name bound more than once (a sum carried
        through a loop), where every value it is bound to is one (it being one itself while
        that is asked: `total = total + v` with `total = 0.0` before the loop)."""
        if isinstance(atom, Const):
            return type(atom.value) in (int, float)
        if isinstance(atom, Var) and atom.name in carried:
            return True
        if depth > 20:  # (a copy of itself, `x = x`, is a definition too)
            return False
        value = self.definition(atom)
        if value is None and isinstance(atom, Var) and len(self.bindings.get(atom.name, ())) > 1 and (
                self.shape(atom) == shapes.SCALAR):  # the shapes agree: no binding is an array
            inner = carried | {atom.name}
            return all(self._number_value(v, depth + 1, inner) for v in self.bindings[atom.name])
        return self._number_value(value, depth, carried)

    def _number_value(self, value: ir.Expr | None, depth: int, carried: frozenset) -> bool:
        if isinstance(value, Var):
            return self.one_number(value, depth + 1, carried)
        if isinstance(value, Const):  # None: the placeholder of a value a loop keeps, never computed with
            return type(value.value) in (int, float) or value.value is None and bool(carried)
        if not isinstance(value, Call) or depth > 20 or value.kwargs and not _no_axis(value):
            return False
        op = value.op.value
        if op in (runtime.tape_pop, runtime.trip_value) or op is operator.getitem and _trip_list(value):
            return bool(carried)  # a value the name had before (restored): one of its other values
        if op is operator.getitem and _an_array(value.args[0], self.table) and self.shape(value.args[0]) and \
                shapes.atom_class(value.args[1], self.table) == shapes.SCALAR:
            return len(self.shape(value.args[0])) == 1  # an element of a vector: a NumPy scalar
        if op is runtime.seed and len(value.args) == 1:
            return self.one_number(value.args[0], depth + 1, carried)
        if op in shapes.MATMULS and len(value.args) == 2:  # vector @ vector
            return all(isinstance(self.shape(a), tuple) and len(self.shape(a)) == 1 for a in value.args)
        if self.elementwise(op) and not value.kwargs:
            return all(self.one_number(a, depth + 1, carried) for a in value.args)
        return ((facts(op).reduction or op in shapes.REDUCTIONS) and len(value.args) == 1
                and getattr(op, "__module__", "") == "numpy" and isinstance(self.shape(value.args[0]), tuple))


def _trip_list(value: Call) -> bool:
    """`v_trips[i]`: a value a loop kept by trip (see `analyses.trip_slots`)."""
    return isinstance(value.args[0], Var) and value.args[0].name.endswith("_trips")


def _broadcasts_to(have: object, want: object) -> bool:
    if not (isinstance(have, tuple) and isinstance(want, tuple)):
        return False
    try:
        return np.broadcast_shapes(have, want) == want
    except ValueError:
        return False


def _no_axis(value: Call) -> bool:
    return all(k == "axis" and v == Const(None) for k, v in value.kwargs)


def _rewrite_block(body: list[ir.Stmt], facts_: _Facts, namer: Namer | None) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, Assign) and isinstance(stmt.value, ir.Pack) and all(
                isinstance(a, Const) for a in stmt.value.items):
            out.append(Assign(stmt.target, Const(tuple(a.value for a in stmt.value.items)), stmt.line))
        elif isinstance(stmt, Assign) and isinstance(stmt.value, Call):
            out += _rewrite(stmt, facts_, namer)
        else:
            out.append(ir.rebuild(stmt, lambda block: _rewrite_block(block, facts_, namer)))
    return out


def _rewrite(stmt: Assign, facts_: _Facts, namer: Namer | None) -> list[ir.Stmt]:
    call, line = stmt.value, stmt.line
    op = call.op.value
    if id(op) not in _REWRITTEN and not facts_.elementwise(op):
        return [stmt]
    if op is np.shape and len(call.args) == 1 and isinstance(facts_.shape(call.args[0]), tuple):
        return [Assign(stmt.target, Const(facts_.shape(call.args[0])), line)]
    if op is operator.getitem and all(isinstance(a, Const) for a in call.args) and isinstance(
            call.args[0].value, tuple) and type(call.args[1].value) is int and not call.kwargs:
        return [Assign(stmt.target, Const(call.args[0].value[call.args[1].value]), line)]
    if op is runtime.seed and facts_.one_number(call.args[0]):
        return [Assign(stmt.target, Const(1.0), line)]
    if facts_.elementwise(op) and namer is not None:
        spread = _spread(stmt, facts_, namer)
        if spread is not None:
            return spread
    if op is runtime.reduced_size and isinstance(facts_.shape(call.args[0]), tuple) and all(
            isinstance(a, Const) for a in call.args[1:]):
        axis = call.args[1].value if len(call.args) > 1 else None
        return [Assign(stmt.target, Const(runtime.reduced_size(np.empty(facts_.shape(call.args[0]), bool), axis)),
                       line)]
    if op is runtime.zeros_like and isinstance(call.args[0], Var) and call.args[0].name in facts_.fixed_arrays:
        return [Assign(stmt.target, Call(numpy_ref("zeros_like"), call.args), line)]
    if op is runtime.like_structure and _built_like(call.args[0], call.args[1], facts_):
        return [Assign(stmt.target, call.args[0], line)]
    if op is runtime.zero_item and _an_array(call.args[0], facts_.table):  # only a list's or dict's slot changes
        return [Assign(stmt.target, call.args[0], line)]
    if op is runtime.copy_value and _number_item(call.args[0], facts_):  # a NumPy scalar: immutable
        return [Assign(stmt.target, call.args[0], line)]
    if op is runtime.add_at and _item_of_known_array(stmt, facts_):  # `bx[i] += g` itself, not the helper
        return [Assign(stmt.target, Call(runtime_ref("add_into"), call.args), line)]
    if op is runtime.add and len(call.args) == 2 and not call.kwargs and all(
            facts_.shape(a) == shapes.SCALAR or isinstance(facts_.shape(a), tuple) for a in call.args):
        return [Assign(stmt.target, Call(operator_ref(operator.add), call.args), line)]  # numbers or arrays: a + b
    if op is runtime.as_sequence and _an_array(call.args[0], facts_.table):  # `for v in x` of an array: x
        return [Assign(stmt.target, call.args[0], line)]
    if op is runtime.sequence_adjoint and _an_array(call.args[1], facts_.table):  # an array's cotangent: g
        return [Assign(stmt.target, call.args[0], line)]
    if op in (runtime.matmul_adjoint_x, runtime.matmul_adjoint_y) and namer is not None:
        plain = _matmul_adjoint(stmt, facts_, namer)
        if plain is not None:
            return plain
    if op is runtime.unbroadcast and len(call.args) == 2 and namer is not None:
        summed = _sum_to(call.args[0], facts_.shape(call.args[0]), facts_.shape(call.args[1]), namer, line)
        if summed is not None:
            *before, last = summed
            return before + [Assign(stmt.target, last, line)]
        if _to_a_float(call, facts_):  # `unbroadcast(g, 0.0)`: `float(np.sum(g))`, as the helper computes it
            total = Var(namer.temp())
            return [Assign(total, Call(numpy_ref("sum"), (call.args[0],)), line),
                    Assign(stmt.target, Call(builtin_ref("float"), (total,)), line)]
    return [stmt]


_REWRITTEN = frozenset(map(id, (
    np.shape, operator.getitem, runtime.seed, runtime.reduced_size, runtime.zeros_like, runtime.like_structure,
    runtime.copy_value, runtime.add_at, runtime.add, runtime.as_sequence, runtime.sequence_adjoint,
    runtime.matmul_adjoint_x, runtime.matmul_adjoint_y, runtime.unbroadcast, runtime.zero_item)))
"""The ops `_rewrite` asks about by name (besides the elementwise ones)."""


def _number_item(atom: ir.Atom, facts_: _Facts) -> bool:
    """`atom` is `x[i]`, one element of a NumPy array of known shape (a NumPy scalar, which
    nothing can change, so a copy of it is itself)."""
    value = facts_.definition(atom)
    return (isinstance(value, Call) and value.op.value is operator.getitem and not value.kwargs
            and _an_array(value.args[0], facts_.table) and facts_.shape(atom) == shapes.SCALAR)


def _item_of_known_array(stmt: Assign, facts_: _Facts) -> bool:
    """`bx = add_at(bx, i, g)` into a NumPy array of known shape by an integer variable (a loop's
    counter over a range, integer arithmetic of those), with no complex values, in code built for
    NumPy arguments: what the helper does then is `bx[i] += g`."""
    call = stmt.value
    if len(call.args) != 3 or call.kwargs or facts_.complexes or call.args[0] != stmt.target:
        return False
    index = call.args[1]  # a constant index is `_accumulate_in_place`'s (a first write assigns)
    return (isinstance(index, Var) and index.name in facts_.integers and _an_array(call.args[0], facts_.table)
            and facts_.all_known)  # (no Dask or CuPy value to add: see `_into_known`)


def _to_a_float(call: Call, facts_: _Facts) -> bool:
    """`unbroadcast(g, c)` of an array `g` of known shape down to a Python float constant, in code
    without complex values (the helper takes the real part)."""
    like, have = call.args[1], facts_.shape(call.args[0])
    return (isinstance(like, Const) and type(like.value) is float and isinstance(have, tuple) and len(have) > 0
            and not facts_.complexes)


@dataclass(frozen=True)
class _Filled:
    """`unreduce(g, like, *options)` where broadcasting `g` to `like`'s shape gives the same."""

    g: ir.Atom
    like: ir.Atom
    options: tuple


def _leading(axis: object, ndim: int) -> tuple | None:
    """The reduced axes, if they are the leading ones (0, 1, ...); None otherwise."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    if not all(type(a) is int and -ndim <= a < ndim for a in axes):
        return None
    axes = tuple(sorted(a % ndim for a in axes))
    return axes if axes == tuple(range(len(axes))) else None


def _spread(stmt: Assign, facts_: _Facts, namer: Namer) -> list[ir.Stmt] | None:
    """Elementwise arithmetic on the adjoint of a reduction, `unreduce(g, x)`: an array of `x`'s
    shape that broadcasting `g` gives (see `_Facts.filled`). With an operand of `x`'s shape, `g`
    itself broadcasts to the same values; with numbers only, the arithmetic is done on `g` and
    the result spread as before."""
    call, line = stmt.value, stmt.line
    if not any(type(a) is Var and a.name in facts_.maybe_filled for a in call.args):
        return None  # (no argument is bound to `unreduce(...)`, or to a copy)
    filled = [facts_.filled(a) for a in call.args]
    found = {f for f in filled if f is not None}
    if not found or call.kwargs:
        return None
    if len(found) == 1 and all(f is not None or facts_.one_number(a) for f, a in zip(filled, call.args)):
        spread = found.pop()
        inner = Var(namer.temp())
        args = tuple(a if f is None else f.g for f, a in zip(filled, call.args))
        return [Assign(inner, Call(call.op, args), line),
                Assign(stmt.target, Call(runtime_ref("unreduce"), (inner, spread.like, *spread.options)), line)]
    shape = facts_.shape(stmt.target)
    for i, f in enumerate(filled):
        others = call.args[:i] + call.args[i + 1:]
        if f is not None and any(facts_.shape(a) == shape == facts_.shape(f.like) for a in others):
            args = call.args[:i] + (f.g,) + call.args[i + 1:]
            return [Assign(stmt.target, Call(call.op, args), line)]
    return None


def _matmul_adjoint(stmt: Assign, facts_: _Facts, namer: Namer) -> list[ir.Stmt] | None:
    """Of `x @ y` with `x` and `y` matrices or vectors of known shapes, the cotangent `g` as
    plain NumPy (what `matmul_adjoint_x` and `_y` compute for them, without asking):

    | x      | y      | for x        | for y        |
    |--------|--------|--------------|--------------|
    | matrix | matrix | `g @ y.T`    | `x.T @ g`    |
    | matrix | vector | `outer(g, y)`| `x.T @ g`    |
    | vector | matrix | `y @ g`      | `outer(x, g)`|
    | vector | vector | `g * y`      | `x * g`      |
    """
    g, x, y = stmt.value.args
    dims = tuple(_ndim(facts_.shape(a)) for a in (g, x, y))
    if None in dims or dims not in _MATMUL_DIMS:
        return None
    for_x = stmt.value.op.value is runtime.matmul_adjoint_x
    line = stmt.line
    if dims[1:] == (1, 1):
        return [Assign(stmt.target, Call(operator_ref(operator.mul), (g, y) if for_x else (x, g)), line)]
    if dims[1:] == (2, 1) and for_x or dims[1:] == (1, 2) and not for_x:
        return [Assign(stmt.target, Call(numpy_ref("outer"), (g, y) if for_x else (x, g)), line)]
    if dims[1:] == (1, 2):  # for x: y @ g
        return [Assign(stmt.target, Call(operator_ref(operator.matmul), (y, g)), line)]
    transposed = Var(namer.temp())
    if for_x:
        left, right, turned = g, transposed, y
    else:
        left, right, turned = transposed, g, x
    return [Assign(transposed, Call(getattr_ref(), (turned, Const("T"))), line),
            Assign(stmt.target, Call(operator_ref(operator.matmul), (left, right)), line)]


_MATMUL_DIMS = {(2, 2, 2), (1, 2, 1), (1, 1, 2), (0, 1, 1)}
"""(g, x, y) dimensions of `x @ y` that `_matmul_adjoint` writes out."""


def _ndim(shape: object) -> int | None:
    """The number of dimensions of a shape class: a concrete shape's, 0 for one number."""
    if shape == shapes.SCALAR:
        return 0
    return len(shape) if isinstance(shape, tuple) else None


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
    touched in a nested block, is no longer fresh). A second contribution to exactly the
    elements the last write assigned joins it: `bx[index] = g1 + g2`, written once."""
    out: list[ir.Stmt | None] = []
    fresh: dict[str, _Fresh] = {}
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            stmt = ir.rebuild(stmt, lambda block: _accumulate_in_place(block, facts_, namer))
            touched = _touched_inside(stmt)
            for name in touched & set(fresh):
                del fresh[name]
            for state in fresh.values():
                if state.last is not None and isinstance(state.last[2], Var) and state.last[2].name in touched:
                    state.last = None
            out.append(stmt)
        elif isinstance(stmt, Assign):
            _in_place(stmt, fresh, facts_, namer, out)
        else:
            for name in ir.reads(stmt) & set(fresh):
                del fresh[name]
            out.append(stmt)
    return [stmt for stmt in out if stmt is not None]


@dataclass
class _Fresh:
    """An adjoint array made by `np.zeros_like`, not read since: the elements each write so far
    assigned (None once a write added), and the last assignment (its place in the output, its
    elements and value)."""

    written: list[set[int]] | None
    last: tuple[int, set[int], ir.Atom] | None = None


def _in_place(stmt: Assign, fresh: dict[str, _Fresh], facts_: _Facts, namer: Namer, out: list) -> None:
    name, value, line = stmt.target.name, stmt.value, stmt.line
    op = value.op.value if isinstance(value, Call) else None
    if op is runtime.add_at and name in fresh and value.args[0] == Var(name) and _basic_const(value.args[1]):
        _add_into(name, value.args[1], value.args[2], fresh[name], facts_, namer, out, line)
        return
    if op is runtime.add_at and _into_known(value, name, facts_):  # into an array not fresh: `bx[::-1] += g`
        stmt = Assign(stmt.target, Call(runtime_ref("add_into"), value.args), line)
    if fresh:
        for read in ir.reads(stmt) & fresh.keys():
            del fresh[read]
        fresh.pop(name, None)
        for state in fresh.values():  # a value that is bound again can no longer join a later write
            if state.last is not None and state.last[2] == Var(name):
                state.last = None
    if op is np.zeros_like and isinstance(value.args[0], Var) and value.args[0].name in facts_.fixed_arrays:
        fresh[name] = _Fresh([])
    out.append(stmt)


def _into_known(value: Call, name: str, facts_: _Facts) -> bool:
    """`name = add_at(name, index, g)` with a constant basic index into a NumPy array of known
    shape, of a `g` of known shape too, in code whose parameters all have known classes (so `g` is
    a NumPy array or number: a Dask or CuPy value, which `add_at` adds in its own library, comes
    from an argument of unknown class, and may still have a known shape)."""
    if len(value.args) != 3 or value.kwargs or value.args[0] != Var(name) or not _basic_const(value.args[1]):
        return False
    added = facts_.shape(value.args[2])
    return (facts_.all_known and _an_array(value.args[0], facts_.table)
            and (added == shapes.SCALAR or isinstance(added, tuple)))


def _add_into(name: str, index: Const, g: ir.Atom, state: _Fresh, facts_: _Facts, namer: Namer, out: list,
              line: int) -> None:
    target = Var(name)
    shape = facts_.shape(target)
    chosen = _elements(shape, index.value) if state.written is not None and isinstance(shape, tuple) else None
    if chosen is not None and not any(chosen & earlier for earlier in state.written):
        state.written.append(chosen)
        state.last = (len(out), chosen, g)
        out.append(Assign(target, Call(runtime_ref("setitem"), (target, index, g)), line))
        return
    last = state.last
    if chosen is not None and last is not None and last[1] == chosen and not any(
            chosen & earlier for earlier in state.written if earlier is not last[1]):
        total = Var(namer.temp())  # the same elements again: one write of both
        out[last[0]] = None
        out.append(Assign(total, Call(operator_ref(operator.add), (last[2], g)), line))
        state.last = (len(out), chosen, total)
        out.append(Assign(target, Call(runtime_ref("setitem"), (target, index, total)), line))
        return
    state.written, state.last = None, None
    out.append(Assign(target, Call(runtime_ref("add_into"), (target, index, g)), line))


_MAX_ELEMENTS = 1 << 16


def _elements(shape: tuple[int, ...], index: object) -> set[int] | None:
    """The flat positions `index` selects in an array of `shape` (None for large arrays: their
    writes are then taken to overlap, and add)."""
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


def _arrays_dict(facts_: _Facts, atom: ir.Atom) -> shapes.Fields | None:
    """The class of a dict argument whose values are all arrays of known shapes."""
    cls = facts_.shape(atom)
    return cls if isinstance(cls, shapes.Fields) and all(isinstance(c, tuple) for _, c in cls.items) else None


def _built_like(g: ir.Atom, like: ir.Atom, facts_: _Facts) -> bool:
    """`g` is a dict display with the keys of the dict argument `like`, in its order, each
    value of the shape of `like`'s value there: `like_structure(g, like)` is `g`."""
    fields = _arrays_dict(facts_, like)
    value = facts_.defs.get(g.name) if isinstance(g, Var) else None
    if fields is None or _display(value, fields) is None:
        return False
    return all(facts_.shape(v) == c for v, (_, c) in zip(_display(value, fields), fields.items))


def _display(value: object, fields: shapes.Fields) -> tuple | None:
    """The values of `value` if it displays a container of the kind and keys of `fields`."""
    if fields.kind == "tuple" and isinstance(value, ir.Pack) and len(value.items) == len(fields.items):
        return value.items
    op = value.op.value if isinstance(value, Call) else None
    if fields.kind == "list" and op is runtime.make_list and len(value.args) == len(fields.items):
        return value.args
    keys = Const(tuple(k for k, _ in fields.items))
    if fields.kind == "dict" and op is runtime.make_dict and value.args[:1] == (keys,):
        return value.args[1:]
    return None


class _Gradient:
    """The adjoint of a dict argument being gathered: the atom holding each key's sum so far."""

    def __init__(self, source: ir.Atom, fields: shapes.Fields) -> None:
        self.source, self.fields = source, fields
        self.parts: dict[object, ir.Atom] = {}


def _build_dicts(body: list[ir.Stmt], facts_: _Facts, namer: Namer) -> list[ir.Stmt]:
    """`bd = zeros_like(d)` followed by `bd = add_at(bd, key, g)` for a dict argument `d` of
    arrays of known shapes: each key's contributions are added up in a variable of their own,
    and the dict is made once, `bd = {key: ...}`, where it is first read (a key that got no
    contribution holds zeros)."""
    out: list[ir.Stmt] = []
    gathering: dict[str, _Gradient] = {}
    for stmt in body:
        if isinstance(stmt, Assign) and _gather(stmt, gathering, facts_, namer, out):
            continue
        if gathering:
            touched = _touched_inside(stmt) if isinstance(stmt, ir.COMPOUND) else ir.reads(stmt) | ir.writes(stmt)
            for name in sorted(touched & set(gathering)):
                out += _make_dict(name, gathering.pop(name), namer, stmt.line)
        out.append(ir.rebuild(stmt, lambda block: _build_dicts(block, facts_, namer)) if isinstance(
            stmt, ir.COMPOUND) else stmt)
    for name in sorted(gathering):
        out += _make_dict(name, gathering[name], namer, body[-1].line)
    return out


def _gather(stmt: Assign, gathering: dict[str, _Gradient], facts_: _Facts, namer: Namer, out: list) -> bool:
    """Take in `stmt` if it starts or adds to a dict's gradient (see `_build_dicts`)."""
    name, value = stmt.target.name, stmt.value
    op = value.op.value if isinstance(value, Call) else None
    if op is runtime.zeros_like and name not in gathering and _arrays_dict(facts_, value.args[0]) is not None:
        if isinstance(value.args[0], Var) and value.args[0].name != name:
            gathering[name] = _Gradient(value.args[0], _arrays_dict(facts_, value.args[0]))
            return True
        return False
    if op is not runtime.add_at or name not in gathering or value.args[0] != Var(name):
        return False
    gradient, (key, g) = gathering[name], value.args[1:]
    if not isinstance(key, Const) or not isinstance(gradient.fields.get(key.value), tuple) or (
            facts_.shape(g) != gradient.fields.get(key.value)):
        return False
    total = Var(namer.temp())
    before = gradient.parts.get(key.value)
    out.append(Assign(total, g if before is None else Call(operator_ref(operator.add), (before, g)), stmt.line))
    gradient.parts[key.value] = total
    return True


def _make_dict(name: str, gradient: _Gradient, namer: Namer, line: int) -> list[ir.Stmt]:
    stmts: list[ir.Stmt] = []
    values = []
    for key, _ in gradient.fields.items:
        part = gradient.parts.get(key)
        if part is None:
            value, part = Var(namer.temp()), Var(namer.temp())
            stmts += [Assign(value, Call(getitem_ref(), (gradient.source, Const(key))), line),
                      Assign(part, Call(numpy_ref("zeros_like"), (value,)), line)]
        values.append(part)
    if gradient.fields.kind == "tuple":
        return stmts + [Assign(Var(name), ir.Pack(tuple(values)), line)]
    if gradient.fields.kind == "list":
        return stmts + [Assign(Var(name), Call(runtime_ref("make_list"), tuple(values)), line)]
    keys = Const(tuple(k for k, _ in gradient.fields.items))
    return stmts + [Assign(Var(name), Call(runtime_ref("make_dict"), (keys, *values)), line)]
