"""Reverse mode: numbers recomputed in the adjoint sweep instead of recorded.

In a loop such as `s = s * 0.99 + math.sin(s) * x`, the adjoint sweep reads `sin(s)` of each
trip. Recorded, the tape holds it beside `s` itself, which the sweep restores anyway: twice
the memory of a hand-written gradient, which keeps `s` and calls `math.sin(s)` again on the
way back. Here a number `t = f(a, ...)` made in a loop by a cheap pure operation (an operator,
a `math` function or a ufunc) is not recorded when the adjoint sweep can compute it again
before its first read: at that point of each trip every `a` must hold the value it had where
`t` was made, which holds once the sweep has restored `a` from every later write in the trip
(the restores it keeps anyway: no value is recorded that was not before). The recomputation
gives the same number (the same operation on the same numbers), so the derivative is unchanged.

The same holds for an item of an array nothing writes into (`x = xs[t]`, a step's input in a loop
over steps): the sweep reads it again by the same index instead of keeping every step's item (in
the Numba backend, a copy of each in storage of its own).

It works on the marked IR (`ir.Save` / `ir.Restore`, see `s2sad.analyses.recording`), before
`Recorder.finish` decides what the tape keeps.
"""

from __future__ import annotations

import operator
from collections import Counter

import numpy as np

from s2sad.analyses.recording import needed_saves
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Restore, Save, Var
from s2sad.core.syntax import BINARY, UNARY
from s2sad.rules.registry import DECLARED, facts, lookup

_OPERATORS = frozenset(id(f) for f in (*BINARY.values(), *UNARY.values()))


def recompute_numbers(primal: list, adjoint: list, numbers: set[str],
                      arrays: set[str] = frozenset()) -> tuple[list, list]:
    """`(primal, adjoint)` with the saves of the numbers (names in `numbers`) and of the items
    that are arrays (names in `arrays`) that the adjoint sweep can compute again dropped, and
    the computation put where the sweep first reads them."""
    state = _State(adjoint, numbers, arrays, Counter(s.target.name for s in ir.walk(primal)
                                               if isinstance(s, (Assign, ir.For))), _unwritten(primal, adjoint))
    adjoint = state.block(adjoint, in_loop=False)
    if not state.dropped:
        return primal, adjoint
    return _without_saves(primal, state.dropped), adjoint


class _State:
    def __init__(self, adjoint: list, numbers: set[str], arrays: set[str], bound: Counter, unwritten) -> None:
        self.needed = needed_saves(adjoint)
        self.numbers = numbers
        self.arrays = arrays
        self.unwritten = unwritten
        """Whether an array is never written into (see `_unwritten`)."""
        self.bound = bound
        self.read = Counter(n for s in ir.walk(adjoint) for n in ir.reads(s))
        self.written = Counter(n for s in ir.walk(adjoint) for n in ir.writes(s))
        self.dropped: set[int] = set()
        """The saves (by `sid`) no longer kept."""
        self.recomputed: set[str] = set()

    def block(self, body: list, in_loop: bool) -> list:
        body = [self.nested(s) for s in body]
        if not in_loop:
            return body
        for restore in [s for s in body if isinstance(s, Restore)]:
            body = self.recompute(body, restore)
        return body

    def nested(self, stmt: ir.Stmt) -> ir.Stmt:
        loop = isinstance(stmt, (ir.For, ir.While))
        return ir.rebuild(stmt, lambda block: self.block(block, loop))

    def recompute(self, body: list, restore: Restore) -> list:
        """`body` (a loop's adjoint trip) with `restore`'s value computed again instead, where that
        is possible."""
        made = self.candidate(restore.save)
        if made is None:
            return body
        r = next(i for i, s in enumerate(body) if s is restore)
        name = made.target.name
        uses = [i for i in range(r) if name in _reads_in(body[i])]
        if len(uses) == 0 or sum(len(_names_read(body[i], name)) for i in uses) != self.read[name]:
            return body  # read elsewhere too (after the restore, or after the loop)
        at = self.place(body, r, made)
        if at is None or at > uses[0] or name not in self.numbers and self.restores_the_array(body, made):
            return body
        self.dropped.add(restore.save.sid)
        self.recomputed.add(name)
        return body[:at] + [Assign(Var(name), made.value, made.line)] + [s for s in body[at:] if s is not restore]

    def candidate(self, save: Save) -> Assign | None:
        """The statement that made the saved number, where it is one that may be computed again."""
        made = save.stmt
        if not (save.kind == "value" and save.in_loop and save.sid in self.needed and isinstance(made, Assign)):
            return None
        name, value = made.target.name, made.value
        if self.bound[name] != 1 or self.written[name] != 1 or name in self.recomputed:
            return None
        if not isinstance(value, Call) or value.kwargs:
            return None
        number = name in self.numbers and _cheap(value.op.value)
        if not (number or name in self.arrays and self.is_unwritten_item(value)):
            return None
        if not all(isinstance(a, (Var, Const)) for a in value.args):
            return None
        if any(isinstance(a, Var) and a.name in self.recomputed for a in value.args):
            return None
        return made

    def is_unwritten_item(self, value: Call) -> bool:
        """`xs[i]` of an array nothing writes into: read again, it is the same item (an array: a
        number's item is kept, as cheap as reading it again, and its index may not be)."""
        return (value.op.value is operator.getitem and len(value.args) == 2 and isinstance(value.args[0], Var)
                and self.unwritten(value.args[0].name))

    @staticmethod
    def restores_the_array(body: list, made: Assign) -> bool:
        """Whether the trip binds the array an item is read from (restores it): reading the item
        again would keep the whole array where the item was kept."""
        return made.value.args[0].name in {n for s in body for n in _written_in(s)}

    def place(self, body: list, r: int, made: Assign) -> int | None:
        """Where in the trip, before the restore at `r`, the operands hold what they held where
        `made` ran: after the last restore of each before `r`. None where an operand is written
        otherwise in the trip, or restored by a restore the sweep did not need already (it
        would be recorded instead)."""
        at = 0
        for operand in {a.name for a in made.value.args if isinstance(a, Var)}:
            for i, stmt in enumerate(body):
                if operand not in _written_in(stmt):
                    continue
                if not (isinstance(stmt, Restore) and stmt.save.kind == "value" and stmt.save.sid in self.needed):
                    return None
                if i < r:
                    at = max(at, i + 1)
        return at


def _unwritten(primal: list, adjoint: list):
    """Whether a name's object is never written into: where the primal sweep calls only
    operations with rules (no function of the user's, which might write into its argument) and
    none in place (through a view of another name either), the names no in-place call of the
    adjoint sweep writes into."""
    calls = [s.value for s in ir.walk(primal) if isinstance(s, Assign) and isinstance(s.value, Call)]
    if any(ir.is_inplace(c) or not known(c.op.value) for c in calls):
        return lambda name: False
    written = ir.written_into(adjoint)
    return lambda name: name not in written


def known(op: object) -> bool:
    """An operation s2sad has a rule or declared facts for (NumPy's, `math`'s, its own)."""
    return lookup(op) is not None or id(op) in DECLARED


def _cheap(op: object) -> bool:
    """An operation on numbers that is pure and about as cheap as reading it back."""
    if facts(op).effects:
        return False
    return id(op) in _OPERATORS or getattr(op, "__module__", None) == "math" or isinstance(op, np.ufunc)


def _reads_in(stmt: ir.Stmt) -> set[str]:
    return {n for s in ir.walk([stmt]) for n in ir.reads(s)}


def _names_read(stmt: ir.Stmt, name: str) -> list[ir.Stmt]:
    """The statements in `stmt` (itself or nested) that read `name`."""
    return [s for s in ir.walk([stmt]) if name in ir.reads(s)]


def _written_in(stmt: ir.Stmt) -> set[str]:
    return {n for s in ir.walk([stmt]) for n in ir.writes(s)}


def _without_saves(body: list, dropped: set[int]) -> list:
    out = []
    for stmt in body:
        if isinstance(stmt, Save) and stmt.sid in dropped:
            continue
        out.append(ir.rebuild(stmt, lambda b: _without_saves(b, dropped)))
    return out
