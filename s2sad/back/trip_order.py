"""Numbers kept by trip, saved once computed (part of stage 5, optimize; the Python backend).

`analyses.trip_slots` keeps what a trip of a loop over `range(n)` overwrites in a list by
trip, saved before the overwrite and restored at the end of the adjoint sweep's trip, so that
the trip before it sees its value again:

    t4_trips[_] = t4                     (the previous trip's value; None before the first)
    t4 = math.tanh(u)
    ...
    for _ in reversed(t1):
        ... t4 ...
        t4 = t4_trips[_]

Where a trip computes the value before anything in it reads the name, and nothing outside the
two loops reads it, the list can hold each trip's own value instead: saved once computed, read
back at the start of the adjoint sweep's trip, as a person writes the gradient by hand:

    t4 = math.tanh(u)
    t4_trips[_] = t4
    ...
    for _ in reversed(t1):
        t4 = t4_trips[_]
        ... t4 ...

Each trip of the adjoint sweep reads the same values as before; the placeholder `t4 = None`
before the loop, which nothing reads now, goes. Only the Python backend's lists, which hold
numbers (the Numba backend copies arrays into rows, and a copy taken earlier could miss a
later write into the array).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from s2sad import runtime
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Var


@dataclass
class _Kept:
    """The statements of one list kept by trip: the save in the primal loop, the restore in the
    adjoint loop."""

    name: str
    save: tuple[ir.For, int] | None = None
    restore: tuple[ir.For, int] | None = None
    count: int = 0


@dataclass
class _Edits:
    """What moves in one loop: saves to put after a statement (by its index), statements to
    drop, restores to put first."""

    after: dict[int, list[ir.Stmt]] = field(default_factory=dict)
    drop: set[int] = field(default_factory=set)
    first: list[ir.Stmt] = field(default_factory=list)


def save_after_computing(fn: ir.Function) -> ir.Function:
    """`fn` with every list kept by trip that can be (see the module docstring) holding each
    trip's own value."""
    kept = _kept_lists(fn.body)
    if not kept:
        return fn
    reads = _read_counts(fn.body)
    edits: dict[int, _Edits] = {}
    moved: set[str] = set()
    for values, found in kept.items():
        if found.count == 2 and found.save and found.restore and reads[values] == 2:
            if _move(values, found, reads, edits):
                moved.add(found.name)
    if not moved:
        return fn
    body = _rebuild(fn.body, edits, moved)
    return ir.Function(fn.name, fn.params, body, fn.filename, fn.firstline, fn.lines, fn.temps, fn.defaults)


def _kept_lists(body: list[ir.Stmt]) -> dict[str, _Kept]:
    """Every list saved into or restored from by a loop's trip (`v_trips[i] = v`,
    `v = trip_value(v_trips, i)` with `i` the loop's target), by the list's name."""
    kept: dict[str, _Kept] = {}
    for loop in (s for s in ir.walk(body) if type(s) is ir.For):
        for k, stmt in enumerate(loop.body):
            if type(stmt) is not Assign or type(stmt.value) is not Call:
                continue
            value, args = stmt.value, stmt.value.args
            if value.op.value is runtime.setitem and len(args) == 3 and args[1] == loop.target and all(
                    type(a) is Var for a in args) and args[0].name == stmt.target.name:
                entry = kept.setdefault(args[0].name, _Kept(args[2].name))
                entry.save, entry.count = (loop, k), entry.count + 1
                if entry.name != args[2].name:
                    entry.count += 2  # (two names in one list: left alone)
            elif value.op.value is runtime.trip_value and len(args) == 2 and args[1] == loop.target and type(
                    args[0]) is Var:
                entry = kept.setdefault(args[0].name, _Kept(stmt.target.name))
                entry.restore, entry.count = (loop, k), entry.count + 1
                if entry.name != stmt.target.name:
                    entry.count += 2
    return kept


def _read_counts(body: list[ir.Stmt]) -> Counter:
    return Counter(n for s in ir.walk(body) for n in ir.reads(s))


def _move(values: str, found: _Kept, reads: Counter, edits: dict[int, _Edits]) -> bool:
    """Plan the move of one list's save and restore, where it is exact."""
    (fwd, p), (bwd, r) = found.save, found.restore
    name = found.name
    if fwd is bwd or name in (fwd.target.name, bwd.target.name):
        return False
    q = _computed_at(fwd.body, p, name)
    if q is None or not _read_before_restore(bwd.body, r, name):
        return False
    if _read_counts(fwd.body)[name] + _read_counts(bwd.body)[name] != reads[name]:
        return False  # read outside the two loops: it sees the value the loops leave
    fwd_edits = edits.setdefault(fwd.sid, _Edits())
    fwd_edits.drop.add(p)
    fwd_edits.after.setdefault(q, []).append(fwd.body[p])
    bwd_edits = edits.setdefault(bwd.sid, _Edits())
    bwd_edits.drop.add(r)
    bwd_edits.first.append(bwd.body[r])
    return True


def _computed_at(body: list[ir.Stmt], p: int, name: str) -> int | None:
    """The index of the one statement of the loop's body that binds `name`, a plain assignment
    after the save at `p`, where nothing before it but the save reads `name`."""
    binds = [k for k, stmt in enumerate(body) if name in _bound(stmt)]
    if len(binds) != 1 or binds[0] <= p or type(body[binds[0]]) is not Assign:
        return None
    q = binds[0]
    if any(name in _deep_reads(stmt) for k, stmt in enumerate(body[: q + 1]) if k != p):
        return None
    return q


def _read_before_restore(body: list[ir.Stmt], r: int, name: str) -> bool:
    """Nothing in the adjoint loop's body binds `name` but the restore at `r`, and nothing
    after the restore reads it."""
    return (all(name not in _bound(stmt) for k, stmt in enumerate(body) if k != r)
            and all(name not in _deep_reads(stmt) for stmt in body[r + 1:]))


def _bound(stmt: ir.Stmt) -> set[str]:
    return {n for s in ir.walk([stmt]) for n in ir.writes(s)}


def _deep_reads(stmt: ir.Stmt) -> set[str]:
    return {n for s in ir.walk([stmt]) for n in ir.reads(s)}


def _rebuild(body: list[ir.Stmt], edits: dict[int, _Edits], moved: set[str]) -> list[ir.Stmt]:
    """The body with the planned edits made, and the placeholders `v = None` of the moved
    names outside the edited loops gone (nothing reads them)."""
    out: list[ir.Stmt] = []
    for stmt in body:
        if type(stmt) is Assign:
            if not (stmt.target.name in moved and type(stmt.value) is Const and stmt.value.value is None):
                out.append(stmt)
        elif type(stmt) is ir.For and stmt.sid in edits:
            out.append(ir.For(stmt.target, stmt.iter, _edited(stmt.body, edits[stmt.sid]), stmt.line))
        else:
            out.append(ir.rebuild(stmt, lambda block: _rebuild(block, edits, moved)))
    return out


def _edited(body: list[ir.Stmt], edit: _Edits) -> list[ir.Stmt]:
    out = list(edit.first)
    for k, stmt in enumerate(body):
        if k not in edit.drop:
            out.append(stmt)
        out += edit.after.get(k, [])
    return out
