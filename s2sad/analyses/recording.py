"""Analysis, to be recorded: what the primal sweep saves for the adjoint sweep.

`Recorder.primal` puts an `ir.Save` before each statement that overwrites something (a
variable, an array slice, a list's length); the reverse transform answers each with an
`ir.Restore` right after that statement's adjoint. `Recorder.finish` then keeps a pair
only when the adjoint sweep reads the overwritten value, and writes it as plain statements:
a local slot outside loops, `tape.append` / `tape.pop()` inside them. Saves are known by
their `sid`.
"""

from __future__ import annotations

import operator

from s2sad import runtime
from s2sad.analyses.trip_slots import Slot, trip_slots
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Restore, Save, Var
from s2sad.core.naming import Namer, builtin_ref, runtime_ref
from s2sad.core.syntax import operator_ref
from s2sad.front.lower_expr import getattr_ref, getitem_ref


class Recorder:
    def __init__(self, namer: Namer, params: set[str], dicts: set[str] = frozenset()) -> None:
        self.namer = namer
        self.params = params
        self.dicts = dicts
        """Names that may hold a dict: an item write may add a key, so its save reads
        `item_or_missing` (restoring MISSING removes the key)."""
        self.tape = namer.fresh("tape")
        self.counters: dict[int, str] = {}
        """Trip-count variable of each `While` (keyed by the `sid` of the primal statement)."""
        self.slots: dict[int, str] = {}
        """Where each kept save outside loops keeps its value (by the save's `sid`)."""
        self.surely: set[str] = set(params)
        """Names bound on every path to the statement being marked."""
        self.trips: dict[int, Slot] = {}
        """Saves of numbers kept by trip of a loop over `range(n)` (by `sid`), see `trip_slots`."""
        self.trip_lists: dict[int, list[str]] = {}
        """The lists to make before each such loop (by the loop's `sid`)."""
        self.counters_unsaved: set[str] = set()
        """The counters of the guarded blocks being marked: the adjoint reads a counter only as
        the whole block left it, which the save before the block's `counter = 0` keeps."""

    # ------------------------------------------------------------ the primal sweep, marked

    def primal(self, body: list[ir.Stmt]) -> list[ir.Stmt]:
        return self.block(body, set(self.params), in_loop=False)

    def block(self, body: list[ir.Stmt], defined: set[str], in_loop: bool) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for stmt in body:
            out += self.stmt(stmt, defined, in_loop)
        return out

    def stmt(self, stmt: ir.Stmt, defined: set[str], in_loop: bool) -> list:
        if isinstance(stmt, Assign):  # the common case first
            return self.assign(stmt, defined, in_loop)
        before = set(self.surely)
        if isinstance(stmt, ir.If):
            body = self.block(stmt.body, defined, in_loop)
            after_body, self.surely = self.surely, set(before)
            orelse = self.block(stmt.orelse, defined, in_loop)
            self.surely &= after_body
            return [ir.If(stmt.test, body, orelse, stmt.line)]
        if isinstance(stmt, ir.For):
            saves = self.saves_for(stmt.target.name, "value", None, defined, in_loop, stmt.line)
            defined.add(stmt.target.name)
            loop = ir.For(stmt.target, stmt.iter, self.block(stmt.body, defined, True), stmt.line)
            self.surely = before  # the loop may run no trip
            return saves + [loop]
        if isinstance(stmt, ir.While):
            return self.while_loop(stmt, defined, in_loop)
        if isinstance(stmt, ir.Guard):
            self.counters_unsaved.add(stmt.counter.name)
            body = self.block(stmt.body, defined, in_loop)
            self.counters_unsaved.discard(stmt.counter.name)
            self.surely = before  # the block may stop before any of its statements
            return [ir.Guard(stmt.manager, stmt.counter, body, stmt.line)]
        if isinstance(stmt, ir.Return):
            return [stmt]
        raise ir.unknown(stmt, "recording")

    def assign(self, stmt: Assign, defined: set[str], in_loop: bool) -> list:
        value, name = stmt.value, stmt.target.name
        saves: list = []
        if ir.is_inplace(value):
            container = value.args[0].name
            kind = {runtime.setitem: "slice", runtime.list_append: "append", runtime.list_pop: "pop",
                    runtime.tape_pop: "pop", runtime.set_attribute: "attribute"}
            saves = [Save(container, kind.get(value.op.value, "whole"), in_loop, stmt.line, stmt)]
            if value.op.value in runtime.POPS:  # restored after the re-append, which reads the popped value
                saves = self.saves_for(name, "value", stmt, defined, in_loop, stmt.line) + saves
        elif name not in self.counters_unsaved:
            saves = self.saves_for(name, "value", stmt, defined, in_loop, stmt.line)
        defined.add(name)
        self.surely.add(name)
        return saves + [stmt]

    def saves_for(self, name: str, kind: str, stmt, defined: set[str], in_loop: bool, line: int) -> list:
        if name in defined or in_loop:
            return [Save(name, kind, in_loop, line, stmt, maybe_unbound=name not in self.surely)]
        return []

    def while_loop(self, stmt: ir.While, defined: set[str], in_loop: bool) -> list:
        """Count the trips: `n = 0` before the loop, `n = n + 1` at the end of its body."""
        trips = self.namer.fresh("trips")
        init = self.assign(Assign(Var(trips), Const(0), stmt.line), defined, in_loop)
        test_body = self.block(stmt.test_body, defined, True)
        after_test = set(self.surely)  # the test runs at least once, the body maybe never
        body = self.block(stmt.body, defined, True)
        self.surely = after_test
        step = Var(self.namer.temp())
        body += [Assign(step, Call(_add(), (Var(trips), Const(1))), stmt.line), Assign(Var(trips), step, stmt.line)]
        loop = ir.While(test_body, stmt.test, body, stmt.line)
        self.counters[loop.sid] = trips
        return init + [loop]

    # ------------------------------------------------------------ keeping what is read

    def finish(self, primal: list, adjoint: list, numbers: set[str] = frozenset()) -> list[ir.Stmt]:
        """Real statements for the saves the adjoint needs; the rest of the markers dropped.
        `numbers`: names that hold numbers (with the Numba backend, also arrays of known shape),
        which a loop over `range(n)` keeps by trip."""
        needed = needed_saves(adjoint)
        self.trips, self.trip_lists = trip_slots(primal, needed, numbers, self.namer)
        for save in _saves(primal):
            if save.sid in needed and not save.in_loop:
                self.slots[save.sid] = self.namer.fresh(f"{save.name}_saved")
        prologue = self.prologue(primal, needed)
        return prologue + self.write_primal(primal, needed) + self.write_adjoint(adjoint, needed)

    def prologue(self, primal: list, needed: set[int]) -> list[ir.Stmt]:
        saves = [s for s in _saves(primal) if s.sid in needed]
        out: list[ir.Stmt] = []
        if any(s.in_loop and s.sid not in self.trips for s in saves):
            out.append(Assign(Var(self.tape), Call(runtime_ref("make_list"), ()), 0))
        for name in sorted({s.name for s in saves if (s.in_loop or s.maybe_unbound) and s.kind == "value"}
                           - self.params):
            out.append(Assign(Var(name), Const(None), 0))
        return out

    def write_primal(self, body: list, needed: set[int]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for stmt in body:
            if isinstance(stmt, Save):
                out += self.save(stmt) if stmt.sid in needed else []
            else:
                out += self.make_trip_lists(stmt)
                out.append(ir.rebuild(stmt, lambda b: self.write_primal(b, needed)))
        return out

    def make_trip_lists(self, stmt: ir.Stmt) -> list[ir.Stmt]:
        """Before a loop over `range(n)` whose trips keep numbers by trip: `v = [None] * len(t)`."""
        names = self.trip_lists.get(stmt.sid, []) if isinstance(stmt, ir.For) else []
        if not names:
            return []
        trips, line = Var(self.namer.fresh("trips")), stmt.line
        out: list[ir.Stmt] = [Assign(trips, Call(builtin_ref("len"), (stmt.iter,)), line)]
        for name in names:
            empty = Var(self.namer.temp())
            out += [Assign(empty, Call(runtime_ref("make_list"), (Const(None),)), line),
                    Assign(Var(name), Call(operator_ref(operator.mul), (empty, trips)), line)]
        return out

    def write_adjoint(self, body: list, needed: set[int]) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for stmt in body:
            if isinstance(stmt, Restore):
                out += self.restore(stmt.save) if stmt.save.sid in needed else []
            else:
                out.append(ir.rebuild(stmt, lambda b: self.write_adjoint(b, needed)))
        return out

    def save(self, save: Save) -> list[ir.Stmt]:
        line, name = save.line, Var(save.name)
        if save.kind in ("append", "pop"):
            return []
        stmts: list[ir.Stmt] = []
        value: ir.Atom = name
        if save.kind in ("slice", "attribute"):
            read = _getitem() if save.kind == "slice" else _getattr()
            if save.kind == "slice" and save.name in self.dicts:
                read = runtime_ref("item_or_missing")
            part = Var(self.namer.temp())
            stmts.append(Assign(part, Call(read, (name, save.stmt.value.args[1])), line))
            value = self.copy(part, stmts, line)
        elif save.kind == "whole":
            value = self.copy(name, stmts, line)
        return stmts + [self.store(save, value)]

    def copy(self, atom: Var, stmts: list[ir.Stmt], line: int) -> Var:
        var = Var(self.namer.temp())
        stmts.append(Assign(var, Call(runtime_ref("copy_value"), (atom,)), line))
        return var

    def store(self, save: Save, value: ir.Atom) -> Assign:
        slot = self.trips.get(save.sid)
        if slot is not None:
            values = Var(slot.values)
            return Assign(values, Call(runtime_ref("setitem"), (values, slot.index, value)), save.line)
        if save.in_loop:
            return Assign(Var(self.tape), Call(runtime_ref("list_append"), (Var(self.tape), value)), save.line)
        return Assign(Var(self.slots[save.sid]), value, save.line)

    def load(self, save: Save) -> ir.Expr:
        slot = self.trips.get(save.sid)
        if slot is not None:
            return Call(runtime_ref("trip_value"), (Var(slot.values), slot.index))
        if not save.in_loop:
            return Var(self.slots[save.sid])
        return Call(runtime_ref("tape_pop"), (Var(self.tape),))

    def restore(self, save: Save) -> list[ir.Stmt]:
        line, name = save.line, Var(save.name)
        stmts: list[ir.Stmt] = []
        if save.kind == "append":
            return [Assign(Var(self.namer.temp()), Call(runtime_ref("list_pop"), (name,)), line)]
        if save.kind == "pop":
            item = save.stmt.target
            return [Assign(name, Call(runtime_ref("list_append"), (name, item)), line)]
        value = self.load(save)
        if save.kind in ("slice", "attribute"):
            index = save.stmt.value.args[1]
            if not isinstance(value, Var):
                value = Var(self.namer.temp())
                stmts.append(Assign(value, self.load(save), line))
            writer = "setitem" if save.kind == "slice" else "set_attribute"
            return stmts + [Assign(name, Call(runtime_ref(writer), (name, index, value)), line)]
        return stmts + [Assign(name, value, line)]


def _add() -> ir.Ref:
    return operator_ref(operator.add)


def _getattr() -> ir.Ref:
    return getattr_ref()


def _getitem() -> ir.Ref:
    return getitem_ref()


def _saves(body: list) -> list[Save]:
    return [s for s in ir.walk(body) if isinstance(s, Save)]


def needed_saves(adjoint: list) -> set[int]:
    """The saves (by `sid`) whose restore the adjoint sweep needs. A kept restore reads too (the
    index of the slice it writes back, the item it re-appends), so the values it reads must be
    restored in their turn: grown until nothing more is needed."""
    needed: set[int] = set()
    while True:
        more = {r.save.sid for r in _read_later(adjoint, set(), needed)}
        if more <= needed:
            return needed
        needed |= more


def _read_later(body: list, later: set[str], needed: set[int]) -> list[Restore]:
    """The restores whose variable the adjoint sweep reads after them, before a later restore
    of the whole variable in the same block binds it again: later in the block, in any later
    trip of an enclosing loop, or after the enclosing statements. One pass from the block's
    end, carrying what is read after each statement (linear in the block's length)."""
    found: list[Restore] = []
    after = set(later)
    for stmt in reversed(body):
        if isinstance(stmt, Restore) and stmt.save.name in after:
            found.append(stmt)
            if stmt.save.kind in ("value", "whole"):
                after.discard(stmt.save.name)  # it binds the whole name: what came before is not read
        children = ir.children(stmt)
        if children:
            inner = after | _reads(children[-1], needed) if isinstance(stmt, (ir.For, ir.While)) else after
            for child in children:
                found += _read_later(child, inner, needed)
            after |= _reads([stmt], needed)
        else:
            after |= _stmt_reads(stmt, needed)
    return found


def _reads(body: list, needed: set[int]) -> set[str]:
    names: set[str] = set()
    for stmt in ir.walk(body):
        names |= _stmt_reads(stmt, needed)
    return names


def _stmt_reads(stmt: ir.Stmt, needed: set[int]) -> frozenset[str]:
    """What one statement reads itself (a restore: what it needs besides, where it is kept)."""
    if isinstance(stmt, Restore):
        return ir.restore_reads(stmt.save) if stmt.save.sid in needed else frozenset()
    return frozenset() if isinstance(stmt, Save) else ir.reads(stmt)
