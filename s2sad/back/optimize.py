"""Stage 5, optimize: constant folding, copy propagation and dead-code elimination on the IR,
repeated until the IR stops changing.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
from collections import Counter

import numpy as np

from s2sad import runtime
from s2sad.analyses import shapes
from s2sad.analyses.complexes import may_be_complex
from s2sad.back.kept_constants import drop_kept_constants, drop_unread_kept
from s2sad.back.specialise import as_methods, specialise
from s2sad.back.tuples import read_items
from s2sad.core import ir, printer
from s2sad.core.ir import Assign, Call, Const, Pack, Var
from s2sad.core.syntax import BINARY, UNARY, operator_ref
from s2sad.rules.registry import facts, lookup


def optimize(fn: ir.Function, start: dict[str, str | None] | None = None, namer=None,
             numbers: frozenset[str] = frozenset()) -> ir.Function:
    """`start`, the shape class of each parameter (see `shapes`), lets shape-only helpers go;
    `namer` (for temporaries) lets a helper with constant arguments become plain arithmetic;
    `numbers`, the parameters that are Python floats or ints (see `analyses.numbers`)."""
    before = None
    complexes = may_be_complex(fn)  # optimizing makes no complex values
    while not printer.same_block(before, fn.body):
        before = fn.body
        fn = ir.Function(fn.name, fn.params, fn.body, fn.filename, fn.firstline, fn.lines, fn.temps, fn.defaults)
        table = shapes.classes(fn, start or {})
        fn.body = shapes.simplify_block(fn.body, table)
        fn.body = specialise(fn, table, namer, complexes, numbers)
        if namer is not None:
            fn.body = drop_kept_constants(fn.body, namer.given)
        fn.body = drop_unread_kept(fn.body)
        fn.body = _propagate_copies(fn)
        written = ir.written_into(fn.body)  # (folding writes into nothing new: see `_fold`)
        fn.body = read_items(_fold(fn.body, namer, written))
        temps = namer.temps if namer is not None else set()
        fn.body = _common_subexpressions(fn.body, written)
        counts = _counts(fn.body)  # kept up to date by the passes that read it
        fn.body = _fold_scalings(fn.body, counts, namer)
        fn.body = _forward_copies(fn.body, counts)
        fn.body = _merge_renames(fn.body, counts, temps)
        fn.body = _eliminate_dead(fn.body, counts[1], table=table)
    if any(isinstance(c, tuple) for c in table.values()):  # the last round changed nothing: `table` holds
        fn.body = as_methods(fn.body, table)
    fn.body = sink_restores(fn.body)
    return fn


def sink_restores(body: list[ir.Stmt]) -> list[ir.Stmt]:
    """In each block, move a restore of a loop's kept value (`t6 = t6_trips[_]`, see
    `analyses.trip_slots`) down past the statements that neither read nor write its name nor
    touch its list or trip: the products that read the current value then stand together and
    fold into one expression (`bs = bs * t6 * (1.0 - t4 * t4) * ...`). Exact: the statements
    passed do not see the name."""
    out: list[ir.Stmt] = []
    pending: list[Assign] = []
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            stmt = ir.rebuild(stmt, sink_restores)
        blocked = [r for r in pending if not _passes(stmt, r)]
        if blocked:
            out += blocked
            pending = [r for r in pending if r not in blocked]
        if _is_restore(stmt):
            pending.append(stmt)
        else:
            out.append(stmt)
    return out + pending


def _is_restore(stmt: ir.Stmt) -> bool:
    return (isinstance(stmt, Assign) and isinstance(stmt.value, Call) and stmt.value.op.value is runtime.trip_value
            and all(isinstance(a, Var) for a in stmt.value.args))


def _passes(stmt: ir.Stmt, restore: Assign) -> bool:
    """Whether `restore` may move below `stmt`: a plain assignment that neither reads nor
    writes the restored name, does not bind its list or its trip, and writes into nothing in
    place."""
    if not isinstance(stmt, Assign) or ir.is_inplace(stmt.value):
        return False
    name = restore.target.name
    return name not in ir.reads(stmt) and stmt.target.name not in {name} | {a.name for a in restore.value.args}


def _fold(body: list[ir.Stmt], namer, written: set[str]) -> list[ir.Stmt]:
    """`written`: names whose object is written in place. A fold that would bind one of them to
    an existing value (`y = x * 1.0` to `y = x`) is not made: the write would reach `x`."""
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, Assign) and isinstance(stmt.value, Call):
            value = _fold_call(stmt.value)
            if isinstance(value, Call) and value.op.value is runtime.power_term and namer is not None:
                value = _expand_power(value, out, namer, stmt.line)
            if isinstance(value, Var) and stmt.target.name in written:
                value = stmt.value
            if value is not stmt.value:
                stmt = Assign(stmt.target, value, stmt.line)
        else:
            stmt = ir.rebuild(stmt, lambda block: _fold(block, namer, written))
        out.append(stmt)
    return out


def _finite_nonzero(atom: object) -> bool:
    return _number(atom) and atom.value != 0 and abs(atom.value) != float("inf")


def _fold_helper(call: Call) -> ir.Expr:
    """Strong-zero helpers with a constant, finite, nonzero second argument are plain arithmetic."""
    op = call.op.value
    if op is runtime.strong_div and len(call.args) == 2 and _finite_nonzero(call.args[1]):
        return Call(operator_ref(operator.truediv), call.args)
    if op is runtime.strong_mul and len(call.args) == 2 and _finite_nonzero(call.args[1]):
        return Call(operator_ref(operator.mul), call.args)
    if op is runtime.log_base and call.args == (Const(None),):
        return Const(1.0)
    if op is runtime.inverse_axes and call.args == (Const(None),):
        return Const(None)
    return call


def _expand_power(call: Call, out: list[ir.Stmt], namer, line: int) -> ir.Expr:
    """`power_term(d, x, n)` with a constant integer n >= 1 is `d * (n * x ** (n - 1))`."""
    d, x, n = call.args
    if not (isinstance(n, Const) and type(n.value) is int and n.value >= 1):
        return call
    if n.value == 1:
        return d
    base: ir.Atom = x
    if n.value > 2:
        base = Var(namer.temp())
        out.append(Assign(base, Call(operator_ref(operator.pow), (x, Const(n.value - 1))), line))
    scaled = Var(namer.temp())
    out.append(Assign(scaled, Call(operator_ref(operator.mul), (Const(n.value), base)), line))
    return Call(operator_ref(operator.mul), (d, scaled))


def _number(atom: object) -> bool:
    return isinstance(atom, Const) and type(atom.value) in (int, float)


def _fold_call(call: Call) -> ir.Expr:
    op = call.op.value
    if op in (runtime.strong_div, runtime.strong_mul, runtime.log_base, runtime.inverse_axes):
        return _fold_helper(call)
    if not facts(op).foldable or call.kwargs:
        return call
    if all(_number(a) for a in call.args):
        try:
            return Const(op(*(a.value for a in call.args)))
        except (ArithmeticError, ValueError):
            return call
    if len(call.args) == 2:
        x, y = call.args
        one = lambda a: _number(a) and a.value == 1  # noqa: E731
        if op is operator.pow and one(y) or op in (operator.mul, operator.truediv) and one(y):
            return x
        if op is operator.sub and _number(y) and y.value == 0:  # x - 0 is x, -0.0 included
            return x
        if op is operator.mul and one(x):
            return y
    return call


def _counts(body: list[ir.Stmt]) -> tuple[Counter, Counter]:
    """How many statements bind each name, and how many read it."""
    stmts = list(ir.walk(body))
    reads = Counter(itertools.chain.from_iterable(map(ir.reads, stmts)))
    writes = Counter([s.target.name for s in stmts if type(s) is Assign or type(s) is ir.For])
    return writes, reads


def _propagate_copies(fn: ir.Function) -> list[ir.Stmt]:
    """`a = b` with `a` and `b` each written once: read `b` wherever `a` was read."""
    if any(ir.children(s) for s in fn.body):
        return fn.body  # straight-line code only, for now
    writes = Counter([s.target.name for s in fn.body if type(s) is Assign or type(s) is ir.For])
    params = set(fn.params)
    subst: dict[str, ir.Atom] = {}
    body = []
    for stmt in fn.body:
        if isinstance(stmt, Assign) and isinstance(stmt.value, (Var, Const)) and stmt.target.name not in params:
            src = stmt.value
            once = isinstance(src, Const) or writes[src.name] + (src.name in params) <= 1
            if writes[stmt.target.name] == 1 and once:
                subst[stmt.target.name] = _apply(src, subst)
                continue
        body.append(_substitute(stmt, subst))
    return body


def _forward_copies(body: list[ir.Stmt], counts: tuple[Counter, Counter]) -> list[ir.Stmt]:
    """`a = b`, where `a` is next bound again later in the same block, or where `a` is bound
    only here and read nowhere but in the statements after it: those statements read `b` for
    `a`, and the copy goes. Only where `b` is not bound in between and no nested block stands
    in between (renaming chains such as `bt20 = bloss; bloss = bt20` that `_propagate_copies`
    leaves, as their names are bound more than once, or sit in loops). Linear in the block's
    length, give or take a log: where names are read and bound is indexed once."""
    body = [ir.rebuild(stmt, lambda block: _forward_copies(block, counts))
            if isinstance(stmt, ir.COMPOUND) and not isinstance(stmt, ir.Guard) else stmt
            for stmt in body]  # in a `try` block any statement may stop it: each binding is seen by the handler
    index = _Positions(body)
    writes, reads = counts
    dropped: set[int] = set()
    for i, stmt in enumerate(body):
        if not (isinstance(stmt, Assign) and isinstance(stmt.value, (Var, Const))):
            continue
        a, src = stmt.target.name, stmt.value
        end = _copy_reach(index, i, a, src, writes, reads)
        if end is None:
            continue
        for j in index.reads_between(a, i, end):
            body[j] = _substitute(body[j], {a: src})
            index.moved(a, src, j)
            reads[a] -= 1
            if isinstance(src, Var):
                reads[src.name] += 1
        dropped.add(i)
    for i in dropped:  # for the passes after this one (this one's choices were made without it)
        writes[body[i].target.name] -= 1
        if isinstance(body[i].value, Var):
            reads[body[i].value.name] -= 1
    return [s for i, s in enumerate(body) if i not in dropped]


class _Positions:
    """For one block: where each name a copy binds or copies is read and bound (as a target),
    and where the statements stand that copies are not read through (anything but assignments
    and returns). `_forward_copies` asks about no other name."""

    def __init__(self, body: list[ir.Stmt]) -> None:
        self.read_at: dict[str, list[int]] = {}
        self.bound_at: dict[str, list[int]] = {}
        self.barriers: list[int] = []
        self.length = len(body)
        self.body = body
        copied = _copied_names(body)
        for i, stmt in enumerate(body):
            for name in ir.reads(stmt):
                if name in copied:
                    self.read_at.setdefault(name, []).append(i)
            if isinstance(stmt, (Assign, ir.For)):
                if stmt.target.name in copied:
                    self.bound_at.setdefault(stmt.target.name, []).append(i)
            if not isinstance(stmt, (Assign, ir.Return)):
                self.barriers.append(i)

    def next_bound(self, name: str | None, i: int) -> int | None:
        return first_after(self.bound_at.get(name, []), i) if name is not None else None

    def next_barrier(self, i: int) -> int | None:
        return first_after(self.barriers, i)

    def reads_between(self, name: str, i: int, end: int) -> list[int]:
        positions = self.read_at.get(name, [])
        return positions[bisect.bisect_right(positions, i):bisect.bisect_left(positions, end)]

    def moved(self, name: str, src: ir.Atom, j: int) -> None:
        """Statement `j` reads `src` now where it read `name`."""
        self.read_at[name].remove(j)
        if isinstance(src, Var):
            bisect.insort(self.read_at.setdefault(src.name, []), j)


def _copied_names(body: list[ir.Stmt]) -> set[str]:
    """The names the copies `a = b` and `a = constant` of a block bind, and those they copy."""
    names = set()
    for stmt in body:
        if type(stmt) is Assign and type(stmt.value) in (Var, Const):
            names.add(stmt.target.name)
            if type(stmt.value) is Var:
                names.add(stmt.value.name)
    return names


def _writes_into(stmt: ir.Stmt, name: str) -> bool:
    value = stmt.value if isinstance(stmt, Assign) else None
    return isinstance(value, Call) and ir.is_inplace(value) and value.args[:1] == (Var(name),)


def first_after(positions: list[int], i: int) -> int | None:
    """The first of the sorted `positions` after `i`, or None."""
    k = bisect.bisect_right(positions, i)
    return positions[k] if k < len(positions) else None


def _copy_reach(index: _Positions, i: int, a: str, src: ir.Atom, writes: Counter, reads: Counter) -> int | None:
    """How far the copy `a = src` at `i` can be read through: the end (exclusive) of the
    statements that read `src` for `a`, or None where some read of `a` would be missed."""
    source = src.name if isinstance(src, Var) else None
    barrier, rebound, moved = index.next_barrier(i), index.next_bound(a, i), index.next_bound(source, i)
    if rebound is not None and (barrier is None or rebound < barrier):
        if _writes_into(index.body[rebound], a):
            return None  # `a = setitem(a, ...)` stays about `a`: emitted as `a[...] = ...`
        return rebound + 1 if moved is None or moved > rebound else None
    stops = [p for p in (barrier, moved) if p is not None]
    end = min(stops) if stops else index.length
    if end == moved and a in index.read_at and end in index.read_at[a]:
        return None  # the statement that binds `src` reads `a` too
    whole = writes[a] == 1 and reads[a] == len(index.reads_between(a, i, end))
    return end if whole else None


def _merge_renames(body: list[ir.Stmt], counts: tuple[Counter, Counter], temps: set[str]) -> list[ir.Stmt]:
    """`t = expr` directly followed by `a = t`, for a temporary `t` bound and read only there:
    `a = expr` (an in-place write keeps its own statement)."""
    writes, reads = counts
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            stmt = ir.rebuild(stmt, lambda block: _merge_renames(block, counts, temps))
        last = out[-1] if out else None
        if (isinstance(stmt, Assign) and isinstance(stmt.value, Var) and isinstance(last, Assign)
                and last.target == stmt.value and last.target.name in temps
                and writes[last.target.name] == 1 and reads[last.target.name] == 1
                and stmt.target.name not in ir.reads(last)  # the IR binds no name it reads
                and not (isinstance(last.value, Call) and (ir.is_inplace(last.value) or _effectful(last.value)))):
            out[-1] = Assign(stmt.target, last.value, last.line)
            writes[last.target.name] -= 1
            reads[last.target.name] -= 1
            continue
        back = _round_trip(stmt, out, counts, temps)
        if back is not None:  # `t = a; ...; a = t`: a keeps its value, both go
            del out[back]
            writes[stmt.value.name] -= 1
            reads[stmt.value.name] -= 1
            reads[stmt.target.name] -= 1
            continue
        out.append(stmt)
    return out


def _round_trip(stmt: ir.Stmt, out: list[ir.Stmt], counts: tuple[Counter, Counter], temps: set[str]) -> int | None:
    """Where `a = t` (`stmt`) undoes `t = a` among the last few statements of `out`: `t` a
    temporary bound and read only there, nothing in between binding `a` or `t`."""
    if not (isinstance(stmt, Assign) and isinstance(stmt.value, Var) and stmt.value.name in temps):
        return None
    writes, reads = counts
    a, t = stmt.target.name, stmt.value.name
    if writes[t] != 1 or reads[t] != 1:
        return None
    for j in range(len(out) - 1, max(len(out) - 9, -1), -1):
        earlier = out[j]
        if isinstance(earlier, Assign) and earlier.target.name == t:
            return j if earlier.value == Var(a) else None
        if not isinstance(earlier, Assign) or {a, t} & ir.writes(earlier):
            return None
    return None


def _apply(atom: ir.Atom, subst: dict[str, ir.Atom]) -> ir.Atom:
    return subst.get(atom.name, atom) if isinstance(atom, Var) else atom


def _substitute(stmt: ir.Stmt, subst: dict[str, ir.Atom]) -> ir.Stmt:
    if not subst or subst.keys().isdisjoint(ir.reads(stmt)):
        return stmt  # (the same statement: it reads none of the names)
    if isinstance(stmt, Assign):
        return Assign(stmt.target, _subst_expr(stmt.value, subst), stmt.line)
    if isinstance(stmt, ir.Return):
        return ir.Return(_subst_expr(stmt.value, subst), stmt.line)
    return stmt


def _subst_expr(expr, subst):
    if isinstance(expr, Call):
        return Call(expr.op, tuple(_apply(a, subst) for a in expr.args),
                    tuple((k, _apply(a, subst)) for k, a in expr.kwargs))
    if isinstance(expr, Pack):
        return Pack(tuple(_apply(a, subst) for a in expr.items))
    return _apply(expr, subst)


def _eliminate_dead(body: list[ir.Stmt], reads: Counter | None = None, table: dict | None = None,
                    kept: bool = False, numpy_made: _Lazy | None = None) -> list[ir.Stmt]:
    """Drop assignments whose value nothing reads, in nested blocks too (pure operations only),
    and copies of a name into itself.
    What may raise stays: a program that raises still raises (a `math` function, `/`, `//`, `%`
    and `**` on Python numbers), and so does all a `with` block runs (`np.errstate(all="raise")`
    makes any NumPy operation one that may raise) and all a `try` block runs (an error it
    catches, such as arrays of shapes that do not broadcast, decides what runs next).
    `table`: shape classes.
    The block is scanned from its end, and a dropped statement's reads are uncounted, so a chain
    of dead statements goes in one scan."""
    if reads is None:
        _, reads = _counts(body)
    if numpy_made is None:
        numpy_made = _Lazy(lambda: _numpy_values(body, table or {}))
    out = []
    for stmt, inside in reversed(list(zip(body, _inside_with(body, kept)))):
        if isinstance(stmt, Assign) and type(stmt.value) is Var and stmt.value.name == stmt.target.name:
            reads[stmt.target.name] -= 1  # `a = a`: nothing to do
            continue
        if (isinstance(stmt, Assign) and reads[stmt.target.name] == 0 and not _effectful(stmt.value)
                and not inside and not _may_raise(stmt.value, table or {}, numpy_made)):
            for name in ir.reads(stmt):
                reads[name] -= 1
            continue
        if isinstance(stmt, ir.COMPOUND):
            kept_inside = inside or isinstance(stmt, ir.Guard)  # a `try` block: an error any statement raises is caught
            stmt = ir.rebuild(stmt, lambda block, kept_inside=kept_inside: _eliminate_dead(
                block, reads, table, kept_inside, numpy_made))
        out.append(stmt)
    out.reverse()
    return out


class _Lazy:
    """A value computed when first asked for (`get`)."""

    def __init__(self, make) -> None:
        self._make, self._value = make, None

    def get(self):
        if self._make is not None:
            self._value, self._make = self._make(), None
        return self._value


def _numpy_values(body: list[ir.Stmt], table: dict) -> set[str]:
    """Names that hold NumPy values (scalars or arrays) wherever they are bound: each binding a
    ufunc, a NumPy reduction or a matrix product, or an operator with such an operand. Their
    arithmetic returns inf or nan where Python numbers' raises. A statement is looked at again
    only when one of its operands becomes known (linear in the number of reads)."""
    assigns = [s for s in ir.walk(body) if isinstance(s, Assign)]
    unsure = Counter(s.target.name for s in assigns)
    unsure.update(s.target.name for s in ir.walk(body) if isinstance(s, ir.For))  # never known
    readers: dict[str, list[Assign]] = {}
    for stmt in assigns:
        for name in ir.reads(stmt):
            readers.setdefault(name, []).append(stmt)
    known: set[str] = set()
    settled: set[int] = set()
    work = list(assigns)
    while work:
        stmt = work.pop()
        if stmt.sid in settled or not _numpy_result(stmt.value, known, table):
            continue
        settled.add(stmt.sid)
        unsure[stmt.target.name] -= 1
        if unsure[stmt.target.name] == 0:
            known.add(stmt.target.name)
            work += readers.get(stmt.target.name, ())
    return known


def _numpy_result(value: ir.Expr, known: set[str], table: dict) -> bool:
    if not isinstance(value, Call) or value.kwargs and not isinstance(value.op.value, np.ufunc):
        return False
    op = value.op.value
    if isinstance(op, np.ufunc) or op in shapes.REDUCTIONS or op in (np.matmul, np.dot):
        return True
    return id(op) in _OPERATORS and any(
        isinstance(a, Var) and (a.name in known or _an_array(shapes.atom_class(a, table))) for a in value.args)


def _inside_with(body: list[ir.Stmt], kept: bool) -> list[bool]:
    """For each statement of `body`, whether it runs inside a `with` block (or `kept`)."""
    flags = []
    depth = 0
    for stmt in body:
        op = stmt.value.op.value if isinstance(stmt, Assign) and isinstance(stmt.value, Call) else None
        depth += (op is runtime.enter_context) - (op is runtime.exit_context and depth > 0)
        flags.append(kept or depth > 0 or op is runtime.exit_context)
    return flags


_RAISING_OPERATORS = (operator.truediv, operator.floordiv, operator.mod, operator.pow)


def _may_raise(value: ir.Expr, table: dict, numpy_made: _Lazy | None = None) -> bool:
    """Whether computing `value` may raise on some numbers: a `math` function, or an operator
    that raises on Python numbers (ZeroDivisionError, OverflowError) with no operand known to
    be an array or a NumPy value (`numpy_made`; NumPy's operators return inf or nan)."""
    if not isinstance(value, Call):
        return False
    op = value.op.value
    if getattr(op, "__module__", None) == "math":
        return True
    if any(op is o for o in _RAISING_OPERATORS):
        if any(_an_array(shapes.atom_class(a, table)) for a in value.args):
            return False
        if op is operator.pow or numpy_made is None:  # NumPy integers to negative powers raise
            return True
        made = numpy_made.get()
        return not any(isinstance(a, Var) and a.name in made for a in value.args)
    return False


def _an_array(cls: object) -> bool:
    return isinstance(cls, tuple) or isinstance(cls, str) and cls != shapes.SCALAR


def _common_subexpressions(body: list[ir.Stmt], written: set[str]) -> list[ir.Stmt]:
    """The second `u = x * y` of a block, with `x` and `y` not bound again in between and no
    write of any kind in between (a view written through another name would change the
    value), is `u = t`, `t` the first one's name: each sum of products is computed once
    (`bx + bs * s + bs * s`). Only operators, ufuncs and `math` functions, and only where
    neither name's object is written in place (`written`): the two names hold one object.
    A copy `u = t` (made here or found) lets a later `0.5 * u` match `0.5 * t`."""
    out: list[ir.Stmt] = []
    seen: dict[tuple, str] = {}
    by_name: dict[str, set[tuple]] = {}  # the entries that a new binding of a name ends
    alias = _Aliases()
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            seen.clear()
            by_name.clear()
            alias.clear()
            out.append(ir.rebuild(stmt, lambda block: _common_subexpressions(block, written)))
            continue
        key = _pure_key(stmt, alias.names)
        if key is not None and stmt.target.name in written:
            key = None
        known = seen.get(key) if key is not None else None
        if known is not None:
            stmt = Assign(stmt.target, Var(known), stmt.line)
        bound = ir.writes(stmt)
        if key is None and isinstance(stmt, Assign) and isinstance(stmt.value, Call) and _effectful(stmt.value):
            seen.clear()
            by_name.clear()
        for name in bound:
            for k in by_name.pop(name, ()):
                seen.pop(k, None)
            alias.rebound(name)
        if key is not None and (known is None or key not in seen) and bound.isdisjoint(key[1]):
            seen[key] = stmt.target.name
            for name in (stmt.target.name, *key[1]):
                by_name.setdefault(name, set()).add(key)
        copy = isinstance(stmt, Assign) and isinstance(stmt.value, Var)
        if copy and not {stmt.target.name, stmt.value.name} & written:
            alias.copy(stmt.target.name, stmt.value.name)
        out.append(stmt)
    return out


class _Aliases:
    """Names bound by a copy `u = t` to the name they copy, while neither is bound again."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self._copies: dict[str, set[str]] = {}  # t -> the names u copying it

    def copy(self, target: str, source: str) -> None:
        if target == source:
            return
        source = self.names.get(source, source)
        self.names[target] = source
        self._copies.setdefault(source, set()).add(target)

    def rebound(self, name: str) -> None:
        self.names.pop(name, None)
        for target in self._copies.pop(name, ()):
            if self.names.get(target) == name:
                del self.names[target]

    def clear(self) -> None:
        self.names.clear()
        self._copies.clear()


def _fold_scalings(body: list[ir.Stmt], counts: tuple[Counter, Counter], namer=None) -> list[ir.Stmt]:
    """`u = 2 * v` (or `u = -v`) read once, by `w = 100.0 * u` or `w = -u`: `w = 200.0 * v`,
    `w = -2 * v`; by `w = u * z` with `z = -y` read once too: `p = v * y; w = p * -2`. Only
    where it is exact: one of the two numbers a small power of two (scaling by it rounds
    nothing), or a negation."""
    writes, reads = counts
    scaled: dict[str, tuple[float, ir.Atom]] = {}
    scaling_of: dict[str, set[str]] = {}  # v -> the names u scaled from it
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            scaled.clear()
            scaling_of.clear()
            out.append(ir.rebuild(stmt, lambda block: _fold_scalings(block, counts, namer)))
            continue
        rescaled = _rescaled(stmt, scaled, namer)
        if rescaled is not stmt:
            reads.subtract(ir.reads(stmt))
            for new in rescaled[:-1]:
                writes[new.target.name] += 1
                reads[new.target.name] += 1
            for new in rescaled:
                reads.update(ir.reads(new))
            out += rescaled[:-1]
            stmt = rescaled[-1]
        for name in ir.writes(stmt):
            scaled.pop(name, None)
            for k in scaling_of.pop(name, ()):
                scaled.pop(k, None)
        factor = _scaling(stmt)
        if factor is not None and writes[stmt.target.name] == 1 and reads[stmt.target.name] == 1:
            scaled[stmt.target.name] = factor
            scaling_of.setdefault(factor[1].name, set()).add(stmt.target.name)
        out.append(stmt)
    return out


def _scaling(stmt: ir.Stmt) -> tuple[float, ir.Atom] | None:
    """`(c, v)` for `u = c * v` or `u = v * c` with a number `c` (not a bool) and a name `v`;
    `(-1, v)` for `u = -v`."""
    value = stmt.value if isinstance(stmt, Assign) else None
    if not isinstance(value, Call) or value.kwargs:
        return None
    if value.op.value is operator.neg and len(value.args) == 1 and isinstance(value.args[0], Var):
        return -1, value.args[0]
    if not (value.op.value is operator.mul and len(value.args) == 2):
        return None
    a, b = value.args
    if _number(a) and isinstance(b, Var):
        return a.value, b
    if _number(b) and isinstance(a, Var):
        return b.value, a
    return None


def _rescaled(stmt: ir.Stmt, scaled: dict[str, tuple[float, ir.Atom]], namer=None) -> ir.Stmt | list[ir.Stmt]:
    """`stmt` with the scalings it reads folded in: the statement, or a list of the
    statements that replace it."""
    value = stmt.value if isinstance(stmt, Assign) else None
    if isinstance(value, Call) and value.op.value is np.sum and namer is not None:
        return _negated_sum(stmt, scaled, namer)
    if not isinstance(value, Call) or value.kwargs:
        return stmt
    op = value.op.value
    if op is not operator.neg and op is not operator.mul:
        return stmt
    mul = operator_ref(operator.mul)
    if op is operator.neg and len(value.args) == 1 and isinstance(value.args[0], Var) and value.args[0].name in scaled:
        c, v = scaled[value.args[0].name]
        return [Assign(stmt.target, Call(mul, (Const(-c), v)), stmt.line)]
    factor = _scaling(stmt)
    if op is operator.mul and factor is not None and factor[1].name in scaled:
        c1, (c2, v) = factor[0], scaled[factor[1].name]
        if _power_of_two(c1) or _power_of_two(c2):
            return [Assign(stmt.target, Call(mul, (Const(c1 * c2), v)), stmt.line)]
    if op is operator.mul and namer is not None and len(value.args) == 2 and all(
            isinstance(a, Var) and a.name in scaled and _power_of_two(scaled[a.name][0]) for a in value.args):
        (c1, v1), (c2, v2) = (scaled[a.name] for a in value.args)
        product = Var(namer.temp())
        return [Assign(product, Call(mul, (v1, v2)), stmt.line),
                Assign(stmt.target, Call(mul, (product, Const(c1 * c2))), stmt.line)]
    return stmt


def _negated_sum(stmt: Assign, scaled: dict[str, tuple[float, ir.Atom]], namer) -> ir.Stmt | list[ir.Stmt]:
    """`w = np.sum(u, ...)` of `u = -v` read once: `s = np.sum(v, ...); w = -s`, one negation of
    the sum instead of one per element (exact: the sum of the negated numbers is the negated sum,
    added in the same order)."""
    value = stmt.value
    u = value.args[0] if value.args else None
    if not (isinstance(u, Var) and u.name in scaled and scaled[u.name][0] == -1
            and {k for k, _ in value.kwargs} <= {"axis", "keepdims"}):
        return stmt
    total = Var(namer.temp())
    return [Assign(total, Call(value.op, (scaled[u.name][1], *value.args[1:]), value.kwargs), stmt.line),
            Assign(stmt.target, Call(operator_ref(operator.neg), (total,)), stmt.line)]


def _power_of_two(c: float) -> bool:
    """±2**k for a small k: multiplying by it is exact (no overflow or underflow for k <= 8)."""
    mantissa, exponent = math.frexp(abs(c))
    return mantissa == 0.5 and -7 <= exponent <= 9


_OPERATORS = frozenset(id(f) for f in (*BINARY.values(), *UNARY.values()))
_COMMUTATIVE = frozenset(map(id, (np.add, np.multiply)))
_COMMUTATIVE_WITH_NUMBERS = frozenset(map(id, (operator.add, operator.mul)))
"""`+` and `*` commute where one operand is a number (not for two lists, or np.matrix products)."""


def _pure_key(stmt: ir.Stmt, alias: dict[str, str] | None = None) -> tuple | None:
    """What identifies the value of `stmt` when it is a pure operation on atoms: the op and
    the names (through `alias`, the name each copy copies) and constants it reads (None
    otherwise)."""
    value = stmt.value if type(stmt) is Assign else None
    if type(value) is not Call or value.kwargs:
        return None
    op = value.op.value
    if not (id(op) in _OPERATORS or isinstance(op, np.ufunc) or getattr(op, "__module__", None) == "math"):
        return None
    names, parts = [], []
    for atom in value.args:
        if type(atom) is Var:
            name = alias.get(atom.name, atom.name) if alias else atom.name
            names.append(name)
            parts.append(("var", name))
        elif type(atom) is Const and type(atom.value) in (int, float, bool):
            parts.append(("const", type(atom.value), atom.value))
        else:
            return None
    if id(op) in _COMMUTATIVE or id(op) in _COMMUTATIVE_WITH_NUMBERS and any(p[0] == "const" for p in parts):
        names, parts = sorted(names), sorted(parts, key=repr)  # a * b is b * a, exactly
    return (id(op), tuple(names), tuple(parts))


def _effectful(value: ir.Expr) -> bool:
    """Calls that must run even when their result is unused: checks, I/O, in-place writes, calls
    of user functions and of anything without a rule (which may have effects of their own)."""
    if not isinstance(value, Call):
        return False
    op = value.op.value
    return facts(op).effects or ir.is_inplace(value) or lookup(op) is None
