"""Constants a loop keeps, read as constants instead (part of stage 5, optimize).

Reverse mode keeps what a loop's trip overwrites: a temporary bound in the loop is saved before
each trip binds it (`tape.append(t3_shape)`, or `t3_shape_trips[i] = t3_shape`), with a `None`
placeholder before the loop for the first trip's save to read, and restored after the trip's
adjoint. Where the arguments' shapes are known, a temporary that holds a shape for the adjoint
(`t3_shape = shape_of(t2)`, read by `unbroadcast_to`) is a constant, `t3_shape = (6,)`, the
same in every trip: every value the adjoint reads is that constant (the placeholder is read by
the first save only). The saves, the restores and the placeholder then go, and each read of
the temporary reads the constant, so that the adjoint's `unbroadcast_to(g, (6,))` specialises
as any other (to nothing where the shapes are equal) and the Numba backend has no list of
tuples to keep.

A name s2sad made only (a temporary, or `acc_shape`, bound after each binding of `acc`: read
after a binding, never the placeholder), not the user's own (a `None` the user bound may be
read); each of its saves must have its restore (as many pushes of the name as pops into it, a list by
trip that holds it and nothing else), else nothing changes.
"""

from __future__ import annotations

import operator
from collections import Counter

from s2sad import runtime
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Const, Var

_CONSTANTS = (tuple, int, float, bool)


def drop_kept_constants(body: list[ir.Stmt], given: frozenset[str]) -> list[ir.Stmt]:
    """`body` with each name s2sad made (not in `given`, the user's) that a loop keeps and that
    is one constant wherever it is computed read as that constant, its saves, restores and
    placeholder gone."""
    restored = {s.target.name for s in ir.walk(body) if type(s) is Assign and _is_restore(s.value)} - given
    if not restored:
        return body  # (straight-line code: nothing kept)
    bindings: dict[str, list[ir.Expr]] = {}
    for stmt in ir.walk(body):
        if type(stmt) is Assign and stmt.target.name in restored:
            bindings.setdefault(stmt.target.name, []).append(stmt.value)
        elif type(stmt) is ir.For and stmt.target.name in restored:
            bindings.setdefault(stmt.target.name, []).append(Var("?"))
    constants = {name: c for name in sorted(bindings) if (c := _constant(bindings[name])) is not None}
    paired = _paired(body, set(constants), _private(body)) if constants else set()
    found = {name: c for name, c in constants.items() if name in paired}
    if not found:
        return body
    rewritten = _rewritten(body, found)
    if any(not found.keys().isdisjoint(ir.reads(s)) for s in ir.walk(rewritten)):
        return body  # a statement of a kind not rewritten reads one
    return rewritten


def drop_unread_kept(body: list[ir.Stmt]) -> list[ir.Stmt]:
    """`body` without the saves and restores of a name that nothing reads but its own saves (a
    tuple taken apart as soon as it is built, `pair = (t7, t9)`, kept for an adjoint that reads
    its items instead): its value is never used, so keeping it is work for nothing. Its
    bindings stay, for the optimizer's dead-code pass to weigh."""
    saves: Counter = Counter(save[1] for s in ir.walk(body) if (save := _saved(s)) is not None)
    if not saves:
        return body  # (straight-line code: nothing kept)
    readers: dict[str, int] = Counter(n for s in ir.walk(body) for n in ir.reads(s) if n in saves)
    candidates = {n for n, count in saves.items() if readers[n] == count}
    private = _private(body) if candidates else set()
    unread = _paired(body, candidates, private) if candidates else set()
    if not unread:
        return body
    body = _without_kept(body, unread)
    still = {n for s in ir.walk(body) for n in ir.reads(s)}
    return _without_lists(body, private - still)  # (the Numba backend cannot type a list never filled)


def _without_lists(body: list[ir.Stmt], names: set[str]) -> list[ir.Stmt]:
    """`body` without the bindings of the tapes and lists in `names` (which nothing reads)."""
    if not names:
        return body
    return [ir.rebuild(s, lambda block: _without_lists(block, names)) if isinstance(s, ir.COMPOUND) else s
            for s in body if not (type(s) is Assign and s.target.name in names)]


def _without_kept(body: list[ir.Stmt], names: set[str]) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            out.append(ir.rebuild(stmt, lambda block: _without_kept(block, names)))
            continue
        save = _saved(stmt)
        if save is not None and save[1] in names:
            continue
        if type(stmt) is Assign and stmt.target.name in names and _is_restore(stmt.value):
            continue
        out.append(stmt)
    return out


def _constant(values: list[ir.Expr]) -> Const | None:
    """The one constant among `values` besides restores and `None`, where there is a restore."""
    restores = [v for v in values if _is_restore(v)]
    others = {(type(v.value), v.value) for v in values if type(v) is Const and v.value is not None}
    if not restores or len(others) != 1 or len(restores) + sum(1 for v in values if type(v) is Const) != len(values):
        return None
    kind, value = next(iter(others))
    return Const(value) if kind in _CONSTANTS and value == value else None


def _is_restore(value: ir.Expr) -> bool:
    return type(value) is Call and (value.op.value is runtime.tape_pop or value.op.value is runtime.trip_value)


def _paired(body: list[ir.Stmt], names: set[str], private: set[str]) -> set[str]:
    """Those of `names` each save of which has a restore into the name from the same list (a
    tape, or a list by trip that holds that name's values alone), each list one of `private`.
    One walk over `body`."""
    counts: dict[str, Counter] = {}
    holders: dict[str, set[str]] = {}  # list by trip -> the names saved into it
    for stmt in ir.walk(body):
        save = _saved(stmt)
        if save is not None:
            holders.setdefault(save[2], set()).add(save[1])
            if save[1] in names:
                counts.setdefault(save[1], Counter())[save[2]] += 1
        elif type(stmt) is Assign and stmt.target.name in names and _is_restore(stmt.value):
            values = stmt.value.args[0]
            counts.setdefault(stmt.target.name, Counter())[values.name if type(values) is Var else "?"] -= 1
    return {name for name, found in counts.items()
            if not any(found.values()) and found.keys() <= private
            and all(holders.get(lst, set()) <= {name} for lst in found if lst.endswith("_trips"))}


def _private(body: list[ir.Stmt]) -> set[str]:
    """The tapes and lists by trip that the code makes (`tape = []`, `v_trips = seed * trips`)
    and uses for nothing but saves and restores: taking a name's saves and restores out of one
    changes nothing else that reads it."""
    made: dict[str, bool] = {}
    for stmt in ir.walk(body):
        if type(stmt) is Assign:
            value, name = stmt.value, stmt.target.name
            made_here = type(value) is Call and (value.op.value is runtime.make_list and not value.args
                                                 or value.op.value is operator.mul and name.endswith("_trips"))
            made[name] = made.get(name, True) and (made_here or _saved(stmt) is not None)
    private = {name for name, ok in made.items() if ok}
    for stmt in ir.walk(body):
        used = ir.reads(stmt) & private
        if not used:
            continue
        save = _saved(stmt)
        restore = type(stmt) is Assign and _is_restore(stmt.value) and type(stmt.value.args[0]) is Var
        allowed = {save[2]} if save is not None else {stmt.value.args[0].name} if restore else set()
        if isinstance(stmt, ir.COMPOUND) or used - allowed or save is not None and save[1] in private:
            private -= used
    return private


def _saved(stmt: ir.Stmt) -> tuple[str, str, str] | None:
    """("tape", name, tape) for `tape.append(name)`, ("trip", name, list) for `list[i] = name`
    into a list kept by trip; else None."""
    value = stmt.value if type(stmt) is Assign else None
    if type(value) is not Call or not value.args or value.args[0] != stmt.target or type(value.args[-1]) is not Var:
        return None
    if value.op.value is runtime.list_append and len(value.args) == 2:
        return "tape", value.args[1].name, stmt.target.name
    if value.op.value is runtime.setitem and len(value.args) == 3 and stmt.target.name.endswith("_trips"):
        return "trip", value.args[2].name, stmt.target.name
    return None


def _rewritten(body: list[ir.Stmt], found: dict[str, Const]) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            stmt = ir.rebuild(stmt, lambda block: _rewritten(block, found))
            out.append(_read_as(stmt, found))
            continue
        save = _saved(stmt)
        if save is not None and save[1] in found:
            continue
        if type(stmt) is Assign and stmt.target.name in found:
            continue  # a restore, the placeholder, or the binding itself (every read reads the constant)
        out.append(_read_as(stmt, found))
    return out


def _read_as(stmt: ir.Stmt, found: dict[str, Const]) -> ir.Stmt:
    """`stmt` reading each name of `found` as its constant (a compound statement's own test or iterable)."""
    if isinstance(stmt, ir.COMPOUND):
        for field in ("test", "iter"):
            atom = getattr(stmt, field, None)
            if type(atom) is Var and atom.name in found:
                setattr(stmt, field, found[atom.name])
        return stmt
    if found.keys().isdisjoint(ir.reads(stmt)):
        return stmt
    if type(stmt) is Assign:
        return Assign(stmt.target, _expr(stmt.value, found), stmt.line)
    if type(stmt) is ir.Return:
        return ir.Return(_expr(stmt.value, found), stmt.line)
    return stmt


def _expr(expr: ir.Expr, found: dict[str, Const]) -> ir.Expr:
    swap = lambda a: found.get(a.name, a) if type(a) is Var else a  # noqa: E731
    if type(expr) is Call:
        return Call(expr.op, tuple(swap(a) for a in expr.args), tuple((k, swap(a)) for k, a in expr.kwargs))
    if type(expr) is ir.Pack:
        return ir.Pack(tuple(swap(a) for a in expr.items))
    return swap(expr)


__all__ = ["drop_kept_constants", "drop_unread_kept"]
