"""Analysis, to be recorded: the numbers one loop trip puts on the tape together.

In a loop such as `s = sin(s) * 1.5; t = tanh(s); e = exp(t)`, reverse mode keeps the old `s`,
`t` and `e` of each trip: three `tape.append` in the primal sweep, three `tape.pop()` in the
adjoint sweep. Where saves of numbers follow one another in a block, with no other tape
operation between them, and no saved variable is bound again between the first save and its
own, every value is already known at the first save: one tuple goes on the tape there
(`tape.append((s, t, e))`). The adjoint sweep restores them in the reverse order, one block
with no other pop between: it takes the tuple back where it restored the last of them
(`s_, t_, e = tape.pop()`) and binds the others where it restored each. A tuple and one pop a
trip cost less than an append and a pop a value (about a tenth of a scalar loop's gradient).

Numbers only (names whose shape class is a scalar wherever they are bound): the tuple holds
the objects themselves, and no number is written in place, so a restored value is the one
saved, whatever the sweep does after.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from s2sad.core import ir
from s2sad.core.ir import Restore, Save
from s2sad.core.naming import Namer


@dataclass
class Group:
    """Saves of numbers kept as one tuple on the tape."""

    saves: list[Save]
    """In the order of the primal sweep: the tuple's items."""
    entry: str
    """The name the adjoint sweep binds the tuple to."""
    parts: dict[int, str] = field(default_factory=dict)
    """The names holding the items restored after the tuple is taken back (by the save's `sid`)."""


def groups(primal: list[ir.Stmt], adjoint: list[ir.Stmt], needed: set[int], numbers: set[str],
           namer: Namer) -> dict[int, Group]:
    """The groups of two or more saves (each by the `sid` of every save in it); `needed`, the
    saves the adjoint sweep reads; `numbers`, the names that hold numbers."""
    restores = _restore_positions(adjoint)
    found: dict[int, Group] = {}
    for run in _runs(primal, needed, numbers):
        if len(run) > 1 and _popped_together(run, restores, needed):
            group = Group(run, namer.temp())
            group.parts = {s.sid: namer.temp() for s in run[:-1]}
            found.update((s.sid, group) for s in run)
    return found


def on_tape(save: Save, needed: set[int]) -> bool:
    """The save pushes onto the tape (and its restore pops it): kept, in a loop, and not a list's
    own append or pop (undone on the list itself)."""
    return save.sid in needed and save.in_loop and save.kind not in ("append", "pop")


def _runs(body: list[ir.Stmt], needed: set[int], numbers: set[str]) -> list[list[Save]]:
    """The maximal runs of saves of numbers in each block whose values are known at the first."""
    runs: list[list[Save]] = []
    run: list[Save] = []
    bound: set[str] = set()
    for stmt in body:
        if isinstance(stmt, Save):
            if not on_tape(stmt, needed):
                continue
            if stmt.kind != "value" or stmt.name not in numbers or stmt.name in bound:
                runs.append(run)
                run, bound = [], set()
                if stmt.kind != "value" or stmt.name not in numbers:
                    continue
            run.append(stmt)
            continue
        inside = [s for child in ir.children(stmt) for s in ir.walk(child)]
        if any(isinstance(s, Save) and on_tape(s, needed) for s in inside):
            runs.append(run)
            run, bound = [], set()
        for child in ir.children(stmt):
            runs += _runs(child, needed, numbers)
        bound |= ir.writes(stmt) | {n for s in inside for n in ir.writes(s)}
    return runs + [run]


def _restore_positions(adjoint: list[ir.Stmt]) -> dict[int, tuple[list[ir.Stmt], int]]:
    """Where each restore stands: its block and its index there (by its save's `sid`)."""
    where: dict[int, tuple[list[ir.Stmt], int]] = {}

    def visit(body: list[ir.Stmt]) -> None:
        for i, stmt in enumerate(body):
            if isinstance(stmt, Restore):
                where[stmt.save.sid] = (body, i)
            for child in ir.children(stmt):
                visit(child)

    visit(adjoint)
    return where


def _popped_together(run: list[Save], restores: dict, needed: set[int]) -> bool:
    """The run's restores stand in one block, in the reverse order, with no other pop between."""
    if any(s.sid not in restores for s in run):
        return False
    blocks = {id(restores[s.sid][0]) for s in run}
    at = [restores[s.sid][1] for s in run]
    if len(blocks) != 1 or any(a <= b for a, b in zip(at, at[1:])):
        return False
    body, own = restores[run[0].sid][0], {s.sid for s in run}
    for stmt in ir.walk(body[at[-1] + 1:at[0]]):
        if isinstance(stmt, Restore) and stmt.save.sid not in own and on_tape(stmt.save, needed):
            return False
    return True
