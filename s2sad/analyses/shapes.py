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
import operator
from dataclasses import dataclass

import numpy as np

from s2sad import runtime
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Pack, Ref, Var
from s2sad.core.naming import runtime_ref
from s2sad.rules.registry import GENERATION, facts, lookup

SCALAR = "()"
NUMBER = "float"
"""The `Request.shapes` entry of a Python float or int argument (not a NumPy scalar): its class
is `SCALAR`, and `analyses.numbers` knows the Python numbers computed from it."""
MATMULS = (operator.matmul, np.matmul, np.dot)
_LIKES = (np.zeros_like, np.ones_like, np.empty_like)
_COUNTS = (runtime.reduced_size, runtime.size, builtins.len, np.size, np.ndim)
"""Ops that return one integer."""
_FLATTENS = (np.ravel, np.ndarray.flatten, runtime.flatten)
"""Ops that return their argument as one axis."""
_CREATIONS = (np.zeros, np.ones, np.empty, np.full)
REDUCTIONS = (np.sum, np.mean, np.max, np.min, np.amax, np.amin, np.prod, np.std, np.var, np.ndarray.sum,
              np.ndarray.mean, np.ndarray.max, np.ndarray.min, np.ndarray.prod, np.ndarray.std, np.ndarray.var)
"""Reductions whose result has the shape of `np.sum`'s with the same `axis` and `keepdims` (the
functions, and the methods code specialised to arrays calls instead, `x.max(axis=1)`)."""
_BOTTOM = object()


@dataclass(frozen=True)
class Fields:
    """The class of a dict argument whose keys are known: the class of each value (a shape, or
    None). Only `d[key]` is asked of it; a dict used otherwise (passed on, written into) is
    unknown, as a write could give a key a value of another shape."""

    items: tuple[tuple[object, object], ...]
    kind: str = "dict"
    """"dict", or "tuple" or "list" (the items of a sequence argument, by position)."""

    def get(self, key: object) -> object:
        for k, cls in self.items:
            if type(k) is type(key) and k == key:
                return cls
        return None


def initial(params: list[str], kinds: tuple[str | None, ...] | None,
            shapes: tuple[tuple[int, ...] | None, ...] | None = None) -> dict[str, object]:
    """Classes of parameters of the given kinds ("scalar", "array" or None for unknown); an
    array whose shape is given (`shapes`, per parameter) has that shape as its class."""
    kinds = kinds or (None,) * len(params)
    shapes = shapes or ()
    start: dict[str, object] = {}
    for i, (param, kind) in enumerate(zip(params, kinds)):
        shape = shapes[i] if i < len(shapes) and shapes[i] != NUMBER else None
        if isinstance(shape, tuple) and shape[:1] in (("dict",), ("tuple",), ("list",)):
            start[param] = Fields(shape[1], shape[0])
        else:
            array = param if shape is None else shape
            start[param] = SCALAR if kind == "scalar" else array if kind == "array" else None
    return start


def classes(fn: ir.Function, start: dict[str, str | None]) -> dict[str, str | None]:
    """The shape class of every name in `fn`, given the classes of its parameters."""
    table: dict[str, object] = {p: start.get(p) for p in fn.params}
    for name in _indexed_only(fn, [p for p, cls in table.items() if isinstance(cls, Fields)]):
        table[name] = None
    statements = list(ir.walk(fn.body))
    assigns = [s for s in statements if type(s) is Assign]
    fors = [s for s in statements if type(s) is ir.For]
    counted = {s.target.name for s in assigns if _counts_integers(s.value)}
    for s in fors:
        scalar = isinstance(s.iter, Var) and s.iter.name in counted
        table[s.target.name] = _join(table.get(s.target.name, _BOTTOM), SCALAR if scalar else None)
    integers = _integers(assigns, fors, counted)
    first_read: dict[str, int] = {}
    for i, stmt in enumerate(assigns):
        for name in ir.reads(stmt):
            first_read.setdefault(name, i)
    changed = True
    while changed:  # again only where a class changed after a statement read it
        changed = False
        for i, stmt in enumerate(assigns):
            old = table.get(stmt.target.name, _BOTTOM)
            new = _class_of(stmt.value, table, integers)
            if old is not _BOTTOM:  # (`_join`, inline: asked of every statement)
                new = old if new is _BOTTOM or old == new else None
            if new != old:
                table[stmt.target.name] = new
                changed = changed or first_read.get(stmt.target.name, i + 1) <= i
    return {k: (None if v is _BOTTOM else v) for k, v in table.items()}


INTEGER_OPS = (operator.add, operator.sub, operator.mul, operator.floordiv, operator.mod)


def integer_names(fn: ir.Function) -> set[str]:
    """The names that hold Python integers wherever they are bound: counters of loops over a
    `range` (only the loop binds them) and integer arithmetic of those and of integer constants
    (see `_integer_arithmetic`)."""
    statements = list(ir.walk(fn.body))
    assigns = [s for s in statements if type(s) is Assign]
    fors = [s for s in statements if type(s) is ir.For]
    counted = {s.target.name for s in assigns if _counts_integers(s.value)}
    elsewhere = {s.target.name for s in fors if not (isinstance(s.iter, Var) and s.iter.name in counted)}
    return _integers(assigns, fors, counted) - elsewhere  # a name another loop binds to anything: not one


def _integers(assigns: list[Assign], fors: list[ir.For], counted: set[str]) -> set[str]:
    integers = {s.target.name for s in fors if isinstance(s.iter, Var) and s.iter.name in counted}
    loops = {s.target.name for s in fors}
    if loops:
        integers -= {s.target.name for s in assigns}  # only the loops bind them
    return integers | _integer_arithmetic([s for s in assigns if s.target.name not in loops] if loops else assigns,
                                          integers)


def _integer_arithmetic(assigns: list[Assign], integers: set[str]) -> set[str]:
    """Names every binding of which is an integer constant, a copy or a restore of an integer,
    or `+`, `-`, `*`, `//` or `%` of integers (loop counters over a range, integer constants and
    names found so): `x[i + 1]` is an item like `x[i]`, and so is `x[k]` for `k = 0` counted up
    by `k = k + 1`. The largest such set (a counter and its increment read each other) among the
    names that integer constants and loop counters reach; a name only ever restored is not one.
    `assigns`: the assignments to names no loop binds. Linear in the statements."""
    if not integers and not any(type(s.value) is Const and type(s.value.value) is int for s in assigns):
        return set()  # nothing to start from
    bindings: dict[str, list[ir.Expr]] = {}
    for s in assigns:
        bindings.setdefault(s.target.name, []).append(s.value)
    shaped = {name for name, values in bindings.items()
              if name not in integers and all(map(_integer_shaped, values))}
    readers: dict[str, list[str]] = {}  # name -> the names whose integer-ness needs it
    seeds = []
    for name in shaped:
        for value in bindings[name]:
            if isinstance(value, Const):
                seeds.append(name)
            for dep in _integer_operands(value):
                readers.setdefault(dep, []).append(name)
    found = _reached(seeds + [r for i in integers for r in readers.get(i, ())], readers)
    found = {n for n in found if not all(map(restores, bindings[n]))}
    universe = integers | found
    failing = [n for n in found if not all(_integer_op(v, universe) for v in bindings[n])]
    while failing:  # a name that is not an integer takes every name that needs it along
        name = failing.pop()
        if name in found:
            found.discard(name)
            failing.extend(r for r in readers.get(name, ()) if r in found)
    return found


def _reached(seeds: list[str], edges: dict[str, list[str]]) -> set[str]:
    seen = set(seeds)
    todo = list(seeds)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def restores(value: ir.Expr) -> bool:
    return isinstance(value, Call) and (value.op.value is runtime.tape_pop or value.op.value is runtime.trip_value)


def _integer_shaped(value: ir.Expr) -> bool:
    """Whether `value` is an integer when the names it reads are (a quick first sieve)."""
    if isinstance(value, Const):
        return type(value.value) is int
    if isinstance(value, Var):
        return True
    if not isinstance(value, Call) or value.kwargs:
        return False
    return restores(value) or (
        value.op.value in INTEGER_OPS and all(isinstance(a, Var) or type(a.value) is int for a in value.args))


def _integer_operands(value: ir.Expr) -> list[str]:
    """The names `value` is an integer only if they are (none for a restore)."""
    if restores(value):
        return []
    atoms = [value] if isinstance(value, Var) else value.args if isinstance(value, Call) else []
    return [a.name for a in atoms if isinstance(a, Var)]


def _integer_op(value: ir.Expr, integers: set[str]) -> bool:
    if restores(value):
        return True  # an earlier value of the same name, restored
    if isinstance(value, (Var, Const)):
        return _integer(value, integers)  # `i = 0`, `k = t7`
    return (isinstance(value, Call) and value.op.value in INTEGER_OPS and not value.kwargs
            and all(_integer(a, integers) for a in value.args))


def _integer(atom: ir.Atom, integers: set[str]) -> bool:
    return atom.name in integers if isinstance(atom, Var) else isinstance(atom, Const) and type(atom.value) is int


def _indexed_only(fn: ir.Function, dicts: list[str]) -> list[str]:
    """Of the parameters in `dicts`, those used otherwise than by `d[constant]`, `zeros_like(d)`
    and `like_structure(g, d)` (their keys and values may change: their class is unknown)."""
    if not dicts:
        return []
    used_otherwise = set()
    for stmt in ir.walk(fn.body):
        value = stmt.value if isinstance(stmt, Assign) else None
        op = value.op.value if isinstance(value, Call) else None
        if op is operator.getitem and isinstance(value.args[1], Const) and not value.kwargs:
            used_otherwise |= ir.reads(stmt) - {value.args[0].name} if isinstance(value.args[0], Var) else set()
        elif op in (runtime.zeros_like, runtime.like_structure) and not value.kwargs:
            used_otherwise |= ir.reads(stmt) - {value.args[-1].name} if isinstance(value.args[-1], Var) else set()
        else:
            used_otherwise |= ir.reads(stmt)
        if isinstance(stmt, (Assign, ir.For)) and stmt.target.name in dicts:
            used_otherwise.add(stmt.target.name)
    return [d for d in dicts if d in used_otherwise]


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


def _class_of(value: ir.Expr, table: dict, integers: set[str] = frozenset()) -> object:
    if isinstance(value, (Var, Const, Ref)):
        cls = atom_class(value, table)
        return _held(cls)  # a second name for the dict: unknown
    if isinstance(value, Pack):
        return _tuple_of(value, table)
    return _held(_call_class(value, table, integers))


def _held(cls: object) -> object:
    """`cls`, unless it is a dict's or list's (which another name could write into): unknown.
    A tuple's items stay what they were."""
    return None if isinstance(cls, Fields) and cls.kind != "tuple" else cls


def _tuple_of(value: Pack, table: dict) -> Fields | None:
    """A tuple display's class: its items', by position (`h, c = step(h, c)` of an inlined step)."""
    items = tuple((i, atom_class(a, table)) for i, a in enumerate(value.items))
    if any(cls is _BOTTOM for _, cls in items):
        return None  # (an item not known yet: asked again when it is)
    return Fields(items, "tuple")


class _Op:
    """What `_call_class` asks about an op, looked up once per op (see `_op`)."""

    __slots__ = ("op", "facts", "like", "one_number", "reduction", "matmul", "creation", "elementwise", "math",
                 "plain")

    def __init__(self, op: object) -> None:
        self.op = op  # held: the `id` it is found by stays this op's
        self.facts = facts(op)
        self.like = any(op is f for f in _LIKES)
        self.one_number = op is runtime.seed or any(op is f for f in _COUNTS)
        self.reduction = any(op is f for f in REDUCTIONS)
        self.matmul = any(op is f for f in MATMULS)
        self.creation = any(op is f for f in _CREATIONS)
        rule = lookup(op)
        self.elementwise = (rule is not None and rule.shape == "elementwise"
                            or op is runtime.strong_mul or op is runtime.strong_div)  # broadcasting helpers
        self.math = getattr(op, "__module__", None) == "math"
        self.plain = None if self._special() else (
            _BROADCASTS if self.facts.broadcasts else SCALAR if self.math else
            _ELEMENTWISE if self.elementwise else _UNKNOWN)
        """For an op that no case of `_call_class` before the last few names: what its class is
        (`_BROADCASTS`: its operands' broadcast; `_ELEMENTWISE`: the same without keywords)."""

    def _special(self) -> bool:
        op, known = self.op, self.facts
        return (known.same_shape_as is not None or self.like or self.one_number or known.reduction
                or self.reduction or self.matmul or self.creation or op in _FLATTENS
                or any(op is f for f in _SPECIAL_OPS))


_SPECIAL_OPS = (runtime.tape_pop, runtime.trip_value, builtins.getattr, np.transpose, np.reshape, runtime.add,
                runtime.setitem, runtime.add_into, runtime.as_sequence, operator.getitem, builtins.sum,
                runtime.sum_adjoint)
"""The ops `_call_class` asks about by name."""
_BROADCASTS, _ELEMENTWISE, _UNKNOWN = "broadcasts", "elementwise", "unknown"
_OPS: dict[int, _Op] = {}
_OPS_GENERATION = [-1]


def _op(op: object) -> _Op:
    """`op`'s `_Op`, kept while no rule is registered (see `registry.GENERATION`)."""
    if _OPS_GENERATION[0] != GENERATION[0] or len(_OPS) > 10_000:
        _OPS.clear()
        _OPS_GENERATION[0] = GENERATION[0]
    found = _OPS.get(id(op))
    if found is None or found.op is not op:
        found = _OPS[id(op)] = _Op(op)
    return found


def _call_class(value: ir.Expr, table: dict, integers: set[str]) -> object:
    if isinstance(value, Pack):
        return None
    op = value.op.value
    info = _op(op)
    plain = info.plain
    if plain is not None:  # the common case: arithmetic, ufuncs
        if plain is _BROADCASTS or plain is _ELEMENTWISE and not value.kwargs:
            return _broadcast([atom_class(a, table) for a in value.args])
        return SCALAR if plain is SCALAR else None
    known = info.facts
    if known.same_shape_as is not None:
        return atom_class(value.args[known.same_shape_as], table) if len(value.args) > known.same_shape_as else None
    if info.like and len(value.args) == 1 and not value.kwargs:
        return atom_class(value.args[0], table)
    if info.one_number:
        return SCALAR
    if op is runtime.tape_pop or op is runtime.trip_value:
        return _BOTTOM  # an earlier value of the same variable: no new information
    if known.reduction and len(value.args) == 1 and not value.kwargs:
        return SCALAR
    if known.reduction or info.reduction:
        return _reduced(value, table)
    if info.matmul and len(value.args) == 2 and not value.kwargs:
        return _matmul(*(atom_class(a, table) for a in value.args))
    if info.creation and value.args and isinstance(value.args[0], Const):
        return _shape_value(value.args[0].value)
    if op is builtins.getattr and value.args[1] == Const("T") and _concrete(atom_class(value.args[0], table)):
        return atom_class(value.args[0], table)[::-1]
    if op is np.transpose and len(value.args) == 1 and not value.kwargs and _concrete(atom_class(value.args[0], table)):
        return atom_class(value.args[0], table)[::-1]
    if op is np.reshape and len(value.args) == 2 and not value.kwargs and isinstance(value.args[1], Const):
        return _reshaped(atom_class(value.args[0], table), value.args[1].value)
    if op in _FLATTENS and len(value.args) == 1 and not value.kwargs:
        return _reshaped(atom_class(value.args[0], table), -1)
    if op is runtime.add and len(value.args) == 2 and not value.kwargs:  # two contributions to an adjoint
        parts = [atom_class(a, table) for a in value.args]
        return _broadcast(parts) if all(p is _BOTTOM or p == SCALAR or isinstance(p, tuple) for p in parts) else None
    if op in (runtime.setitem, runtime.add_into) and isinstance(atom_class(value.args[0], table), tuple):
        return atom_class(value.args[0], table)  # `x[i] = v` into an array: the same array, the same shape
    if op is builtins.sum and len(value.args) == 1 and not value.kwargs and _concrete(atom_class(value.args[0], table)):
        shape = atom_class(value.args[0], table)  # `sum(x)` of an array: over its first axis
        return (shape[1:] or SCALAR) if shape else None
    if op is runtime.sum_adjoint and len(value.args) == 2 and _concrete(atom_class(value.args[1], table)):
        return atom_class(value.args[1], table)  # each row of the array summed gets the cotangent
    if op is runtime.as_sequence and isinstance(atom_class(value.args[0], table), tuple):
        return atom_class(value.args[0], table)  # `for v in x` of an array: the array itself
    if op is operator.getitem and isinstance(value.args[1], Var) and value.args[1].name in integers:
        container = atom_class(value.args[0], table)  # `x[i]`, i counting a loop over a range
        return (container[1:] or SCALAR) if _concrete(container) and container else None
    if op is operator.getitem and isinstance(value.args[1], Const):
        container = atom_class(value.args[0], table)
        if isinstance(container, Fields):
            return container.get(value.args[1].value)
        return _item(container, value.args[1].value)
    if known.broadcasts:
        return _broadcast([atom_class(a, table) for a in value.args])
    if info.math:
        return SCALAR  # the math module works on Python floats
    if info.elementwise and not value.kwargs:
        return _broadcast([atom_class(a, table) for a in value.args])
    return None


def _broadcast(parts: list[object]) -> object:
    arrays = set()
    for p in parts:
        if p is _BOTTOM:
            return _BOTTOM
        if p != SCALAR:
            arrays.add(None if isinstance(p, Fields) else p)
    if not arrays:
        return SCALAR
    if len(arrays) == 1 and None not in arrays:
        return arrays.pop()
    if all(isinstance(p, tuple) for p in arrays):
        try:
            return np.broadcast_shapes(*arrays)
        except ValueError:
            return None  # NumPy raises when the code runs
    return None


def _shape_value(value: object) -> tuple | None:
    """A shape given to `np.zeros` and the like: an int or a tuple of ints (None otherwise)."""
    if type(value) is int:
        return (value,)
    if isinstance(value, tuple) and all(type(n) is int for n in value):
        return value
    return None


def _concrete(cls: object) -> bool:
    return isinstance(cls, tuple)


def _dummy(shape: tuple[int, ...]) -> np.ndarray:
    """An array of `shape` that takes no memory: for asking NumPy the shape of a result."""
    return np.broadcast_to(np.empty(()), shape)


def _reduced(value: Call, table: dict) -> object:
    """A reduction's class where the argument's shape and `axis`, `keepdims` are known."""
    options = dict(value.kwargs)
    if len(value.args) != 1 or set(options) - {"axis", "keepdims"}:
        return None
    cls = atom_class(value.args[0], table)
    if not _concrete(cls) or not all(isinstance(a, Const) for a in options.values()):
        return None
    axis, keepdims = (options[k].value if k in options else d for k, d in (("axis", None), ("keepdims", False)))
    shape = _reduced_shape(cls, axis, bool(keepdims))
    return None if shape is None else shape if shape else SCALAR


def _reduced_shape(shape: tuple, axis: object, keepdims: bool) -> tuple | None:
    """The shape `np.sum(x, axis=axis, keepdims=keepdims)` has for an `x` of `shape` (worked
    out, not computed: the arrays may be large); None for an axis NumPy would refuse."""
    if axis is None:
        return (1,) * len(shape) if keepdims else ()
    axes = axis if isinstance(axis, tuple) else (axis,)
    if not all(type(a) is int and -len(shape) <= a < len(shape) for a in axes):
        return None
    axes = {a % len(shape) for a in axes}
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _reshaped(cls: object, shape: object) -> object:
    """The class of `np.reshape(x, shape)` for an `x` of known shape and a constant `shape`."""
    shape = _shape_value(shape)
    if not _concrete(cls) or shape is None:
        return None
    try:
        shape = _dummy(cls).reshape(shape).shape
    except ValueError:
        return None  # NumPy raises when the code runs
    return shape if shape else SCALAR


def _matmul(a: object, b: object) -> object:
    """The class of `a @ b` for vectors and matrices of known shapes."""
    if not (_concrete(a) and _concrete(b)) or not a or not b or max(len(a), len(b)) > 2:
        return None
    if a[-1] != b[0]:
        return None  # NumPy raises when the code runs
    shape = a[:-1] + b[1:]
    return shape if shape else SCALAR


def _item(cls: object, index: object) -> object:
    """`x[index]` for a constant basic index (ints, slices, None, ...) and a known shape."""
    if not _concrete(cls) or not basic_index(index):
        return None
    try:
        shape = _dummy(cls)[index].shape
    except (IndexError, TypeError, ValueError):
        return None
    return shape if shape else SCALAR


def basic_index(index: object) -> bool:
    """Ints, slices, None and Ellipsis (alone or in a tuple): NumPy's basic indexing."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(type(p) in (int, slice) or p is None or p is Ellipsis for p in parts)


def simplify(fn: ir.Function, start: dict[str, str | None]) -> list[ir.Stmt]:
    """Replace `unbroadcast(g, x)` / `broadcast_like(g, x)` by `g` where shapes are known equal,
    and `like_structure(g, x)` by `g` where `x` is known to be a number or an array."""
    return simplify_block(fn.body, classes(fn, start))


def simplify_block(body: list, table: dict) -> list:
    return [_simplify(stmt, table) for stmt in body]


def _simplify(stmt, table: dict):
    if type(stmt) is not Assign or type(stmt.value) is not Call:  # (the common case is a call: tested first)
        if isinstance(stmt, ir.COMPOUND):
            return ir.rebuild(stmt, lambda block: simplify_block(block, table))
        if not isinstance(stmt, ir.SIMPLE):
            raise ir.unknown(stmt, "shape simplification")
        return stmt
    call = stmt.value
    if call.op.value is runtime.like_structure and atom_class(call.args[1], table) not in (None, _BOTTOM) and (
            not isinstance(atom_class(call.args[1], table), Fields)):
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
