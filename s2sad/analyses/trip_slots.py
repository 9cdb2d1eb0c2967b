"""Analysis, to be recorded: numbers a `for` loop over `range(n)` keeps in lists indexed by trip.

Reverse mode keeps what a loop trip overwrites on a tape: `tape.append(s)` in the primal sweep,
`s = tape.pop()` in the adjoint sweep. Where the loop is `for i in range(n)` (one argument: `i`
counts the trips from 0) and stands in no other loop, the number of trips is known before the
loop runs, and `i` says which trip is running, in the primal sweep and in the adjoint sweep
(which replays `reversed(range(n))`). A number the trip saves then goes in a list of its own,
made before the loop: `s_trips = [None] * len(t1)`, `s_trips[i] = s`, and back as
`s = s_trips[i]`, as a person writes the gradient by hand. An indexed store and read cost less
than a list's `append` and `pop`, and the lists hold what the tape did (one slot a value).

Numbers only (names whose shape class is a scalar wherever they are bound): the adjoint sweep
never writes into what it reads back, so the lists stay as the primal sweep left them and a
pullback can run again on the same residuals. For the Numba backend, also arrays of one known
shape: its storage (`np.empty((trips, *shape))`, see `back.jit`) copies each into its row, as
the tape would have kept it. `i` must not be bound in the loop's body.
"""

from __future__ import annotations

import builtins
import operator
from collections import Counter
from dataclasses import dataclass

from s2sad import runtime
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Save, Var
from s2sad.core.naming import Namer


@dataclass(frozen=True)
class Slot:
    """Where a save in a loop over `range(n)` keeps its value: `values[index]`."""

    values: str
    """The list, made before the loop, with one slot a trip."""
    index: Var
    """The loop's target: the trip, counted from 0."""


def trip_slots(primal: list[ir.Stmt], needed: set[int], numbers: set[str],
               namer: Namer) -> tuple[dict[int, Slot], dict[int, list[str]]]:
    """The slot of each save kept this way (by the save's `sid`), and the lists to make before
    each loop (by the loop's `sid`)."""
    bound = Counter(s.target.name for s in ir.walk(primal) if isinstance(s, (Assign, ir.For)))
    ranges = {s.target.name for s in ir.walk(primal) if _one_range(s) and bound[s.target.name] == 1}
    slots: dict[int, Slot] = {}
    lists: dict[int, list[str]] = {}
    for loop in _outer_loops(primal):
        if not (isinstance(loop.iter, Var) and loop.iter.name in ranges):
            continue
        if any(loop.target.name in ir.writes(s) for s in ir.walk(loop.body)):
            continue  # the body binds the target: it no longer says which trip is running
        for save in _trip_saves(loop.body):
            if save.sid in needed and save.in_loop and save.kind == "value" and save.name in numbers:
                slot = Slot(_list_name(namer, save.name), loop.target)
                slots[save.sid] = slot
                lists.setdefault(loop.sid, []).append(slot.values)
    return slots, lists


def _list_name(namer: Namer, name: str) -> str:
    """`{name}_trips`, else `{name}2_trips`, ...: a free name ending in `_trips`, which is how the
    optimizer and the Numba backend know a list kept by trip (a second list for one name, where
    the loop saves it twice, too)."""
    candidate, k = f"{name}_trips", 1
    while candidate in namer.taken:
        k += 1
        candidate = f"{name}{k}_trips"
    return namer.reserve(candidate)


def _one_range(stmt: ir.Stmt) -> bool:
    """`t = range(n)`: a range that counts from 0 by 1."""
    value = stmt.value if isinstance(stmt, Assign) else None
    return (isinstance(value, Call) and value.op.value is builtins.range and len(value.args) == 1
            and not value.kwargs)


def _outer_loops(body: list[ir.Stmt]) -> list[ir.For]:
    """The `for` loops that stand in no other loop."""
    found: list[ir.For] = []
    for stmt in body:
        if isinstance(stmt, ir.For):
            found.append(stmt)
        elif not isinstance(stmt, ir.While):
            for child in ir.children(stmt):
                found += _outer_loops(child)
    return found


def _trip_saves(body: list[ir.Stmt]) -> list[Save]:
    """The saves of a loop's body that each trip runs at most once (not those of inner loops)."""
    found: list[Save] = []
    for stmt in body:
        if isinstance(stmt, Save):
            found.append(stmt)
        elif not isinstance(stmt, (ir.For, ir.While)):
            for child in ir.children(stmt):
                found += _trip_saves(child)
    return found


def trip_list_seeds(body: list[ir.Stmt]) -> set[str]:
    """Names bound to `[None]` that only seed a trip list (`v = seed * trips`), once the
    recorder has made the lists (for the backends that read them: `back.jit`)."""
    return {s.target.name for s in ir.walk(body) if isinstance(s, Assign) and isinstance(s.value, Call)
            and s.value.op.value is runtime.make_list and s.value.args == (Const(None),)}


def is_trip_list(value: ir.Expr, seeds: set[str]) -> bool:
    """`seed * trips`: a trip list made (`seeds`: see `trip_list_seeds`)."""
    return (isinstance(value, Call) and value.op.value is operator.mul and len(value.args) == 2
            and isinstance(value.args[0], Var) and value.args[0].name in seeds)
