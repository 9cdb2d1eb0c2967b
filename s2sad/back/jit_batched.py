"""Products added up over a loop's trips made one product a chunk of trips, and products of each
trip's matrix by one matrix made one before the loop (the Numba backend).

An adjoint of a loop over matrices adds a product to a weight's gradient every trip:

    for t in range(99, -1, -1):
        ...
        t41 = h.T @ t34          # (32 x 16) @ (16 x 32): one small BLAS call a trip
        t42 = bwh + t41
        bwh = t42

A sum over trips of `x_t.T @ g_t` is one product of the trips' matrices stacked: the rows of
`x_0; x_1; ...` transposed, times the rows of `g_0; g_1; ...`. Each trip copies its `x` and `g`
into the next rows of two matrices made before the loop, `CHUNK` trips' worth, and every
`CHUNK` trips (and once after the loop, the rows no trip wrote since cleared to zeros)

    bwh = bwh + h_rows.T @ t34_rows      # (32 x 256) @ (256 x 32)

makes one BLAS call on matrices large enough to run near the machine's peak, where sixteen
small calls ran well below it (the RNN's gradient: 0.46x the hand-written NumPy gradient's time
before, 0.43x after). The same products of the same numbers, added in another order. The
rows take `CHUNK` trips, not all of them: memory stays small, and so do the arrays made and
freed on every call (arrays of all the trips, hundreds of KiB each, made the C library's malloc
hand memory back and fault it in again on every call in a fresh process: twice as slow).

Where each product's `x` is a trip's matrix of a 3-D array the loop does not change (`x =
xs[t]`, or a row kept by trip, `h = trip_value(h_trips, t)`, with `t` the counter of a loop
over every one of them), its rows are not copied at all: `g` goes into the rows of its trip's
slot (`t % CHUNK`), and at the end of each run of trips aligned on a multiple of `CHUNK` (down:
the first run the shorter; up: the last) `acc = acc + trip_rows(xs, low, count, g_rows).T @
first_rows(g_rows, count, k)` reads the run's matrices of `xs` where they are, one view of
`count * k` rows. Every run ends inside the loop, so nothing is left for after it (the RNN's
gradient 0.40x -> 0.37x, and less to compile).

Where: a loop over a `range` whose body is assignments only (no branch, no nested loop: every
trip reaches every statement, so `row` counts the trips), `p = a @ g` with `a = x.T` bound
earlier in the trip, then `q = acc + p` (or `p + acc`) and `acc = q`, with `p` and `q` read
nowhere else, `acc` read and bound nowhere else in the loop, and the shapes known: `x` and `g`
matrices of `k` rows, `acc` and `p` of `x`'s columns by `g`'s, `k * m * n` at most
`SMALL_PRODUCT` (a larger product already runs at BLAS's speed). A value two products read
(the RNN's `t34`) is kept once. The rows take `acc`'s dtype: `acc = acc + p` keeps its type in
compiled code, so `p`'s dtype is one `acc`'s promotes (and Numba's `@` is of floats only); a
product of float32 matrices into a float64 `acc` is then computed in float64.

`stack_products` does the same for products that do not add up: `p = xs[t] @ w` a trip, with
`t` the counter of a loop over every matrix of `xs` and neither `xs` nor `w` changed in the
loop (the RNN's `xs[t] @ wx`), is read from the product of a run of trips, made at the run's
first trip: `xs_w1 = trip_rows(xs, low, count, xs) @ w` (the run's matrices of `xs` as the
rows of one matrix, a view of a C-contiguous `xs`), `p = run_rows(xs_w1, slot, k)` (the trip's
rows of it, a view). A run at a time, not all trips' products before the loop: an array of
hundreds of KiB made and freed on every call is handed back to the system and faulted in
again by glibc's malloc in a process whose allocator is left as it is (the RNN's gradient took
0.54x the hand-written one there, 0.37x with runs).
"""

from __future__ import annotations

import builtins
import operator
from collections import Counter
from dataclasses import dataclass, field

from s2sad import runtime
from s2sad.back import jit_helpers
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Ref, Var
from s2sad.core.naming import Namer
from s2sad.core.syntax import operator_ref

SMALL_PRODUCT = 1 << 16
"""The most multiplications (`k * m * n`) of a trip's product that is batched."""
CHUNK = 16
"""Trips whose rows are added up by one product: the RNN's 16 x 32 matrices make products of
256 rows, near BLAS's peak, and the rows kept stay small (64 KiB an array)."""

_EMPTY = Ref(jit_helpers.fused_empty, ("fused_empty",))
_STORE = Ref(jit_helpers.store_rows, ("store_rows",))
_GETATTR = Ref(builtins.getattr, ("getattr",))
_CLEAR = Ref(jit_helpers.clear_rows, ("clear_rows",))
_TRIP_ROWS = Ref(jit_helpers.trip_rows, ("trip_rows",))
_FIRST_ROWS = Ref(jit_helpers.first_rows, ("first_rows",))
_MIN = Ref(builtins.min, ("min",))


@dataclass
class _Product:
    """`p = a @ g` (`a = x.T`), `q = acc + p`, `acc = q` at positions `at`, `add`, `bind`."""
    at: int
    add: int
    bind: int
    x: Var
    g: Var
    acc: Var
    shape: tuple[int, int, int]  # (k, m, n)
    transpose: int | None = None  # where `a = x.T` is, when nothing else reads `a`
    line: int = 0
    turned: int = -1  # where `a = x.T` is
    kept: list[Var] = field(default_factory=list)  # the rows of `x` and of `g`


@dataclass
class _Rows:
    """The arrays of rows one loop keeps: per (name, bindings before in the trip) its array."""
    names: Namer
    arrays: dict[tuple[str, int], Var] = field(default_factory=dict)
    heights: dict[str, int] = field(default_factory=dict)  # per array, its rows a trip


def batch_products(fn: ir.Function, table: dict) -> ir.Function:
    """`fn` with the products its loops add up made one product a `CHUNK` of trips; `table`:
    the shape classes of its names (given the new products' too)."""
    counts = _Counts(fn)
    if not counts.products:
        return fn
    names = Namer(counts.taken)
    body = _block(fn.body, counts, table, names)
    return ir.Function(fn.name, fn.params, body, fn.filename, fn.firstline, fn.lines, fn.temps | names.temps,
                       fn.defaults, fn.tape)


class _Counts:
    """How often each name is read and bound in the whole function; the ranges bound once."""

    def __init__(self, fn: ir.Function) -> None:
        self.reads: Counter = Counter()
        self.binds: Counter = Counter()
        self.ranges: set[str] = set()
        self.products = False
        self.values: dict[str, ir.Expr] = {}
        """What each name is bound to (its last binding; see `binds`)."""
        self.stored: Counter = Counter()
        """Per array of rows kept by trip, its bindings to itself by `store_trip`."""
        self.storage: dict[str, Call] = {}
        """Per array of rows kept by trip, the `trip_storage(trips, shape)` that made it."""
        for stmt in ir.walk(fn.body):
            self.reads.update(ir.reads(stmt))
            self.binds.update(ir.writes(stmt))
            value = stmt.value if type(stmt) is Assign else None
            if value is not None:
                self.values[stmt.target.name] = value
            if type(value) is Call and value.op.value is jit_helpers.store_trip and value.args[0] == stmt.target:
                self.stored[stmt.target.name] += 1
            elif type(value) is Call and value.op.value is jit_helpers.trip_storage:
                self.storage[stmt.target.name] = value
            if type(value) is Call and value.op.value is builtins.range:
                self.ranges.add(stmt.target.name)
            self.products = self.products or type(value) is Call and value.op.value is operator.matmul
        self.ranges = {name for name in self.ranges if self.binds[name] == 1}
        self.taken = set(fn.params) | set(fn.temps) | set(self.reads) | set(self.binds)


def _block(body: list[ir.Stmt], counts: _Counts, table: dict, names: Namer) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    for stmt in body:
        stmt = ir.rebuild(stmt, lambda block: _block(block, counts, table, names))
        found = _products(stmt, counts, table) if type(stmt) is ir.For else []
        chosen = _sources(stmt, found, counts, table) if found else None
        if chosen is not None:
            out += _by_trip(stmt, found, *chosen, table, names)
        else:
            out += _batched(stmt, found, table, names) if found else [stmt]
    return out


def _products(loop: ir.For, counts: _Counts, table: dict) -> list[_Product]:
    if not (type(loop.iter) is Var and loop.iter.name in counts.ranges
            and all(type(s) is Assign for s in loop.body)):
        return []
    found = []
    for at in range(len(loop.body)):
        product = _product(loop, at, counts, table)
        if product is not None:
            found.append(product)
    return found


def _product(loop: ir.For, at: int, counts: _Counts, table: dict) -> _Product | None:
    body = loop.body
    stmt = body[at]
    value = stmt.value
    if not (type(value) is Call and value.op.value is operator.matmul and not value.kwargs
            and all(type(a) is Var for a in value.args)):
        return None
    a, g = value.args
    p = stmt.target.name
    turned = _transposed(body, at, a)
    if turned is None or counts.binds[p] != 1 or counts.reads[p] != 1:
        return None
    x = body[turned].value.args[0]
    add = _reader(body, at, p)
    if add is None or not _adds(body[add].value, p):
        return None
    acc = next(arg for arg in body[add].value.args if arg != Var(p))
    q = body[add].target.name
    bind = _reader(body, add, q)
    if bind is None or counts.binds[q] != 1 or counts.reads[q] != 1 or body[bind].value != Var(q):
        return None
    if body[bind].target != acc or acc.name == loop.target.name or not _only_here(body, acc.name, add, bind):
        return None
    shape = _shape(table, x, g, acc, p)
    if shape is None or any(x.name in ir.writes(s) for s in body[turned + 1:at]):
        return None
    alone = counts.reads[a.name] == 1 and counts.binds[a.name] == 1
    return _Product(at, add, bind, x, g, acc, shape, turned if alone else None, body[bind].line, turned)


def _transposed(body: list[ir.Stmt], at: int, a: Var) -> int | None:
    """Where `a = x.T` is bound, before `at` in the trip and nowhere else in it."""
    where = [i for i, s in enumerate(body) if a.name in ir.writes(s)]
    if len(where) != 1 or where[0] >= at:
        return None
    value = body[where[0]].value
    if type(value) is Call and value.op.value is builtins.getattr and len(value.args) == 2 \
            and type(value.args[0]) is Var and value.args[1] == Const("T"):
        return where[0]
    return None


def _reader(body: list[ir.Stmt], after: int, name: str) -> int | None:
    return next((i for i in range(after + 1, len(body)) if name in ir.reads(body[i])), None)


def _adds(value: ir.Expr, p: str) -> bool:
    return (type(value) is Call and value.op.value is operator.add and not value.kwargs and len(value.args) == 2
            and all(type(a) is Var for a in value.args) and Var(p) in value.args and value.args[0] != value.args[1])


def _only_here(body: list[ir.Stmt], acc: str, add: int, bind: int) -> bool:
    """`acc` read in the trip only at `add` and bound or changed only at `bind`."""
    return all((acc not in ir.reads(s) or i == add) and (acc not in ir.writes(s) or i == bind)
               for i, s in enumerate(body))


def _shape(table: dict, x: Var, g: Var, acc: Var, p: str) -> tuple[int, int, int] | None:
    """(k, m, n): `x` k x m, `g` k x n, `acc` and `p` m x n; None unless so and small."""
    xs, gs, accs, ps = (table.get(name) for name in (x.name, g.name, acc.name, p))
    if not all(isinstance(s, tuple) and len(s) == 2 and all(type(d) is int for d in s) for s in (xs, gs, accs)):
        return None
    k, m, n = xs[0], xs[1], gs[1]
    if gs[0] != k or accs != (m, n) or ps != (m, n) or k * m * n > SMALL_PRODUCT:
        return None
    return k, m, n


def _batched(loop: ir.For, found: list[_Product], table: dict, names: Namer) -> list[ir.Stmt]:
    """The statements before the loop, the loop keeping rows and adding up every `CHUNK`
    trips, and the rows of the last trips added up after it."""
    rows = _Rows(names)
    row = Var(names.temp("batch_row"))
    before: list[ir.Stmt] = [Assign(row, Const(0), loop.line)]
    dropped = {i for f in found for i in (f.at, f.add, f.bind, f.transpose) if i is not None}
    stores: dict[int, list[ir.Stmt]] = {}
    for f in found:
        k, m, n = f.shape
        f.kept = [_kept(rows, loop.body, f.at, v, (k, width), f.acc, before, stores, row, loop.body[f.bind].line)
                  for v, width in ((f.x, m), (f.g, n))]
    body = []
    for i, stmt in enumerate(loop.body):
        body += stores.get(i, [])
        if i not in dropped:
            body.append(stmt)
    full = Var(names.temp("batch_full"))
    flush = [s for f in found for s in _added(f, f.kept, names, table)] + [Assign(row, Const(0), loop.line)]
    body += [Assign(row, Call(operator_ref(operator.add), (row, Const(1))), loop.line),
             Assign(full, Call(operator_ref(operator.eq), (row, Const(CHUNK))), loop.line),
             ir.If(full, flush, [], loop.line)]
    after = [Assign(array, Call(_CLEAR, (array, row, Const(rows.heights[array.name]))), loop.line)
             for array in rows.arrays.values()]
    after += [s for f in found for s in _added(f, f.kept, names, table)]
    return [*before, ir.For(loop.target, loop.iter, body, loop.line), *after]


def _kept(rows: _Rows, body: list[ir.Stmt], at: int, value: Var, shape: tuple[int, int], acc: Var,
          before: list[ir.Stmt], stores: dict[int, list[ir.Stmt]], row: Var, line: int) -> Var:
    """The matrix of `CHUNK * k` rows keeping `value` as it is at `at` in a trip, `k` rows a
    trip (made and stored once for the loop)."""
    key = (value.name, sum(value.name in ir.writes(s) for s in body[:at]))
    if key not in rows.arrays:
        array = Var(rows.names.temp(f"{value.name}_rows"))
        before.append(Assign(array, Call(_EMPTY, (Const((CHUNK * shape[0], shape[1])), acc)), line))
        stores.setdefault(at, []).append(Assign(array, Call(_STORE, (array, row, value)), line))
        rows.arrays[key] = array
        rows.heights[array.name] = shape[0]
    return rows.arrays[key]


def _added(f: _Product, kept: list[Var], names: Namer, table: dict) -> list[ir.Stmt]:
    """`acc = acc + x_rows.T @ g_rows`: the products of the trips since the last."""
    turned, total = Var(names.temp("batch_t")), Var(names.temp("batch_sum"))
    table[total.name] = f.shape[1:]
    return [Assign(turned, Call(_GETATTR, (kept[0], Const("T"))), f.line),
            Assign(total, Call(operator_ref(operator.matmul), (turned, kept[1])), f.line),
            Assign(f.acc, Call(operator_ref(operator.add), (f.acc, total)), f.line)]


# ------------------------------------------------------------------ rows read where they are


@dataclass(frozen=True)
class _Trips:
    """A loop over every trip of 0 .. `count` - 1, down (`range(count - 1, -1, -1)`) or up."""
    count: int
    down: bool


def _sources(loop: ir.For, found: list[_Product], counts: _Counts, table: dict) -> tuple[list[Var], _Trips] | None:
    """Per product, the 3-D array whose matrix of the trip its `x` is (`x = xs[t]`, `x =
    trip_value(h_trips, t)`, `t` the loop's counter), where every product's is and the loop runs
    over all of them: their rows are then read where they are, not copied. None otherwise."""
    trips = _all_trips(counts.values.get(loop.iter.name))
    if trips is None or any(loop.target.name in ir.writes(s) for s in ir.walk(loop.body)):
        return None
    written = set().union(*(ir.writes(s) for s in ir.walk(loop.body)))
    sources = [_source(loop, f, trips, written, counts, table) for f in found]
    return (sources, trips) if all(v is not None for v in sources) else None


def _all_trips(made: ir.Expr | None) -> _Trips | None:
    count = _trips(made) if type(made) is Call else None
    return None if count is None else _Trips(count, len(made.args) == 3)


def _source(loop: ir.For, f: _Product, trips: _Trips, written: set[str], counts: _Counts,
            table: dict) -> Var | None:
    where = [i for i, s in enumerate(loop.body) if f.x.name in ir.writes(s)]
    if len(where) != 1 or where[0] >= f.turned:
        return None  # bound once in the trip, before it is transposed
    value = loop.body[where[0]].value
    if not (type(value) is Call and value.op.value in (operator.getitem, runtime.trip_value) and not value.kwargs
            and len(value.args) == 2 and type(value.args[0]) is Var and value.args[1] == loop.target):
        return None
    xs = value.args[0]
    if xs.name in written or _matrices(xs.name, counts, table) != (trips.count, *f.shape[:2]):
        return None
    return xs


def _matrices(name: str, counts: _Counts, table: dict) -> tuple | None:
    """The shape of a 3-D array: by its class, or, for the rows kept by trip
    (`h_trips = trip_storage(trips, (16, 32))`, `trips = len(r)`, `r = range(100)`), by theirs."""
    cls = table.get(name)
    if isinstance(cls, tuple) and len(cls) == 3:
        return cls
    made = counts.storage.get(name) if counts.binds[name] == counts.stored[name] + 1 else None
    if not (made is not None and type(made.args[0]) is Var
            and type(made.args[1]) is Const and counts.binds[made.args[0].name] == 1):
        return None
    length = counts.values.get(made.args[0].name)
    if not (type(length) is Call and length.op.value is builtins.len and type(length.args[0]) is Var
            and counts.binds[length.args[0].name] == 1):
        return None
    trips = _all_trips(counts.values.get(length.args[0].name))
    return None if trips is None else (trips.count, *made.args[1].value)


def _by_trip(loop: ir.For, found: list[_Product], sources: list[Var], trips: _Trips, table: dict,
             names: Namer) -> list[ir.Stmt]:
    """The loop keeping each `g` in the rows of its trip's slot (`t % CHUNK`) and, once a run of
    `CHUNK` trips aligned on a multiple of it is in (the first run down, or the last up, shorter),
    adding up `acc = acc + xs_rows.T @ g_rows` with `xs_rows` the run's matrices of `xs` read
    where they are. Every run ends inside the loop: nothing is left for after it."""
    t = loop.target
    rows, slot = _Rows(names), Var(names.temp("batch_slot"))
    before: list[ir.Stmt] = []
    stores: dict[int, list[ir.Stmt]] = {}
    for f in found:
        k, _, n = f.shape
        f.kept = [_kept(rows, loop.body, f.at, f.g, (k, n), f.acc, before, stores, slot, loop.body[f.bind].line)]
    dropped = {i for f in found for i in (f.at, f.add, f.bind, f.transpose) if i is not None}
    body: list[ir.Stmt] = [Assign(slot, Call(operator_ref(operator.mod), (t, Const(CHUNK))), loop.line)]
    for i, stmt in enumerate(loop.body):
        body += stores.get(i, [])
        if i not in dropped:
            body.append(stmt)
    run = _Run(Var(names.temp("batch_low")), Var(names.temp("batch_count")), Var(names.temp("batch_full")))
    flush = run.bounds(t, slot, trips, names, loop.line)
    flush += [s for f, xs in zip(found, sources) for s in _added_rows(f, xs, run, names, table)]
    body += run.test(t, slot, trips, names, loop.line) + [ir.If(run.full, flush, [], loop.line)]
    return [*before, ir.For(t, loop.iter, body, loop.line)]


@dataclass(frozen=True)
class _Run:
    """The trips whose rows are added up: from `low`, `count` of them; `full` when a run ends."""
    low: Var
    count: Var
    full: Var

    def test(self, t: Var, slot: Var, trips: _Trips, names: Namer, line: int) -> list[ir.Stmt]:
        """`full`: down, at a multiple of `CHUNK`; up, just before one, or at the last trip."""
        if trips.down:
            return [Assign(self.full, Call(operator_ref(operator.eq), (slot, Const(0))), line)]
        edge, last = Var(names.temp("batch_edge")), Var(names.temp("batch_last"))
        return [Assign(edge, Call(operator_ref(operator.eq), (slot, Const(CHUNK - 1))), line),
                Assign(last, Call(operator_ref(operator.eq), (t, Const(trips.count - 1))), line),
                Assign(self.full, Call(operator_ref(operator.or_), (edge, last)), line)]

    def bounds(self, t: Var, slot: Var, trips: _Trips, names: Namer, line: int) -> list[ir.Stmt]:
        if trips.down:
            rest = Var(names.temp("batch_rest"))
            return [Assign(self.low, t, line),
                    Assign(rest, Call(operator_ref(operator.sub), (Const(trips.count), t)), line),
                    Assign(self.count, Call(_MIN, (rest, Const(CHUNK))), line)]
        return [Assign(self.low, Call(operator_ref(operator.sub), (t, slot)), line),
                Assign(self.count, Call(operator_ref(operator.add), (slot, Const(1))), line)]


def _added_rows(f: _Product, xs: Var, run: _Run, names: Namer, table: dict) -> list[ir.Stmt]:
    """`acc = acc + trip_rows(xs, low, count, g_rows).T @ first_rows(g_rows, count, k)` (the
    rows of `xs` of `g_rows`'s dtype, `acc`'s: see `_batched`)."""
    x_rows, g_part = Var(names.temp(f"{xs.name}_run")), Var(names.temp(f"{f.g.name}_run"))
    turned, total = Var(names.temp("batch_t")), Var(names.temp("batch_sum"))
    table[total.name] = f.shape[1:]
    return [Assign(x_rows, Call(_TRIP_ROWS, (xs, run.low, run.count, f.kept[0])), f.line),
            Assign(g_part, Call(_FIRST_ROWS, (f.kept[0], run.count, Const(f.shape[0]))), f.line),
            Assign(turned, Call(_GETATTR, (x_rows, Const("T"))), f.line),
            Assign(total, Call(operator_ref(operator.matmul), (turned, g_part)), f.line),
            Assign(f.acc, Call(operator_ref(operator.add), (f.acc, total)), f.line)]


# ------------------------------------------------------------------ products of a trip's matrix


_RUN_ROWS = Ref(jit_helpers.run_rows, ("run_rows",))
_GETITEM = Ref(operator.getitem, ("operator", "getitem"), operator)


def stack_products(fn: ir.Function, table: dict) -> ir.Function:
    """`fn` with each loop's `p = xs[t] @ w` (`t` the loop's counter, `xs` and `w` the same on
    every trip) read from one product a run of `CHUNK` trips (the RNN's `xs[t] @ wx` a step,
    100 small BLAS calls, become 7)."""
    counts = _Counts(fn)
    if not counts.products:
        return fn
    order = {s.sid: i for i, s in enumerate(ir.walk(fn.body))}
    bound = {name: order[s.sid] for s in ir.walk(fn.body) for name in ir.writes(s)}
    bound.update({p: -1 for p in fn.params})
    ranges = {s.target.name: s.value for s in ir.walk(fn.body) if type(s) is Assign
              and s.target.name in counts.ranges}
    names = Namer(counts.taken)

    def block(body: list[ir.Stmt]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for stmt in body:
            place = order[stmt.sid]  # (a rebuilt loop is a new statement)
            stmt = ir.rebuild(stmt, block)
            if type(stmt) is ir.For:
                out += _stacked(stmt, place, ranges, bound, table, names)
            else:
                out.append(stmt)
        return out

    body = block(fn.body)
    return ir.Function(fn.name, fn.params, body, fn.filename, fn.firstline, fn.lines, fn.temps | names.temps,
                       fn.defaults, fn.tape)


def _stacked(loop: ir.For, place: int, ranges: dict[str, Call], bound: dict[str, int], table: dict,
             names: Namer) -> list[ir.Stmt]:
    """`loop` reading its trips' products from one product a run of trips (`place`: where `loop`
    is in the function, depth first; `bound`: where each name is bound, -1 for a parameter)."""
    trips = _all_trips(ranges.get(loop.iter.name)) if type(loop.iter) is Var else None
    if trips is None or any(loop.target.name in ir.writes(s) for s in ir.walk(loop.body)):
        return [loop]
    written = set().union(*(ir.writes(s) for s in ir.walk(loop.body)))
    before: list[ir.Stmt] = []
    made: dict[tuple[str, str], Var] = {}
    body = list(loop.body)
    slot = Var(names.temp("stack_slot"))
    for j, stmt in enumerate(loop.body):
        found = _row_product(loop, j, trips.count, written, table)
        if found is None or not all(bound.get(v.name, place) < place for v in found[:2]):
            continue
        xs, w, (k, c) = found
        key = (xs.name, w.name)
        if key not in made:
            made[key] = Var(names.temp(f"{xs.name}_{w.name}"))
            before.append(Assign(made[key], Call(_EMPTY, (Const((CHUNK * k, c)), xs, w)), loop.line))
        body[j] = Assign(stmt.target, Call(_RUN_ROWS, (made[key], slot, Const(k))), stmt.line)
    if not made:
        return [loop]
    return [*before, ir.For(loop.target, loop.iter, _run_products(loop, slot, trips, made, names) + body, loop.line)]


def _run_products(loop: ir.For, slot: Var, trips: _Trips, made: dict[tuple[str, str], Var],
                  names: Namer) -> list[ir.Stmt]:
    """At the first trip of each run (runs aligned on multiples of `CHUNK`, as `_by_trip`'s,
    whose end tests, the other way round, are these start tests), the run's products."""
    t, line = loop.target, loop.line
    run = _Run(Var(names.temp("stack_low")), Var(names.temp("stack_count")), Var(names.temp("stack_start")))
    mirrored = _Trips(trips.count, not trips.down)
    products: list[ir.Stmt] = run.bounds(t, slot, mirrored, names, line)
    for (xs, w), product in made.items():
        rows = Var(names.temp(f"{xs}_run"))
        products += [Assign(rows, Call(_TRIP_ROWS, (Var(xs), run.low, run.count, Var(xs))), line),
                     Assign(product, Call(operator_ref(operator.matmul), (rows, Var(w))), line)]
    return [Assign(slot, Call(operator_ref(operator.mod), (t, Const(CHUNK))), line),
            *run.test(t, slot, mirrored, names, line), ir.If(run.full, products, [], line)]


def _trips(made: Call | None) -> int | None:
    """N, for a `range(N)` or `range(N - 1, -1, -1)` of constants: every trip of 0 .. N-1."""
    if made is None or made.kwargs or not all(type(a) is Const and type(a.value) is int for a in made.args):
        return None
    args = [a.value for a in made.args]
    if len(args) == 1 and args[0] >= 1:
        return args[0]
    if len(args) == 3 and args[1:] == [-1, -1] and args[0] >= 0:
        return args[0] + 1
    return None


def _row_product(loop: ir.For, j: int, trips: int, written: set[str],
                 table: dict) -> tuple[Var, Var, tuple[int, int]] | None:
    """(xs, w, the product's shape) where the trip's statement `j` is `p = a @ w`, `a = xs[t]`
    bound before it in the trip (and not changed in between), neither `xs`, `w` nor `t` changed
    in the loop, `xs` of `trips` matrices; None otherwise."""
    value = loop.body[j].value if type(loop.body[j]) is Assign else None
    if not (type(value) is Call and value.op.value is operator.matmul and not value.kwargs
            and len(value.args) == 2 and all(type(a) is Var for a in value.args)):
        return None
    a, w = value.args
    where = [i for i, s in enumerate(loop.body[:j]) if a.name in ir.writes(s)]
    if len(where) != 1 or any(a.name in ir.writes(s) for s in ir.walk(loop.body[where[0] + 1:j])):
        return None  # bound once before it in the trip, and not changed after (nor in a branch between)
    item = loop.body[where[0]].value if type(loop.body[where[0]]) is Assign else None
    if not (type(item) is Call and item.op.value is operator.getitem and len(item.args) == 2
            and type(item.args[0]) is Var and item.args[1] == loop.target):
        return None
    xs = item.args[0]
    shapes = table.get(xs.name), table.get(w.name)
    if written & {xs.name, w.name, loop.target.name} or not all(isinstance(s, tuple) for s in shapes):
        return None
    (n, k, m), (m2, c) = shapes if len(shapes[0]) == 3 and len(shapes[1]) == 2 else ((0, 0, 0), (0, 0))
    if n != trips or m != m2 or k < 1 or k * m * c > SMALL_PRODUCT:
        return None
    return xs, w, (k, c)
