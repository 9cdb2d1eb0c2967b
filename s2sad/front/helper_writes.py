"""A user's function that writes into its argument: part of the lowering's fence.

Python's caller sees a callee's in-place write into an argument (`out[0] = v`, `a[:] = ...`,
`a += b` on an array, `items.append(v)`). s2sad copies a parameter written in place on entry
(see `aliasing.check`), and an inactive call's effect is not followed by the derivative, so
where the caller can observe the argument after the call (it reads it, or a view of it, before
rebinding it; it is the caller's own parameter; a container holds it) the call is refused at
the caller's line. A fresh temporary (`h(x * 2.0)`, `h(w.copy())`) and `x = h(x)` are fine:
copy semantics then equal Python's.
"""

from __future__ import annotations

import types
from collections.abc import Callable

from s2sad import runtime
from s2sad.core import ir
from s2sad.core.ir import Assign, Call, Var
from s2sad.core.naming import Namer, runtime_ref
from s2sad.core.targets import params_of
from s2sad.errors import Location, S2SADError, UnsupportedSyntax
from s2sad.front.aliasing import (
    _branches,
    _exclusive,
    _flatten,
    _held_by,
    _rebound_between,
    _sequences,
    _sources,
    _views_of,
)
from s2sad.front.parse import MethodOf, is_user_function

Writes = dict[str, tuple[int, bool]]
"""Parameter -> (the callee's line writing into it, whether only by `p += v`)."""


LowerCallee = Callable[[object], tuple[ir.Function, dict[int, tuple]]]
"""The lowering (`front.lower` hands it in): a callee's IR and its augmented assignments."""


def check_calls(fn: ir.Function, augmented: dict[int, tuple], namer: Namer, lower_callee: LowerCallee) -> list[ir.Stmt]:
    """Refuse a call to a user's function that writes into an argument the caller can observe;
    pass the others a copy (what an active call's derivative does on entry anyway), so that an
    inactive call, which runs the user's own function, leaves the caller's value as the
    derivative reads it (`y = x * c; _ = h(c)`: the adjoint of `y` reads `c`)."""
    flat = _flatten(fn.body)
    branches = _branches(fn.body)
    sources = _sources(fn)
    context = (_sequences(fn), set(augmented))
    memo: dict[int, Writes] = {}
    copied: dict[int, dict[str, tuple | None]] = {}
    for i, (stmt, _) in enumerate(flat):
        fun = _callee(stmt)
        if fun is None:
            continue
        bound = _bound(fun, stmt.value)
        for param, (line, only_augmented) in sorted(param_writes(fun, lower_callee, memo).items()):
            arg = bound.get(param)
            if isinstance(arg, ir.Ref):
                reason = f"{arg.path[0]!r} is a global the caller can see"
            elif isinstance(arg, Var):
                reason = _observable(fn, flat, branches, sources, context, i, arg.name)
            else:
                continue
            shown = _shown(fn, sources, arg, param)
            message, hint = _refusal(fun, param, shown, line, only_augmented, reason or "")
            where = Location.of(fn.filename, stmt.line, fn.lines.get(stmt.line, ""), getattr(fun, "__name__", ""))
            if reason is not None and not only_augmented:
                raise UnsupportedSyntax(message, where, hint=hint)
            if isinstance(arg, Var):
                # `p += v` in the callee makes a new value from a number or tuple: refused when it runs
                # if an array or a list comes (Python would write into it)
                guard = (where.filename, where.line, where.col, where.text, message, hint)
                copied.setdefault(stmt.sid, {})[arg.name] = guard if reason is not None else None
    return _copy_arguments(fn.body, copied, namer)


def _copy_arguments(body: list[ir.Stmt], copied: dict[int, dict[str, tuple | None]], namer: Namer) -> list[ir.Stmt]:
    out: list[ir.Stmt] = []
    for stmt in body:
        if isinstance(stmt, ir.COMPOUND):
            stmt = ir.rebuild(stmt, lambda block: _copy_arguments(block, copied, namer))
        elif stmt.sid in copied:
            copies = {}
            for name, guard in sorted(copied[stmt.sid].items()):
                copies[name] = Var(namer.temp())
                args = (Var(name),) if guard is None else (Var(name), ir.Const(guard))
                helper = "copy_value" if guard is None else "rebindable"
                out.append(Assign(copies[name], Call(runtime_ref(helper), args), stmt.line))
            stmt = Assign(stmt.target, _swap(stmt.value, copies), stmt.line)
        out.append(stmt)
    return out


def param_writes(fun: object, lower_callee: LowerCallee, memo: dict[int, Writes] | None = None,
                 stack: frozenset = frozenset()) -> Writes:
    """The parameters `fun` writes into in place while they still hold the caller's object:
    item and slice writes, `append`/`pop`/`extend`..., `p += v` (in place on an array or a list),
    and passing the parameter (or a view of it) on to another function that writes into it."""
    memo = {} if memo is None else memo
    code = getattr(getattr(fun, "function", fun), "__code__", None)
    if code is None or id(code) in stack or not _lowerable(fun):
        return {}
    if id(code) not in memo:
        memo[id(code)] = _writes_of(fun, lower_callee, memo, stack | {id(code)})
    return memo[id(code)]


def _writes_of(fun: object, lower_callee: LowerCallee, memo: dict[int, Writes], stack: frozenset) -> Writes:
    try:
        fn, augmented = lower_callee(fun)
    except S2SADError:
        return {}  # not lowerable: its own build reports that where it is differentiated
    flat = _flatten(fn.body)
    branches = _branches(fn.body)
    sources = _sources(fn)
    joins = {s.target.name for s in ir.walk(fn.body) if isinstance(s, Assign) and s.sid in augmented}
    params = set(fn.params)
    out: Writes = {}
    for w, (stmt, _) in enumerate(flat):
        if not isinstance(stmt, Assign):
            continue
        written: list[tuple[ir.Atom, bool]] = []
        if ir.is_inplace(stmt.value) and stmt.value.op.value is not _set_attribute():
            written.append((stmt.value.args[0], False))
        elif stmt.sid in augmented:
            written.append((stmt.value.args[0], True))
        elif (inner := _callee(stmt)) is not None:
            bound = _bound(inner, stmt.value)
            written += [(bound.get(q), aug) for q, (_, aug) in param_writes(inner, lower_callee, memo, stack).items()]
        for atom, aug in written:
            if not isinstance(atom, Var):
                continue
            for name in ({atom.name} | (sources(atom.name, frozenset()) or set())) & params:
                if not _rebound_before(flat, branches, name, w, joins):
                    line, was = out.get(name, (stmt.line, True))
                    out[name] = (min(line, stmt.line), was and aug)
    return out


def _rebound_before(flat: list, branches: dict[int, frozenset], name: str, w: int, joins: set[str]) -> bool:
    """Whether `name` is surely bound to a new value before the statement at `w` runs (the
    rebinding `y = t` of a `y += v` does not count: `+=` on an array keeps the object)."""
    target, target_loops = flat[w]
    for b in range(w):
        stmt, loops = flat[b]
        if (isinstance(stmt, Assign) and stmt.target.name == name and not ir.is_inplace(stmt.value)
                and not (isinstance(stmt.value, Var) and stmt.value.name in joins)
                and loops == target_loops[:len(loops)] and branches[stmt.sid] <= branches[target.sid]):
            return True
    return False


def _shown(fn: ir.Function, sources, arg: ir.Atom, param: str) -> str:
    """The caller's name for the argument, for the hint (a temporary's user name where it has one)."""
    if not isinstance(arg, Var):
        return param
    names = [arg.name] if arg.name not in fn.temps else sorted(
        n for n in sources(arg.name, frozenset()) or () if n not in fn.temps)
    return names[0] if names else param


def _swap(call: Call, copies: dict[str, Var]) -> Call:
    def swap(a: ir.Atom) -> ir.Atom:
        return copies.get(a.name, a) if isinstance(a, Var) else a

    return Call(call.op, tuple(swap(a) for a in call.args), tuple((k, swap(a)) for k, a in call.kwargs))


def _observable(fn: ir.Function, flat: list, branches: dict, sources, context: tuple, i: int,
                name: str) -> str | None:
    """Why the caller can see a write into `name` by the call at `i`, or None if it cannot."""
    stmt, loops = flat[i]
    found = sources(name, frozenset())
    if found is None:
        return f"{name!r} may be a global or an item of a loop"
    group = {name} | found
    for owner in list(group):
        group |= _views_of(flat, owner)
    joins = {s.target.name for s, _ in flat if isinstance(s, Assign) and s.sid in context[1]}
    for param in sorted(group & set(fn.params)):
        if not _rebound_before(flat, branches, param, i, joins):
            return f"{param!r} is a parameter of {fn.name}, so its caller would see the write"
    holders = _held_by(flat, i, loops, group, context) - group
    if holders:
        users = sorted(holders - fn.temps)
        return f"it is held by {users[0]!r}" if users else "a container holds it"
    for u, (use, use_loops) in enumerate(flat):
        if u == i or not (u > i or any(span in use_loops for span in loops)) or _exclusive(flat, branches, i, u):
            continue
        for seen in sorted(_reads(use) & group - {stmt.target.name}):
            if not _rebound_between(flat, branches, seen, i, u):
                what = f"{seen!r} is" if seen not in fn.temps else "it (or an array it is a view of) is"
                return f"{what} read afterwards (line {use.line})"
    return None


def _reads(stmt: ir.Stmt) -> set[str]:
    if isinstance(stmt, Assign):
        return {a.name for a in ir.atoms_of(stmt.value) if isinstance(a, Var)}
    return ir.reads(stmt) if isinstance(stmt, (ir.Return, *ir.COMPOUND)) else set()


def _refusal(fun: object, param: str, arg: str, line: int, only_augmented: bool, reason: str) -> tuple[str, str]:
    name = getattr(fun, "__name__", "the function")
    how = "with `+=` (in place on an array or a list)" if only_augmented else "in place"
    message = (f"{name}() writes into its parameter {param!r} {how} (its line {line}), and the caller can see "
               f"the argument after the call: {reason}. s2sad passes it a copy, so the value and the derivative "
               "would not follow the write")
    hint = (f"return the new value and assign it, e.g. `{arg} = {name}({arg}, ...)` with `return {param}` in "
            f"{name}, or pass a copy: `{name}({arg}.copy(), ...)`")
    return message, hint


def _callee(stmt: ir.Stmt) -> object | None:
    if not (isinstance(stmt, Assign) and isinstance(stmt.value, Call)) or ir.is_inplace(stmt.value):
        return None
    op = stmt.value.op.value
    return op if is_user_function(op) and _lowerable(op) else None


def _lowerable(fun: object) -> bool:
    return isinstance(fun, (types.FunctionType, MethodOf)) and not getattr(fun, "__s2sad_generated__", False)


def _bound(fun: object, call: Call) -> dict[str, ir.Atom]:
    bound: dict[str, ir.Atom] = dict(zip(params_of(fun), call.args))
    bound.update(dict(call.kwargs))
    return bound


def _set_attribute():
    return runtime.set_attribute
