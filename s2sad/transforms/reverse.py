"""Stage 4b, reverse mode: a primal sweep, then the adjoint sweep in reverse order.

The adjoint of statement k reads variables as they were right after k ran. So a statement that
overwrites a variable the adjoint sweep reads first saves the old value (in a local outside
loops, on a tape list inside them) and the adjoint sweep puts it back right after the adjoint
of that statement: this is the to-be-recorded analysis, and nothing else is saved. An in-place
write saves only the slice it overwrites; an append is undone by a pop. A branch replays its
decision from the test variable (saved like any other when a loop overwrites it); a `for` loop
replays its range backwards; a `while` loop counts its trips. The tape is a local list, so a
call is re-entrant and thread-safe, and it is emptied as the adjoint sweep runs.

Adjoints are assigned by their first contribution and accumulated after that; a zero adjoint
stays symbolic, and is made real (`zeros_like`) only where a loop carries it or branches meet.

Forms: `grad` (seed 1, return the gradients), `value_and_grad` (also the value) and `vjp`
(a generator: `bout = yield out`, then the adjoint sweep).
"""

from __future__ import annotations

import operator

from s2sad import runtime
from s2sad.analyses import shapes
from s2sad.analyses.activity import Activity
from s2sad.analyses.complexes import may_be_complex
from s2sad.analyses.recording import Recorder
from s2sad.core import ir
from s2sad.core.ir import Assign, Atom, Call, Const, Pack, Restore, Save, Var
from s2sad.core.modes import VALUE_AND_GRAD, VJP
from s2sad.core.naming import Namer, builtin_ref, numpy_ref, runtime_ref
from s2sad.core.syntax import operator_ref
from s2sad.transforms.adjoints import AdjointStatements, State
from s2sad.transforms.base import TransformContext
from s2sad.transforms.calls import ReverseCall, rewrite_for_reverse
from s2sad.transforms.control import branch
from s2sad.transforms.derivs import Context, container_names
from s2sad.transforms.recompute import recompute_numbers


class Reverse(AdjointStatements):
    def __init__(self, fn: ir.Function, activity: Activity, namer: Namer, wrt: list[str], single: bool,
                 containers: set[str], start: dict[str, str | None], structured: set[str] = frozenset(),
                 keep_arrays: bool = False) -> None:
        self.start = start
        self.keep_arrays = keep_arrays
        """Whether loops keep arrays of known shape by trip too (for the Numba backend)."""
        self.structured = structured
        """Names that may hold a list or dict (not an array written in place): an item write
        may replace a structure, whose adjoint slot is then a zero of that structure."""
        self.ctx = Context(fn, activity, namer, "b")
        self.wrt = wrt
        self.single = single
        self.state = State()
        self.containers = containers
        self.complexes = may_be_complex(fn)
        """Whether the function may compute complex values (`analyses.complexes`)."""
        self.recorder = Recorder(namer, set(fn.params), _maybe_dicts(fn))
        self.calls: dict[int, ReverseCall] = {}
        self.guards: list[Var] = []
        """The counter of each `try` block the sweep is in, innermost last."""
        self.zeroed: set[str] = set()
        """Names whose adjoint `zero_out` made a real zero of (see `predefine`)."""
        self.shape_of: dict[str, str] = {}
        """Variable -> the variable holding its shape (see `with_shapes`)."""

    # ------------------------------------------------------------ assembling one form

    def run(self, form: str, has_aux: bool = False) -> ir.Function:
        fn = self.ctx.fn
        *primal, ret = fn.body
        value, aux = ret.value, None
        if has_aux:
            value, aux = self.split_aux(value, primal, ret.line)
        primal = rewrite_for_reverse(primal, self.active, self.ctx.namer, self.calls, where=self.ctx.where)
        self.shape_of = {name: self.ctx.namer.fresh(f"{name}_shape") for name in sorted(_looped(primal))
                         if name in self.ctx.activity.active}
        primal = [Assign(Var(self.shape_of[p]), self.shape_call(p), fn.firstline)
                  for p in fn.params if p in self.shape_of] + self.with_shapes(primal)
        primal = self.recorder.primal(primal)
        adjoint: list = []
        out = self.output(value, adjoint, ret.line)
        # the function's value and aux, kept before the adjoint sweep restores anything
        written = ir.written_into(primal)
        self.value = self.kept(out, written, adjoint, ret.line)
        if aux is not None:
            aux = self.kept(aux, written, adjoint, ret.line)
        if form == VALUE_AND_GRAD:
            self.value = self.temp(Pack((self.value, aux)) if aux is not None else self.value, adjoint, ret.line)
        items = value.items if isinstance(value, Pack) else None
        adjoint += self.seed(form, out, items, ret.line)
        adjoint += self.block(primal)
        grads = self.grads(adjoint)
        result = self.result(form, out, grads, aux, adjoint)
        adjoint = self.cleanup(primal, adjoint + [ir.Return(result)])
        kept: set[str] = set()
        if any(isinstance(s, Save) and s.in_loop for s in ir.walk(primal)):
            numbers, arrays = self.numbers_and_arrays(primal, adjoint)
            primal, adjoint = recompute_numbers(primal, adjoint, numbers, arrays)
            kept = numbers | (arrays if self.keep_arrays else set())
        body = self.recorder.finish(primal, adjoint, kept)
        body = self.predefine(primal, body)
        return ir.Function(f"{fn.name}_{form}", list(fn.params), body, fn.filename, fn.firstline, fn.lines,
                           set(fn.temps), dict(fn.defaults), self.recorder.tape)

    def predefine(self, primal: list, body: list) -> list:
        """`name = None` first for each name whose adjoint is made a real zero (`zeros_like(name)`)
        but which the primal sweep may leave unassigned (it is assigned only in a branch or a
        loop): on a path where it never got a value its adjoint is never read, but is made, and
        `zeros_like(None)` is None where `zeros_like(name)` would raise UnboundLocalError."""
        always = set(self.ctx.fn.params) | {s.target.name for s in strip(primal) if isinstance(s, Assign)}
        for stmt in body:
            if not (isinstance(stmt, Assign) and isinstance(stmt.value, Const) and stmt.value.value is None):
                break
            always.add(stmt.target.name)  # the recorder's own `name = None` before loops
        return [Assign(Var(n), Const(None), 0) for n in sorted(self.zeroed - always)] + body

    def split_aux(self, value: Atom | Pack, primal: list, line: int) -> tuple[Atom, Atom]:
        """`has_aux`: the function returns `(output, aux)`; only the output is differentiated."""
        if not isinstance(value, Pack) or len(value.items) != 2:
            raise TypeError("has_aux=True needs the function to return a pair (output, aux)")
        return value.items

    def kept(self, atom: Atom, written: set[str], stmts: list, line: int) -> Atom:
        """A returned value as it is now: a copy where the adjoint sweep may write into it (an
        array written in place, whose slices the sweep restores)."""
        if isinstance(atom, Var) and atom.name in written:
            return self.temp(Call(runtime_ref("copy_value"), (atom,)), stmts, line)
        return atom

    def result(self, form: str, out: Atom, grads: Atom, aux: Atom | None, stmts: list) -> Pack | Atom:
        if form == VALUE_AND_GRAD:
            return Pack((self.value, grads))
        return grads if aux is None else Pack((grads, aux))

    def output(self, value: Atom | Pack, stmts: list, line: int) -> Atom:
        if isinstance(value, Pack):
            var = Var(self.ctx.namer.temp())
            stmts.append(Assign(var, value, line))
            return var
        return value

    def seed(self, form: str, out: Atom, items: tuple[Atom, ...] | None, line: int) -> list[ir.Stmt]:
        """The output's cotangent: 1 for `grad`, received from the caller for `vjp`."""
        bout = Var(self.ctx.namer.fresh("bout"))
        self.ctx.namer.temps.add(bout.name)  # a name the adjoint reads once: `bx = seed(out)` where it can
        helper = "receive" if form == VJP else "seed"
        stmts: list[ir.Stmt] = [Assign(bout, Call(runtime_ref(helper), (out,)), line)]
        if items is None:
            self.accumulate(out, bout, stmts, line)
            return stmts
        for i, item in enumerate(items):
            if self.ctx.activity.is_active(item):
                part = self.temp(Call(self.getitem(), (bout, Const(i))), stmts, line)
                self.accumulate(item, part, stmts, line)
        return stmts

    def grads(self, stmts: list) -> Atom:
        found = []
        for name in self.wrt:
            adj = self.state.adj.get(name)
            if adj is None:
                adj = self.temp(Call(runtime_ref("zeros_like"), (Var(name),)), stmts, 0)
                found.append(adj)
                continue
            if self.complexes:  # a real argument's gradient is the real part of a complex cotangent
                adj = self.temp(Call(runtime_ref("real_like"), (adj, Var(name))), stmts, 0)
            if name in self.containers:  # may be a list or tuple: its gradient is one too (its
                # leaves' real parts; where it is known to be an array, `real_like` stays)
                adj = self.temp(Call(runtime_ref("like_structure"), (adj, Var(name))), stmts, 0)
            found.append(adj)
        if self.single:
            return found[0]
        return self.temp(Pack(tuple(found)), stmts, 0)

    def cleanup(self, primal: list, adjoint: list) -> list:
        """Before deciding what to record: drop shape helpers the shapes make unnecessary and
        branches left empty, and read recorded shapes where only a shape is needed, so that the
        adjoint reads (and the tape holds) no more than it must."""
        whole = ir.Function("_", self.ctx.fn.params, strip(primal) + strip(adjoint))
        simplified = shapes.simplify_block(adjoint, shapes.classes(whole, self.start))
        return drop_empty(shapes.shapes_only(simplified, self.shape_of))

    def numbers_and_arrays(self, primal: list, adjoint: list) -> tuple[set[str], set[str]]:
        """The names that hold numbers (not arrays or containers) wherever they are bound, and
        those that hold arrays of one known shape (what the Numba backend keeps by trip too,
        in an array of its own: see `back.jit`)."""
        whole = ir.Function("_", self.ctx.fn.params, strip(primal) + strip(adjoint))
        table = shapes.classes(whole, self.start)
        numbers = {name for name, cls in table.items() if cls == shapes.SCALAR}
        return numbers, {name for name, cls in table.items() if isinstance(cls, tuple)}

    def with_shapes(self, body: list) -> list:
        """After each assignment to an active variable that loops assign, `s = np.shape(t)`:
        where the adjoint needs only t's shape (to undo broadcasting), the tape keeps s, not t.
        The ones nothing reads are removed as dead code."""
        out: list = []
        for stmt in body:
            if isinstance(stmt, ir.COMPOUND):
                stmt = ir.rebuild(stmt, self.with_shapes)
            out.append(stmt)
            for name in sorted(ir.writes(stmt) & self.shape_of.keys()):
                out.append(Assign(Var(self.shape_of[name]), self.shape_call(name), stmt.line))
        return out

    def shape_call(self, name: str) -> Call:
        """`np.shape(name)`; for a name that may hold a container, `shape_of(name)`, which does
        not fail on a list of arrays of different shapes (only a number's or array's shape is read)."""
        if name in self.containers:
            return Call(runtime_ref("shape_of"), (Var(name),))
        return Call(numpy_ref("shape"), (Var(name),))

    # ------------------------------------------------------------ the adjoint sweep

    def block(self, primal: list) -> list:
        """The adjoint of a primal block (with its save markers), in reverse order; in a `try`
        block, piece by piece as far as the block got (`guarded`)."""
        if self.guards:
            pieces = _segments(primal, self.guards[-1])
            if pieces:
                return self.guarded(pieces, self.guards[-1])
        out: list = []
        for stmt in reversed(primal):
            out += self.stmt(stmt)
        return out

    def stmt(self, stmt) -> list:
        if isinstance(stmt, Save):
            return [Restore(stmt, stmt.line)] + self.zero_restored_item(stmt)
        if isinstance(stmt, ir.If):
            return branch(self, stmt)
        if isinstance(stmt, (ir.For, ir.While)):
            return self.loop(stmt)
        if isinstance(stmt, ir.Guard):
            self.guards.append(stmt.counter)
            try:
                return self.block(stmt.body)
            finally:
                self.guards.pop()
        if isinstance(stmt, Assign):
            return self.assign(stmt)
        raise ir.unknown(stmt, "the reverse transform")

    def guarded(self, pieces: list[tuple[int, list]], counter: Var) -> list:
        """A `try` block's adjoint: each counted piece's adjoint runs where the block got that far
        (`counter >= k`; see `front.lower_stmts._count`), last piece first, one branch each (the
        tests are monotonic: a block that got past piece k got past every earlier one), so a
        block that stopped early is undone from where it stopped. Each test reads the counter as
        the block left it (nothing in the block saves it)."""
        out: list = []
        for k, piece in reversed(pieces):
            line = piece[-1].line
            test = self.temp(Call(operator_ref(operator.ge), (counter, Const(k))), out, line)
            start = self.state.copy()
            body: list = []
            for stmt in reversed(piece):  # (the branches of an `if` in it are cut again, by `block`)
                body += self.stmt(stmt)
            ran = self.state
            self.state = ran.join(start)
            body += self.reconcile(ran, line)
            out.append(ir.If(test, body, self.reconcile(start, line), line))
        return out

    def reconcile(self, branch: State, line: int) -> list:
        """At the end of a branch or loop body, make real the adjoints the joined state has."""
        return [self.zero_out(name, line, None) for name in sorted(self.state.live() - branch.live())]

    def loop(self, stmt: ir.For | ir.While) -> list:
        """The body's adjoint, generated until the adjoint state at its start and end agree."""
        before: list = []
        start = self.state.copy()
        tried: set[str] = set()
        while True:
            self.state = start.copy()
            self.state.mutated = set()
            body = self.block(stmt.body)
            end = self.state
            carried = sorted(end.live() - start.live())
            to_own = sorted((end.mutated & start.live()) - start.owned - tried)
            lost = start.owned - end.owned
            if not carried and not to_own and not lost:
                break
            start.owned -= lost
            for name in carried:
                before.append(self.zero_out(name, stmt.line, start))
            for name in to_own:  # mutated in the body: one private copy before the loop, not one per trip
                before += self.private_copy(name, stmt.line, start)
                tried.add(name)
        start.mutated |= end.mutated
        self.state = start
        body += self.reconcile(end, stmt.line)
        return before + self.replay(stmt, body)

    def replay(self, stmt: ir.For | ir.While, body: list) -> list:
        """Run the adjoint body as many times as the primal loop ran, in reverse."""
        line = stmt.line
        if isinstance(stmt, ir.For):
            backwards = Var(self.ctx.namer.temp())
            head = Assign(backwards, Call(builtin_ref("reversed"), (stmt.iter,)), line)
            return [head, ir.For(stmt.target, backwards, body, line)]
        trips = Var(self.recorder.counters[stmt.sid])
        span = Var(self.ctx.namer.temp())
        head = Assign(span, Call(builtin_ref("range"), (trips,)), line)
        return [head, ir.For(Var(self.ctx.namer.fresh("_")), span, body, line)]


def _segments(body: list, counter: Var) -> list[tuple[int, list]]:
    """A counted block cut into pieces, each with the count that says it ran: a plain statement
    with the `counter = k` after it, an `if` with the `counter = k` before it. Empty where the
    block has no counts of its own (a loop's body)."""
    pieces: list[tuple[int, list]] = []
    current: list = []
    key = None
    for i, stmt in enumerate(body):
        current.append(stmt)
        count = _count_of(stmt, counter)
        if count is not None and count > 0:
            key = count
            if not (i + 1 < len(body) and isinstance(body[i + 1], ir.If)):
                pieces.append((key, current))
                current, key = [], None
        elif isinstance(stmt, ir.If) and key is not None:
            pieces.append((key, current))
            current, key = [], None
    if current and pieces:
        pieces[-1][1].extend(current)
    return pieces


def _count_of(stmt, counter: Var) -> int | None:
    if isinstance(stmt, Assign) and stmt.target == counter and isinstance(stmt.value, Const):
        return stmt.value.value
    return None


def _looped(body: list, in_loop: bool = False) -> set[str]:
    """Names assigned inside loops."""
    names: set[str] = set()
    for stmt in body:
        if in_loop:
            names |= ir.writes(stmt)
        for child in ir.children(stmt):
            names |= _looped(child, in_loop or isinstance(stmt, (ir.For, ir.While)))
    return names


def strip(body: list) -> list[ir.Stmt]:
    """The statements without save and restore markers."""
    out = []
    for stmt in body:
        if not isinstance(stmt, (Save, Restore)):
            out.append(ir.rebuild(stmt, strip))
    return out


def drop_empty(body: list) -> list:
    """Remove `if` statements whose branches hold nothing (their test need not be recorded)."""
    out = []
    for stmt in body:
        stmt = ir.rebuild(stmt, drop_empty)
        if not (isinstance(stmt, ir.If) and not stmt.body and not stmt.orelse):
            out.append(stmt)
    return out


def transform(primal: ir.Function, ctx: TransformContext) -> ir.Function:
    """Reverse mode of `primal` (see `transforms.base`) in the request's form: `grad`,
    `value_and_grad` or `vjp` (which the pipeline then splits into its two sweeps)."""
    request = ctx.request
    start = shapes.initial(primal.params, request.kinds, request.shapes)
    structured = container_names(primal, request.kinds, writes_keep_kind=True)
    reverse = Reverse(primal, ctx.activity, ctx.namer, list(request.wrt), request.single, set(ctx.containers), start,
                      structured, keep_arrays=request.backend == "numba")
    return reverse.run(request.mode, request.has_aux)


def _maybe_dicts(fn: ir.Function) -> set[str]:
    """Names that may hold a dict: bound by a dict display, or parameters (a container argument)."""
    displays = {s.target.name for s in ir.walk(fn.body) if isinstance(s, ir.Assign) and isinstance(s.value, ir.Call)
                and s.value.op.value is runtime.make_dict}
    return displays | set(fn.params)
