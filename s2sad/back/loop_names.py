"""A temporary each of two loops computes for itself, named apart (part of stage 5, optimize).

Reverse mode computes some numbers again in the adjoint sweep rather than record them
(`transforms/recompute.py`): `t3 = math.sin(s)` in the primal loop and again in the adjoint's.
Under one name the temporary is read twice in the function, so the emitter, which folds a
temporary read once into the expression that reads it, keeps both as statements. Where each
of two loops binds the temporary at the top level of its body before any read of it there,
and nothing outside the two loops reads it, the binding in the second loop gets a name of its
own: the two are separate values (no trip reads another trip's, no code after a loop reads
either), so the renaming changes nothing that is computed, and each folds into its one read,
`s = s * 0.99 + math.sin(s) * x`, as a person writes it.
"""

from __future__ import annotations

from collections import Counter

from s2sad.core import ir
from s2sad.core.ir import Assign, Var
from s2sad.core.naming import Namer


def name_loop_temps_apart(fn: ir.Function, namer: Namer, temps: set[str]) -> ir.Function:
    """`fn` with each temporary (a name in `temps` or made by `namer`) that two loops compute for
    themselves renamed in the second."""
    loops = [s for s in ir.walk(fn.body) if type(s) is ir.For
             and not any(type(inner) is ir.Guard for inner in ir.walk(s.body))]  # (plain blocks only)
    if len(loops) < 2:
        return fn
    reads = Counter(n for s in ir.walk(fn.body) for n in ir.reads(s))
    binds = Counter(n for s in ir.walk(fn.body) for n in ir.writes(s))
    renames: dict[int, dict[str, str]] = {}
    for name in sorted(n for n, count in binds.items() if count == 2 and (n in namer.temps or n in temps)
                       and n not in fn.params):
        owners = [loop for loop in loops if _binds_first(loop.body, name)]
        if len(owners) == 2 and owners[0] is not owners[1] and _reads_within(owners, name) == reads[name]:
            renames.setdefault(owners[1].sid, {})[name] = namer.temp()
    if not renames:
        return fn
    body = _renamed_loops(fn.body, renames)
    return ir.Function(fn.name, fn.params, body, fn.filename, fn.firstline, fn.lines, fn.temps, fn.defaults, fn.tape)


def _binds_first(body: list[ir.Stmt], name: str) -> bool:
    """A plain assignment at the top of `body` binds `name`, and nothing before it reads or
    binds it (nested blocks included)."""
    for stmt in body:
        if type(stmt) is Assign and stmt.target.name == name and not ir.is_inplace(stmt.value):
            return name not in ir.reads(stmt)
        if any(name in ir.reads(s) or name in ir.writes(s) for s in ir.walk([stmt])):
            return False
    return False


def _reads_within(loops: list[ir.For], name: str) -> int:
    return sum(1 for loop in loops for s in ir.walk(loop.body) for n in ir.reads(s) if n == name)


def _renamed_loops(body: list[ir.Stmt], renames: dict[int, dict[str, str]]) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    for stmt in body:
        if type(stmt) is ir.For and stmt.sid in renames:
            mapping = renames[stmt.sid]
            stmt = ir.For(stmt.target, stmt.iter, [_rename(s, mapping) for s in stmt.body], stmt.line)
        elif type(stmt) is not Assign:
            stmt = ir.rebuild(stmt, lambda block: _renamed_loops(block, renames))
        out.append(stmt)
    return out


def _rename(stmt: ir.Stmt, mapping: dict[str, str]) -> ir.Stmt:
    """`stmt` with the names in `mapping` bound and read under their new names."""
    if type(stmt) is Assign:
        target = Var(mapping.get(stmt.target.name, stmt.target.name))
        return Assign(target, _renamed_value(stmt.value, mapping), stmt.line)
    if type(stmt) is ir.Return:
        return ir.Return(_renamed_value(stmt.value, mapping), stmt.line)
    if type(stmt) is ir.If:
        return ir.If(_atom(stmt.test, mapping), [_rename(s, mapping) for s in stmt.body],
                     [_rename(s, mapping) for s in stmt.orelse], stmt.line)
    if type(stmt) is ir.For:
        return ir.For(stmt.target, _atom(stmt.iter, mapping), [_rename(s, mapping) for s in stmt.body], stmt.line)
    if type(stmt) is ir.While:
        return ir.While([_rename(s, mapping) for s in stmt.test_body], _atom(stmt.test, mapping),
                        [_rename(s, mapping) for s in stmt.body], stmt.line)
    raise ir.unknown(stmt, "loop_names")


def _renamed_value(value: ir.Expr, mapping: dict[str, str]) -> ir.Expr:
    if type(value) is ir.Call:
        if not (value.names or frozenset()) & mapping.keys() and value.names is not None:
            return value
        return ir.Call(value.op, tuple(_atom(a, mapping) for a in value.args),
                       tuple((k, _atom(a, mapping)) for k, a in value.kwargs))
    if type(value) is ir.Pack:
        return ir.Pack(tuple(_atom(a, mapping) for a in value.items))
    return _atom(value, mapping)


def _atom(atom: ir.Atom, mapping: dict[str, str]) -> ir.Atom:
    return Var(mapping[atom.name]) if type(atom) is Var and atom.name in mapping else atom
